"""API for a customer account's documents: its statement for a period and its full payment history with links to
each receipt's PDFs. Another operator's account is a 404."""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from mita.payments.models import Payment
from mita.payments.receipts import DOCUMENT_ROLES
from mita.payments.selectors import holder_get_for_access, payments_of_holder
from mita.payments.statements import Statement, period_parse, statement

router = Router(tags=["receipts and statements"])


class StatementLineOut(Schema):
    date: datetime.date
    kind: str
    description: str
    reference: str
    receipt_number: str
    debit: Decimal
    credit: Decimal
    credit_used: Decimal
    balance: Decimal


class StatementOut(Schema):
    holder: str
    name: str
    currency: str
    start: datetime.date
    end: datetime.date
    opening_balance: Decimal
    total_debit: Decimal
    total_credit: Decimal
    closing_balance: Decimal
    lines: list[StatementLineOut]
    pdf: str


class ReceiptLinks(Schema):
    a4: str
    roll_80mm: str
    roll_58mm: str


class HistoryPaymentOut(Schema):
    id: int
    receipt_number: str | None
    amount: Decimal
    currency: str
    channel: str
    status: str
    account_reference: str
    provider_reference: str
    payer_name: str
    value_date: datetime.date
    received_at: datetime.datetime
    receipt_pdf: ReceiptLinks

    @staticmethod
    def resolve_receipt_number(payment: Payment) -> str | None:
        receipt = getattr(payment, "receipt", None)
        return receipt.number if receipt else None

    @staticmethod
    def resolve_receipt_pdf(payment: Payment) -> dict[str, str]:
        url = reverse("payments:receipt_pdf", args=[payment.pk])
        return {"a4": f"{url}?layout=a4", "roll_80mm": f"{url}?layout=80", "roll_58mm": f"{url}?layout=58"}


def _require_document_role(request: HttpRequest) -> None:
    if not request.access.has_role(*DOCUMENT_ROLES):  # type: ignore[attr-defined]
        raise PermissionDenied


@router.get(
    "/accounts/{holder}/statement",
    response=StatementOut,
    summary="A customer account's statement: opening balance, lines with a running balance, closing balance",
)
def account_statement(request: HttpRequest, holder: str, start: str = "", end: str = "") -> dict[str, object]:
    """`start` and `end` are dates (YYYY-MM-DD), at most five years apart; without them, the last twelve months.
    A negative balance is credit in the customer's favour."""
    _require_document_role(request)
    access = request.access  # type: ignore[attr-defined]
    holder = holder_get_for_access(access=access, holder=holder)
    first, last = period_parse(start=start, end=end, today=timezone.localdate())
    account_statement: Statement = statement(operator=access.operator, holder=holder, start=first, end=last)
    pdf = reverse("payments:statement_pdf", args=[holder]) + f"?start={first.isoformat()}&end={last.isoformat()}"
    return {
        "holder": account_statement.holder,
        "name": account_statement.name,
        "currency": account_statement.currency,
        "start": first,
        "end": last,
        "opening_balance": account_statement.opening_balance,
        "total_debit": account_statement.total_debit,
        "total_credit": account_statement.total_credit,
        "closing_balance": account_statement.closing_balance,
        "lines": account_statement.lines,
        "pdf": pdf,
    }


@router.get(
    "/accounts/{holder}/payments",
    response=list[HistoryPaymentOut],
    summary="A customer account's payments, newest first, with links to their receipts' PDFs",
)
@paginate(LimitOffsetPagination)
def account_payments(request: HttpRequest, holder: str) -> QuerySet[Payment]:
    _require_document_role(request)
    access = request.access  # type: ignore[attr-defined]
    holder = holder_get_for_access(access=access, holder=holder)
    return payments_of_holder(operator=access.operator, holder=holder).order_by("-received_at", "-pk")
