"""The SMS that confirms a payment landing on a customer account (taken, or assigned from suspense): receipt
number, amount, account and the balance after, in the customer's language. Queued once the payment has committed
and its receipt is numbered (payments.numbering), so it is never sent for a payment that rolled back."""

from typing import Any

from django.conf import settings
from django.utils import translation

from mita.notifications.models import OutboxMessage
from mita.notifications.services import message_queue
from mita.payments.contacts import contact_for_payment
from mita.payments.models import Payment, Receipt
from mita.payments.statements import balance_after_payment, money

TEMPLATE_OWING = "payments.received"
TEMPLATE_IN_CREDIT = "payments.received_in_credit"


def payment_confirmation_queue(*, payment: Payment) -> OutboxMessage | None:
    """Queue the confirmation of a payment now on a customer account; None when there is no phone to text."""
    if not payment.holder or payment.status != Payment.Status.COMPLETED:
        return None
    contact = contact_for_payment(payment=payment)
    if contact is None:
        return None
    # A payment just taken carries its receipt, numbered (payments.numbering): no need to read it again.
    receipt = payment.receipt if Payment.receipt.is_cached(payment) else None
    if receipt is None or not receipt.number:
        receipt = Receipt.objects.filter(payment=payment).only("number").first()
    balance = balance_after_payment(payment=payment)
    if balance is None:
        return None
    language = contact.language or settings.LANGUAGE_CODE
    operator: Any = payment.operator
    with translation.override(language):  # the figures are written as the customer's language writes them
        context = {
            "operator": operator.name,
            "amount": money(payment.amount, payment.currency),
            "account": payment.holder,
            "receipt": receipt.number if receipt else "",
            "balance": money(abs(balance), payment.currency),
        }
    return message_queue(
        channel="sms",
        to=contact.phone,
        template=TEMPLATE_OWING if balance >= 0 else TEMPLATE_IN_CREDIT,
        context=context,
        language=language,
        operator=operator,
    )
