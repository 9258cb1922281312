"""A receipt as printed: everything a receipt document shows, gathered once for the PDF layouts; and counting a
reprint, after which every print of the receipt says COPY."""

import dataclasses
import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from mita.accounts.roles import Role
from mita.core.audit import audit_record
from mita.payments.models import Channel, Payment, Receipt
from mita.payments.selectors import PAYMENT_ROLES
from mita.payments.statements import balance_after_payment, head_label

ZERO = Decimal("0")
# Who may print receipts and read statements and payment histories: the payment roles, and customer care, who
# answer customers' questions about their account (and may reprint a receipt for them: it says COPY).
DOCUMENT_ROLES = (*PAYMENT_ROLES, Role.CUSTOMER_CARE)


@dataclasses.dataclass(frozen=True)
class ReceiptLine:
    """What the payment cleared of one charge."""

    charge_reference: str
    head: str
    due_date: datetime.date
    amount: Decimal


@dataclasses.dataclass(frozen=True)
class ReceiptDocument:
    operator: Any
    number: str  # "" for a payment without a receipt (none today: every payment gets one)
    received_at: datetime.datetime  # local time
    status: str
    status_label: str
    holder: str  # "" while in suspense
    account_reference: str
    channel: str
    amount: Decimal
    currency: str
    lines: list[ReceiptLine]
    to_credit: Decimal  # kept as the customer's credit
    balance_after: Decimal | None  # what the account owed right after; None while in suspense
    received_by: str
    provider_reference: str
    payer_name: str
    payer_phone: str
    reprints: int  # Receipt.prints: 0 for the original
    void_reason: str

    @property
    def is_copy(self) -> bool:
        return self.reprints > 0

    @property
    def voided(self) -> bool:
        return self.status == Payment.Status.VOIDED

    @property
    def reversed(self) -> bool:
        return self.status == Payment.Status.REVERSED

    @property
    def in_suspense(self) -> bool:
        return self.status == Payment.Status.IN_SUSPENSE


def receipt_document(*, payment: Payment) -> ReceiptDocument:
    """The receipt of a payment as it was when taken; a voided or reversed one keeps its breakdown."""
    receipt: Receipt | None = getattr(payment, "receipt", None)
    allocations = list(payment.allocations.select_related("charge").order_by("pk"))
    lines = [
        ReceiptLine(
            charge_reference=allocation.charge.reference,
            head=head_label(allocation.charge.head),
            due_date=allocation.charge.due_date,
            amount=allocation.amount,
        )
        for allocation in allocations
    ]
    allocated = sum((line.amount for line in lines), ZERO)
    received_by = payment.received_by
    return ReceiptDocument(
        operator=payment.operator,
        number=str(receipt) if receipt else "",
        received_at=timezone.localtime(payment.received_at),
        status=payment.status,
        status_label=str(payment.get_status_display()),
        holder=payment.holder,
        account_reference=payment.account_reference,
        channel=str(Channel(payment.channel).label),
        amount=payment.amount,
        currency=payment.currency,
        lines=lines,
        to_credit=payment.amount - allocated if payment.holder else ZERO,
        balance_after=balance_after_payment(payment=payment),
        received_by=(received_by.name or str(received_by.phone)) if received_by else "",
        provider_reference=payment.provider_reference,
        payer_name=payment.payer_name,
        payer_phone=payment.payer_phone,
        reprints=receipt.prints if receipt else 0,
        void_reason=str((payment.memo.get("void") or {}).get("reason", "")),
    )


@transaction.atomic
def receipt_reprint(*, receipt: Receipt, acting_user: Any, layout: str) -> Receipt:
    """Count a reprint: from now on every print of this receipt, on paper or PDF, says COPY. Audited."""
    Receipt.objects.filter(pk=receipt.pk).update(prints=F("prints") + 1)
    receipt.refresh_from_db(fields=["prints"])
    audit_record(
        actor=acting_user,
        action="receipt.reprinted",
        target=receipt.payment,
        after={"receipt": receipt.number, "prints": receipt.prints, "layout": layout},
    )
    return receipt
