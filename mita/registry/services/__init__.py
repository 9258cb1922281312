"""Writes about organisations, one module per part: organisations, licences (and onboarding), clusters, contracts."""

from mita.registry.services.organisations import boundaries_seed, operator_create, regulator_set

__all__ = ["boundaries_seed", "operator_create", "regulator_set"]
