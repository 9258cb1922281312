"""The registry's API: one router per part, joined here."""

from ninja import Router

from mita.registry.api import clusters, contracts, onboarding, organisations

router = Router()
router.add_router("/", organisations.router)
router.add_router("/", onboarding.router)
router.add_router("/", clusters.router)
router.add_router("/", contracts.router)
