"""API of bill documents: a bill's PDF, a connection's household view by financial year, and the report of customers
billed per cycle and cluster. Amounts are decimal strings; another operator's bill or connection is a 404."""

import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Router, Schema

from mita.billing.errors import BillingError
from mita.billing.household import household
from mita.billing.reports import customers_billed
from mita.billing.selectors import BILLING_READ_ROLES, bill_get_for_access
from mita.billing.views_documents import (
    bad_layout_message,
    bill_layout,
    bill_pdf_links,
    bill_pdf_response,
    parse_year,
)
from mita.core.permissions import require_api_roles
from mita.customers.selectors import connection_get_for_access

router = Router(tags=["bill documents"])


class MonthOut(Schema):
    month: str
    label: str
    status: str
    status_label: str
    bill_id: int | None
    bill_number: str
    cycle_code: str
    bill_total: Decimal | None
    open_amount: Decimal
    consumption: Decimal | None
    due_on: datetime.date | None
    draft_bill_id: int | None
    receipt_payment_id: int | None
    receipt_number: str
    bill_pdf: str | None
    receipt_pdf: str | None


class HouseholdOut(Schema):
    connection_id: int
    connection_number: str
    customer_name: str
    year: int
    label: str
    start: datetime.date
    end: datetime.date
    currency: str
    paid: Decimal
    billed: Decimal
    consumed: Decimal
    months_billed: int
    months_paid: int
    months_unbilled: int
    months_unpaid: int
    open_on_year: Decimal
    balance: Decimal
    credit: Decimal
    net_due: Decimal
    months: list[MonthOut]


class BilledRowOut(Schema):
    operator_id: int
    operator: str
    cycle: str
    cluster_code: str
    cluster: str
    customers: int
    connections: int
    bills: int
    consumption: Decimal
    total: Decimal
    currency: str


class BilledReportOut(Schema):
    year: int | None
    cycle: str
    by_cycle: list[BilledRowOut]
    by_cluster: list[BilledRowOut]


def _reader(request: HttpRequest) -> Any:
    return require_api_roles(request, *BILLING_READ_ROLES)


def _year(value: str) -> int | None:
    year, error = parse_year(value)
    if error:
        raise BillingError(error, code="year_invalid", fields={"year": [error]})
    return year


@router.get(
    "/bills/{bill_id}/pdf",
    summary="A bill as a PDF: layout a4 (default), 80 or 58 (a thermal roll that wide)",
    openapi_extra={"responses": {200: {"content": {"application/pdf": {}}}}},
)
def bill_pdf(request: HttpRequest, bill_id: int, layout: str = "a4") -> HttpResponse:
    """A draft's PDF says DRAFT and has no number; an issued bill's carries its payment link as a QR code."""
    access = _reader(request)
    chosen = bill_layout(layout)
    if chosen is None:
        bill_get_for_access(access=access, bill_id=bill_id)  # another operator's bill: 404 first
        message = bad_layout_message()
        raise BillingError(message, code="layout_invalid", fields={"layout": [message]})
    return bill_pdf_response(request=request, bill_id=bill_id, layout=chosen)


@router.get(
    "/connections/{connection_id}/household",
    response=HouseholdOut,
    summary="A connection's financial year: totals and a card per month (paid, unpaid, not billed)",
)
def connection_household(request: HttpRequest, connection_id: int, year: str = "") -> dict[str, Any]:
    """`year` is the calendar year the financial year starts in (default: the current financial year)."""
    access = _reader(request)
    connection = connection_get_for_access(access=access, connection_id=connection_id)
    view = household(connection=connection, year=_year(year))
    months = []
    for card in view.cards:
        month = {field: getattr(card, field) for field in MonthOut.model_fields if hasattr(card, field)}
        month["bill_pdf"] = bill_pdf_links(card.bill_id)["a4"] if card.bill_id else None
        month["receipt_pdf"] = (
            reverse("payments:receipt_pdf", args=[card.receipt_payment_id]) + "?layout=a4"
            if card.receipt_payment_id
            else None
        )
        months.append(month)
    return {
        **{field: getattr(view, field) for field in HouseholdOut.model_fields if hasattr(view, field)},
        "connection_id": connection.pk,
        "connection_number": connection.number,
        "customer_name": connection.customer.name,
        "months": months,
    }


@router.get(
    "/billing-reports/customers-billed",
    response=BilledReportOut,
    summary="Customers billed per cycle and per cluster: counts and totals of issued bills",
)
def customers_billed_report(request: HttpRequest, year: str = "", cycle: str = "") -> Any:
    return customers_billed(access=_reader(request), year=_year(year), cycle=cycle.strip()[:10])
