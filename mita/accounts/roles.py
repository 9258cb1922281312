"""Roles, and the kind of organisation each is held at."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    REGULATOR = "regulator", _("Regulator")
    DISTRICT = "district", _("District")
    OPERATOR = "operator", _("Operator")


class Role(models.TextChoices):
    REGULATOR_ADMIN = "regulator_admin", _("Regulator admin")
    REGULATOR_VIEWER = "regulator_viewer", _("Regulator viewer")
    DISTRICT_OFFICER = "district_officer", _("District officer")
    NATIONAL_UTILITY_USER = "national_utility_user", _("National utility user")
    OPERATOR_ADMIN = "operator_admin", _("Operator admin")
    BILLING_OFFICER = "billing_officer", _("Billing officer (meter reader)")
    REVENUE_COLLECTOR = "revenue_collector", _("Revenue collector")
    CASHIER = "cashier", _("Cashier")
    TREASURER = "treasurer", _("Treasurer")
    STOREKEEPER = "storekeeper", _("Storekeeper")
    TECHNICIAN = "technician", _("Technician")
    CUSTOMER_CARE = "customer_care", _("Customer care")
    COMMITTEE_VIEWER = "committee_viewer", _("Committee viewer")


ROLE_SCOPE: dict[str, str] = {
    Role.REGULATOR_ADMIN: Scope.REGULATOR,
    Role.REGULATOR_VIEWER: Scope.REGULATOR,
    # The national utility submits contracts to the regulator: a national-level role (docs/roles.md).
    Role.NATIONAL_UTILITY_USER: Scope.REGULATOR,
    Role.DISTRICT_OFFICER: Scope.DISTRICT,
}
for _role in Role:
    ROLE_SCOPE.setdefault(_role, Scope.OPERATOR)

REGULATOR_ROLES = frozenset({Role.REGULATOR_ADMIN, Role.REGULATOR_VIEWER})
OPERATOR_ROLES = frozenset(role for role, scope in ROLE_SCOPE.items() if scope == Scope.OPERATOR)
ADMIN_ROLES = frozenset({Role.REGULATOR_ADMIN, Role.OPERATOR_ADMIN})
ALL_ROLES = frozenset(Role)
