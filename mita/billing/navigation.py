"""The billing app's home cards: bill runs (with the cycles calendar) and bills."""

from django.utils.translation import gettext_lazy as _

from mita.billing.selectors import BILLING_READ_ROLES
from mita.core.navigation import Card, register_card

register_card(
    Card(
        key="billing.runs",
        title=_("Bill runs"),
        description=_("Billing cycles, bill runs from preview to publish, and their exceptions."),
        url_name="billing:run_list",
        roles=frozenset(BILLING_READ_ROLES),
        order=57,
    )
)
register_card(
    Card(
        key="billing.bills",
        title=_("Bills"),
        description=_("Every bill issued, by operator, district and cycle."),
        url_name="billing:bill_list",
        roles=frozenset(BILLING_READ_ROLES),
        order=58,
        in_menu=False,
    )
)
