"""M-Pesa through Safaricom's Daraja API: the protocol's payloads, a client, and a fake Daraja on loopback."""
