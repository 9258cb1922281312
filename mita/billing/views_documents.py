"""Pages of bill documents: a bill's PDF (A4 or a thermal roll), a connection's household view by financial year,
and the report of customers billed per cycle and cluster (page and CSV). Another operator's bill or connection is a
404."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from mita.billing.documents import bill_document
from mita.billing.household import household, household_years
from mita.billing.pdf_bill import BILL_LAYOUTS, bill_pdf
from mita.billing.reports import customers_billed, customers_billed_csv
from mita.billing.selectors import BILLING_READ_ROLES, BILLING_WRITE_ROLES, bill_get_for_access
from mita.core.permissions import require_roles
from mita.customers.selectors import connection_get_for_access
from mita.payments.pdf import pdf_language
from mita.payments.receipts import DOCUMENT_ROLES
from mita.payments.selectors import PAYMENT_ROLES

YEARS = range(2000, 2101)


def _access(request: HttpRequest) -> Any:
    return request.access  # type: ignore[attr-defined]


def bill_layout(value: str | None) -> str | None:
    """The layout asked for ("a4", "58", "80"; "80mm" too), None when it is none of them."""
    layout = (value or "a4").strip().lower().removesuffix("mm")
    return layout if layout in BILL_LAYOUTS else None


def bad_layout_message() -> str:
    return _("Unknown bill layout: choose a4, 58 or 80 (the roll's width in mm).")


def bill_pdf_response(*, request: HttpRequest, bill_id: int, layout: str) -> HttpResponse:
    """The bill's PDF in the reader's language (English where Mita has no font for it), never cached."""
    access = _access(request)
    bill = bill_get_for_access(access=access, bill_id=bill_id)
    own = access.operator is not None and access.operator.pk == bill.operator_id
    with translation.override(pdf_language(translation.get_language())):
        document = bill_document(bill=bill, acting_user=request.user, with_link=own)
        content = bill_pdf(document, layout=layout)
    response = HttpResponse(content, content_type="application/pdf")
    name = document.number or f"draft-{bill.account}-{bill.cycle.code}"
    response["Content-Disposition"] = f'inline; filename="bill-{name}-{layout}.pdf"'
    response["Cache-Control"] = "private, no-store"  # a draft's PDF must never be served later for the issued bill
    return response


def bill_pdf_links(bill_id: int) -> dict[str, str]:
    url = reverse("billing:bill_pdf", args=[bill_id])
    return {"a4": f"{url}?layout=a4", "roll_80mm": f"{url}?layout=80", "roll_58mm": f"{url}?layout=58"}


@login_required
@require_roles(*BILLING_READ_ROLES)
def bill_pdf_view(request: HttpRequest, bill_id: int) -> HttpResponse:
    """The bill as a PDF: ?layout=a4 (default), 58 or 80."""
    layout = bill_layout(request.GET.get("layout"))
    if layout is None:
        bill_get_for_access(access=_access(request), bill_id=bill_id)  # another operator's bill: 404 first
        return HttpResponseBadRequest(bad_layout_message(), content_type="text/plain")
    return bill_pdf_response(request=request, bill_id=bill_id, layout=layout)


def parse_year(value: str | None) -> tuple[int | None, str]:
    """(the financial year asked for, or None for the current one; an error message, or "")."""
    if not value:
        return None, ""
    try:
        year = int(value)
    except ValueError:
        year = 0
    if year not in YEARS:
        return None, _("Give the year as four digits, e.g. 2026 (the calendar year the financial year starts in).")
    return year, ""


def _actions(request: HttpRequest, connection: Any, card: Any) -> dict[str, str]:
    """The links a month's card offers the user, by their roles."""
    access = _access(request)
    actions: dict[str, str] = {}
    if card.status == "unbilled" and access.has_role(*BILLING_WRITE_ROLES):
        query: dict[str, Any] = {}
        if card.cycle_id:
            query["cycle"] = card.cycle_id
        if connection.route_id:
            query.update(scope_kind="route", scope_id=connection.route_id)
        actions["generate"] = reverse("billing:run_create") + (f"?{urlencode(query)}" if query else "")
    if card.status == "unpaid" and access.has_role(*PAYMENT_ROLES):
        actions["collect"] = reverse("payments:account_detail", args=[connection.number])
    if card.bill_id:
        actions["bill_pdf"] = reverse("billing:bill_pdf", args=[card.bill_id]) + "?layout=a4"
    elif card.draft_bill_id:
        actions["draft_pdf"] = reverse("billing:bill_pdf", args=[card.draft_bill_id]) + "?layout=a4"
    if card.receipt_payment_id and access.has_role(*DOCUMENT_ROLES):
        actions["receipt_pdf"] = reverse("payments:receipt_pdf", args=[card.receipt_payment_id]) + "?layout=a4"
    return actions


@login_required
@require_roles(*BILLING_READ_ROLES)
def household_page(request: HttpRequest, connection_id: int) -> HttpResponse:
    """A connection's financial year as a village water committee keeps it: totals and a card per month."""
    connection = connection_get_for_access(access=_access(request), connection_id=connection_id)
    year, error = parse_year(request.GET.get("year"))
    view = household(connection=connection, year=year)
    context = {
        "connection": connection,
        "household": view,
        "cards": [(card, _actions(request, connection, card)) for card in view.cards],
        "years": household_years(connection=connection, around=view.year),
        "error": error,
    }
    return render(request, "billing/household.html", context, status=400 if error else 200)


@login_required
@require_roles(*BILLING_READ_ROLES)
def customers_billed_page(request: HttpRequest) -> HttpResponse:
    year, error = parse_year(request.GET.get("year"))
    cycle = request.GET.get("cycle", "").strip()[:10]
    report = customers_billed(access=_access(request), year=year, cycle=cycle)
    query = urlencode({key: value for key, value in (("year", year or ""), ("cycle", cycle)) if value})
    context = {
        "report": report,
        "year": request.GET.get("year", ""),
        "cycle": cycle,
        "error": error,
        "csv_url": reverse("billing:customers_billed_csv") + (f"?{query}" if query else ""),
    }
    return render(request, "billing/customers_billed.html", context, status=400 if error else 200)


@login_required
@require_roles(*BILLING_READ_ROLES)
def customers_billed_csv_view(request: HttpRequest) -> HttpResponse:
    year, error = parse_year(request.GET.get("year"))
    if error:
        return HttpResponseBadRequest(error, content_type="text/plain")
    cycle = request.GET.get("cycle", "").strip()[:10]
    report = customers_billed(access=_access(request), year=year, cycle=cycle)
    response = HttpResponse(customers_billed_csv(report), content_type="text/csv; charset=utf-8")
    name = "-".join(part for part in ("customers-billed", str(year or ""), cycle) if part)
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response
