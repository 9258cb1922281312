"""API of metering: field."""

from ninja import Router

router = Router(tags=["metering"])
