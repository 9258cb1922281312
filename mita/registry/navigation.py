"""The registry's home cards and search."""

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from mita.accounts.roles import OPERATOR_ROLES, Role
from mita.core.access import Access
from mita.core.navigation import Card, register_card
from mita.core.search import SearchHit, register_search
from mita.registry.selectors import operators_visible_to


def _search_operators(access: Access, query: str) -> list[SearchHit]:
    if not access.has_role(Role.REGULATOR_ADMIN, Role.REGULATOR_VIEWER, Role.DISTRICT_OFFICER):
        return []
    operators = operators_visible_to(access).filter(Q(name__icontains=query) | Q(prefix__iexact=query))[:10]
    return [
        SearchHit(
            kind=str(_("Operator")),
            title=operator.name,
            subtitle=operator.prefix,
            url=reverse("registry:operator_detail", args=[operator.pk]),
        )
        for operator in operators
    ]


register_card(
    Card(
        key="registry.operators",
        title=_("Operators"),
        description=_("Every operator you oversee, with its districts."),
        url_name="registry:operator_list",
        roles=frozenset({Role.REGULATOR_ADMIN, Role.REGULATOR_VIEWER, Role.DISTRICT_OFFICER}),
        order=10,
    )
)
register_search("registry.operators", _search_operators)
register_card(
    Card(
        key="registry.profile",
        title=_("Our operator"),
        description=_("Your operator's profile, licence and logo."),
        url_name="registry:operator_profile",
        roles=OPERATOR_ROLES,
        order=850,
    )
)
register_card(
    Card(
        key="registry.onboard",
        title=_("Onboard an operator"),
        description=_("From its licence in the licensing system."),
        url_name="registry:operator_onboard",
        roles=frozenset({Role.REGULATOR_ADMIN}),
        order=11,
        in_menu=False,
    )
)
register_card(
    Card(
        key="registry.district_officers",
        title=_("District officers"),
        description=_("Invite the officer of a district."),
        url_name="registry:district_officer_invite",
        roles=frozenset({Role.REGULATOR_ADMIN}),
        order=81,
        in_menu=False,
    )
)
