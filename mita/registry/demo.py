"""The registry's part of the demo deployment (filled in below by the demo builder)."""
