"""The licensing system (CLMS): the licence client, and a fake CLMS speaking the same protocol for the demo and tests."""
