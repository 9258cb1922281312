"""API of metering: review."""

from ninja import Router

router = Router(tags=["metering"])
