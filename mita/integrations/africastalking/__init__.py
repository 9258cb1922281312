"""Africa's Talking: the bulk SMS client, and a fake server speaking the same protocol for the demo and tests."""
