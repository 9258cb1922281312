"""API of metering: imports."""

from ninja import Router

router = Router(tags=["metering"])
