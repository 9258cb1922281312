"""Home cards of billing corrections: penalties, and the bills flagged for cancel and rebill."""

from django.utils.translation import gettext_lazy as _

from mita.accounts.roles import OPERATOR_ROLES
from mita.core.access import Access
from mita.core.navigation import Card, register_card


def _waiting(access: Access) -> int | None:
    """Index adjustments waiting for a rebill (one indexed count)."""
    from mita.metering.selectors_review import adjustments_needing_rebill

    if access.operator is None:
        return None
    return adjustments_needing_rebill(access.operator).count() or None


register_card(
    Card(
        key="billing.penalties",
        title=_("Late-payment penalties"),
        description=_("Penalty rules, and what they levy on late bills."),
        url_name="billing:penalty_run",
        roles=frozenset(OPERATOR_ROLES),
        order=59,
        in_menu=False,
    )
)
register_card(
    Card(
        key="billing.rebills",
        title=_("Bills to rebill"),
        description=_("Issued bills whose readings were adjusted: cancel and rebill them."),
        url_name="billing:rebill_list",
        roles=frozenset(OPERATOR_ROLES),
        order=60,
        in_menu=False,
        badge=_waiting,
    )
)
