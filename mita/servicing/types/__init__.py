"""The request types: each module declares one and registers it (loaded by ServicingConfig.ready())."""
