"""Home cards of the cashier sessions: the tills, the day-end report, and the hand-overs waiting for a treasurer."""

from django.utils.translation import gettext_lazy as _

from mita.core.access import Access
from mita.core.navigation import Card, register_card
from mita.payments.models_cashier import CashHandover
from mita.payments.selectors_cashier import (
    DAY_END_ROLES,
    HANDOVER_PAGE_ROLES,
    TILL_PAGE_ROLES,
    handovers_visible_to,
    is_cash_supervisor,
)


def _handovers_waiting(access: Access) -> int | None:
    """For a treasurer or admin: the hand-overs waiting for their confirmation."""
    if access.operator is None or not is_cash_supervisor(access):
        return None
    return handovers_visible_to(access=access, status=CashHandover.Status.PENDING).count() or None


register_card(
    Card(
        key="payments.tills",
        title=_("Tills"),
        description=_("Open your till with a float, close it with a count; banking slips."),
        url_name="payments:till_list",
        roles=frozenset(TILL_PAGE_ROLES),
        order=33,
    )
)
register_card(
    Card(
        key="payments.handovers",
        title=_("Cash hand-overs"),
        description=_("Collectors hand field cash to the treasurer, who confirms it."),
        url_name="payments:handover_list",
        roles=frozenset(HANDOVER_PAGE_ROLES),
        order=34,
        badge=_handovers_waiting,
    )
)
register_card(
    Card(
        key="payments.day_end",
        title=_("Day-end report"),
        description=_("Per day and person: payments by channel, voids, tills, variances, banking."),
        url_name="payments:day_end",
        roles=frozenset(DAY_END_ROLES),
        order=35,
    )
)
