"""The clusters' home cards: the regulator's and districts' clusters, and an operator's own, with expiry badges."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mita.accounts.roles import OPERATOR_ROLES, Role
from mita.core.access import Access
from mita.core.navigation import Card, register_card
from mita.registry.selectors_clusters import clusters_expiring


def _expiring_badge(access: Access) -> int | None:
    return len(clusters_expiring(access, today=timezone.localdate())) or None


register_card(
    Card(
        key="registry.clusters",
        title=_("Clusters"),
        description=_("Clusters, the operators holding them, their expiry and supply systems."),
        url_name="registry:cluster_list",
        roles=frozenset({Role.REGULATOR_ADMIN, Role.REGULATOR_VIEWER, Role.DISTRICT_OFFICER}),
        order=20,
        badge=_expiring_badge,
    )
)
register_card(
    Card(
        key="registry.clusters_ours",
        title=_("Our clusters"),
        description=_("The clusters assigned to us, until when, and their supply systems."),
        url_name="registry:cluster_list_ours",
        roles=OPERATOR_ROLES,
        order=840,
        badge=_expiring_badge,
    )
)
