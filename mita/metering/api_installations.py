"""API of metering: installations."""

from ninja import Router

router = Router(tags=["metering"])
