"""Hosted-checkout payment gateways: the customer pays on the gateway's page, the gateway tells us, we verify."""
