"""Clients for outside systems, one package per system, each with a fake that speaks its protocol on loopback."""
