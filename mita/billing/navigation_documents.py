"""The home card of the report of customers billed per cycle and cluster."""

from django.utils.translation import gettext_lazy as _

from mita.billing.selectors import BILLING_READ_ROLES
from mita.core.navigation import Card, register_card

register_card(
    Card(
        key="billing.customers_billed",
        title=_("Customers billed"),
        description=_("Customers, bills and totals per billing cycle and per cluster, with a CSV."),
        url_name="billing:customers_billed",
        roles=frozenset(BILLING_READ_ROLES),
        order=59,
        in_menu=False,
    )
)
