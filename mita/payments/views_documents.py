"""Receipt PDFs (A4, 58 mm and 80 mm rolls) and their counted reprints, and customer statements on screen and as
PDF. Another operator's payment or account is a 404 on each."""

import datetime
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from mita.core.money import CURRENCY_EXPONENTS
from mita.core.permissions import require_roles
from mita.payments.forms import DATE
from mita.payments.pdf import LAYOUTS, pdf_language, receipt_pdf, statement_pdf
from mita.payments.receipts import DOCUMENT_ROLES, receipt_document, receipt_reprint
from mita.payments.selectors import PAYMENT_ROLES, holder_get_for_access, payment_get_for_access
from mita.payments.statements import Statement, StatementError, default_period, period_check, statement


def _layout(request: HttpRequest) -> str | None:
    layout = (request.GET.get("layout") or request.POST.get("layout") or "a4").strip().lower().removesuffix("mm")
    return layout if layout in LAYOUTS else None


def _bad_layout() -> HttpResponse:
    return HttpResponseBadRequest(
        _("Unknown receipt layout: choose a4, 58 or 80 (the roll's width in mm)."), content_type="text/plain"
    )


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"  # a copy must never be served from a cache as an original
    return response


@login_required
@require_roles(*DOCUMENT_ROLES)
def receipt_pdf_view(request: HttpRequest, payment_id: int) -> HttpResponse:
    """The receipt as a PDF: ?layout=a4 (default), 58 or 80. Once reprinted, every print says COPY."""
    payment = payment_get_for_access(access=request.access, payment_id=payment_id)  # type: ignore[attr-defined]
    layout = _layout(request)
    if layout is None:
        return _bad_layout()
    with translation.override(pdf_language(translation.get_language())):
        document = receipt_document(payment=payment)
        content = receipt_pdf(document, layout=layout)
    return _pdf(content, f"{document.number or payment.pk}-{layout}.pdf")


@login_required
@require_roles(*DOCUMENT_ROLES)
@require_POST
def receipt_reprint_pdf(request: HttpRequest, payment_id: int) -> HttpResponse:
    """Count a reprint, then open the PDF, which now says COPY."""
    payment = payment_get_for_access(access=request.access, payment_id=payment_id)  # type: ignore[attr-defined]
    layout = _layout(request)
    if layout is None:
        return _bad_layout()
    receipt_reprint(receipt=payment.receipt, acting_user=request.user, layout=layout)
    return redirect(reverse("payments:receipt_pdf", args=[payment.pk]) + "?" + urlencode({"layout": layout}))


# Statements ----------------------------------------------------------------------------------------------


class StatementForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("From"), widget=DATE)
    end = forms.DateField(label=gettext_lazy("To"), widget=DATE)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            try:
                period_check(start=start, end=end)
            except StatementError as error:
                for field, messages in error.fields.items():
                    for message in messages:
                        self.add_error(field, message)
                self.add_error(None, str(error.message))
        return cleaned


def _statement_form(request: HttpRequest) -> StatementForm:
    """The period asked for; with none, the last twelve months."""
    if "start" in request.GET or "end" in request.GET:
        return StatementForm(request.GET)
    start, end = default_period(timezone.localdate())
    return StatementForm({"start": start.isoformat(), "end": end.isoformat()})


def _period(form: StatementForm) -> tuple[datetime.date, datetime.date]:
    return form.cleaned_data["start"], form.cleaned_data["end"]


@login_required
@require_roles(*DOCUMENT_ROLES)
def statement_page(request: HttpRequest, holder: str) -> HttpResponse:
    """A customer's statement for a period: opening balance, every charge and payment, the closing balance."""
    access = request.access  # type: ignore[attr-defined]
    holder = holder_get_for_access(access=access, holder=holder)
    form = _statement_form(request)
    account_statement: Statement | None = None
    if form.is_valid():
        start, end = _period(form)
        account_statement = statement(operator=access.operator, holder=holder, start=start, end=end)
    query = urlencode({"start": form.data.get("start", ""), "end": form.data.get("end", "")})
    return render(
        request,
        "payments/statement.html",
        {
            "holder": holder,
            "form": form,
            "statement": account_statement,
            "pdf_url": reverse("payments:statement_pdf", args=[holder]) + "?" + query,
            "money_format": f"{CURRENCY_EXPONENTS.get(access.operator.currency, 2)}g",
            "can_open_account": access.has_role(*PAYMENT_ROLES),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_roles(*DOCUMENT_ROLES)
def statement_pdf_view(request: HttpRequest, holder: str) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    holder = holder_get_for_access(access=access, holder=holder)
    form = _statement_form(request)
    if not form.is_valid():
        problems = [str(message) for messages in form.errors.values() for message in messages]
        return HttpResponseBadRequest(" ".join(dict.fromkeys(problems)), content_type="text/plain")
    start, end = _period(form)
    with translation.override(pdf_language(translation.get_language())):
        account_statement = statement(operator=access.operator, holder=holder, start=start, end=end)
        content = statement_pdf(account_statement, operator=access.operator)
    return _pdf(content, f"statement-{holder}-{start.isoformat()}-{end.isoformat()}.pdf")
