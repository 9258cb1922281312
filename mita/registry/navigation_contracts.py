"""Home cards for contracts and the start-of-operations checklist, with badges of what waits for the user."""

from django.utils.translation import gettext_lazy as _

from mita.accounts.roles import Role
from mita.core.access import Access
from mita.core.navigation import Card, register_card
from mita.registry.selectors_contracts import (
    CONTRACT_READ_ROLES,
    REQUIREMENT_READ_ROLES,
    contracts_waiting_for_verification_count,
    district_operators_not_cleared_count,
)


def _operators_not_cleared(access: Access) -> int | None:
    """A district officer's operators that are not yet cleared to operate in the district."""
    district = getattr(access, "district", None)
    if district is None or not access.has_role(Role.DISTRICT_OFFICER):
        return None
    return district_operators_not_cleared_count(district=district)


def _contracts_to_verify(access: Access) -> int | None:
    """For the regulator's admins: the national utility's contracts waiting for verification."""
    if not access.has_role(Role.REGULATOR_ADMIN):
        return None
    return contracts_waiting_for_verification_count()


register_card(
    Card(
        key="registry.district",
        title=_("My district"),
        description=_("The district's operators, their checklists before starting operations, and their contracts."),
        url_name="registry:district_home",
        roles=frozenset({Role.DISTRICT_OFFICER}),
        order=20,
        badge=_operators_not_cleared,
    )
)
register_card(
    Card(
        key="registry.contracts_to_verify",
        title=_("Contracts to verify"),
        description=_("Contracts the national utility submitted, waiting for you to verify or reject them."),
        url_name="registry:contract_pending_list",
        roles=frozenset({Role.REGULATOR_ADMIN}),
        order=21,
        badge=_contracts_to_verify,
    )
)
register_card(
    Card(
        key="registry.contracts",
        title=_("Contracts"),
        description=_("Contracts with operators, their status and their PDF."),
        url_name="registry:contract_list",
        roles=frozenset(CONTRACT_READ_ROLES),
        order=22,
    )
)
register_card(
    Card(
        key="registry.requirements",
        title=_("Checklist before operations"),
        description=_("What an operator must meet in a district before it starts operations."),
        url_name="registry:requirement_list",
        roles=frozenset(REQUIREMENT_READ_ROLES),
        order=23,
    )
)
