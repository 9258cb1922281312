"""The payments app's home cards: taking a payment, the payments list, and the suspense queue with its count."""

from django.utils.translation import gettext_lazy as _

from mita.accounts.roles import Role
from mita.core.access import Access
from mita.core.navigation import Card, register_card
from mita.payments.selectors import PAYMENT_ROLES, SUSPENSE_ROLES, suspense_count


def _suspense_badge(access: Access) -> int | None:
    return suspense_count(access=access) or None


register_card(
    Card(
        key="payments.take",
        title=_("Take a payment"),
        description=_("Record a payment and print its receipt."),
        url_name="payments:payment_record",
        roles=frozenset(PAYMENT_ROLES),
        order=30,
    )
)
register_card(
    Card(
        key="payments.list",
        title=_("Payments"),
        description=_("Payments taken, their receipts, voids and reprints."),
        url_name="payments:payment_list",
        roles=frozenset(PAYMENT_ROLES),
        order=31,
    )
)
register_card(
    Card(
        key="payments.suspense",
        title=_("Suspense"),
        description=_("Payments that matched no customer account, waiting to be assigned."),
        url_name="payments:suspense_list",
        roles=frozenset(SUSPENSE_ROLES),
        order=32,
        badge=_suspense_badge,
    )
)
register_card(
    Card(
        key="payments.settings",
        title=_("Payment settings"),
        description=_("The order payments clear charges in, and advance payments excluding VAT."),
        url_name="payments:settings",
        roles=frozenset({Role.OPERATOR_ADMIN}),
        order=39,
    )
)
register_card(
    Card(
        key="payments.mpesa_request",
        title=_("Request payment by M-Pesa"),
        description=_("Prompt a customer's phone to pay by M-Pesa and follow it until the receipt."),
        url_name="mpesa:stk_request",
        roles=frozenset(PAYMENT_ROLES),
        order=33,
    )
)
register_card(
    Card(
        key="payments.momo_request",
        title=_("Request payment by MoMo"),
        description=_("Ask a payer to approve a payment on their phone with their MTN MoMo PIN."),
        url_name="momo:request",
        roles=frozenset(PAYMENT_ROLES),
        order=34,
    )
)
register_card(
    Card(
        key="payments.online",
        title=_("Online payments"),
        description=_("Payment links paid on the gateway's page, and how each checkout ended."),
        url_name="online:checkout_list",
        roles=frozenset(PAYMENT_ROLES),
        order=35,
    )
)


# Deposits and refunds (views_deposits.py) ------------------------------------------------------------------

from mita.payments.selectors_deposits import DEPOSIT_VIEW_ROLES, REFUND_VIEW_ROLES, refunds_waiting_count  # noqa: E402


def _refunds_badge(access: Access) -> int | None:
    return refunds_waiting_count(access=access) or None


register_card(
    Card(
        key="payments.refunds",
        title=_("Refunds"),
        description=_("Refunds of credit and deposits: request, approval by another supervisor, payout."),
        url_name="payments:refund_list",
        roles=frozenset(REFUND_VIEW_ROLES),
        order=33,
        badge=_refunds_badge,
    )
)
register_card(
    Card(
        key="payments.deposit_rates",
        title=_("Deposit schedule"),
        description=_("The security deposit for each connection type or package."),
        url_name="payments:deposit_rate_list",
        roles=frozenset(DEPOSIT_VIEW_ROLES),
        order=34,
        in_menu=False,
    )
)
from mita.payments import navigation_cashier  # noqa: E402,F401  (the cashier sessions cards)
