"""API of metering: readings."""

from ninja import Router

router = Router(tags=["metering"])
