"""The bill SMS: amount, due date and the payment link, in the customer's language; queued once per bill."""

from typing import Any

from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import gettext_lazy as _

from mita.notifications.catalogue import register_template
from mita.notifications.services import message_queue
from mita.payments.online import payment_link_for, payment_link_url

TEMPLATE_WITH_LINK = "billing.bill_issued"
TEMPLATE_WITHOUT_LINK = "billing.bill_issued_no_link"

register_template(
    TEMPLATE_WITH_LINK,
    subject=_("Your bill %(number)s"),
    body=_("%(operator)s: bill %(number)s for account %(account)s (%(cycle)s): %(amount)s, due %(due)s. Pay: %(link)s"),
)
register_template(
    TEMPLATE_WITHOUT_LINK,
    subject=_("Your bill %(number)s"),
    body=_("%(operator)s: bill %(number)s for account %(account)s (%(cycle)s): %(amount)s, due %(due)s."),
)


def _money(amount: Any, currency: str) -> str:
    return f"{formats.number_format(amount, use_l10n=True, force_grouping=True)} {currency}"


def bills_sms_queue(*, bills: list[Any]) -> int:
    """Queue the SMS of these issued bills (with their connection's customer loaded); returns how many were queued.
    A customer without a phone gets none (the bill is still published)."""
    queued = 0
    for bill in bills:
        customer = bill.connection.customer
        if not customer.phone:
            continue
        operator = bill.operator
        link = payment_link_for(operator=operator, holder=bill.account)
        language = customer.language or settings.LANGUAGE_CODE
        with translation.override(language):
            context = {
                "operator": operator.name,
                "number": bill.number,
                "account": bill.account,
                "cycle": bill.cycle.code,
                "amount": _money(bill.total, bill.currency),
                "due": formats.date_format(bill.due_on, "SHORT_DATE_FORMAT"),
                "link": payment_link_url(link=link) if link else "",
            }
        message_queue(
            channel="sms",
            to=customer.phone,
            template=TEMPLATE_WITH_LINK if link else TEMPLATE_WITHOUT_LINK,
            context=context,
            language=language,
            operator=operator,
        )
        queued += 1
    return queued
