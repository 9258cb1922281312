"""API for the outbox."""

from ninja import Router

router = Router(tags=["notifications"])
