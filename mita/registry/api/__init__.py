"""The registry's API: one router per part, joined here."""

from ninja import Router

from mita.registry.api import organisations

router = Router()
router.add_router("/", organisations.router)
