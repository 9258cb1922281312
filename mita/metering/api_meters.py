"""API of metering: meters."""

from ninja import Router

router = Router(tags=["metering"])
