"""Payment pages: take a payment, the list, the receipt (reprint, void), the suspense queue, a customer account."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from mita.accounts.roles import Role
from mita.core.audit import audit_for
from mita.core.errors import DomainError
from mita.core.forms import form_add_domain_error
from mita.core.money import CURRENCY_EXPONENTS
from mita.core.permissions import require_roles
from mita.core.tables import Column, table
from mita.payments.forms import AssignForm, PaymentFilterForm, PaymentForm, VoidForm
from mita.payments.models import Channel, Payment
from mita.payments.receipts import receipt_reprint as receipt_reprint_record
from mita.payments.selectors import (
    PAYMENT_ROLES,
    SUSPENSE_ROLES,
    account_summary,
    allocations_of,
    channels_for,
    holder_get_for_access,
    payment_get_for_access,
    payments_in_suspense,
    payments_of_holder,
    payments_visible_to,
    roles_at_operator,
    supervisors_for,
)
from mita.payments.selectors_cashier import till_open_of
from mita.payments.services import payment_assign, payment_receive, payment_void

SUSPENSE_PAGE_ROWS = 200


def _money(amount: Decimal, currency: str) -> str:
    digits = CURRENCY_EXPONENTS.get(currency, 2)
    return f"{formats.number_format(amount, decimal_pos=digits, force_grouping=True)} {currency}"


def _money_format(currency: str) -> str:
    """The floatformat argument that writes the currency's minor units, grouped by the reader's locale."""
    return f"{CURRENCY_EXPONENTS.get(currency, 2)}g"


def _receipt_link(payment: Payment) -> str:
    return reverse("payments:payment_detail", args=[payment.pk])


def _account_link(payment: Payment) -> str:
    return reverse("payments:account_detail", args=[payment.holder]) if payment.holder else ""


def _receipt_number(payment: Payment) -> str:
    receipt = getattr(payment, "receipt", None)
    return receipt.number if receipt else "—"


@login_required
@require_roles(*PAYMENT_ROLES)
def payment_record(request: HttpRequest) -> HttpResponse:
    """Take a payment at the counter, in the field or from a bank slip; the receipt follows."""
    access = request.access  # type: ignore[attr-defined]
    operator = access.operator
    form = PaymentForm(
        request.POST or None,
        channels=channels_for(access),
        currency=operator.currency,
        initial={"account_reference": request.GET.get("account_reference", "")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payment = payment_receive(
                operator=operator,
                channel=data["channel"],
                amount=data["amount"],
                account_reference=data["account_reference"],
                idempotency_key=data["idempotency_key"],
                received_by=request.user,
                payer_name=data["payer_name"],
                payer_phone=data["payer_phone"],
            )
        except DomainError as error:
            if error.code == "idempotency_key_reused":
                # This form already recorded another payment: a new key lets the cashier send it as a new one.
                form.renew_key()
            form_add_domain_error(form, error)
        else:
            if payment.status == Payment.Status.IN_SUSPENSE:
                messages.warning(
                    request,
                    _("No customer account %(reference)s: the payment is held in suspense until it is assigned.")
                    % {"reference": payment.account_reference},
                )
            else:
                messages.success(request, _("Payment recorded."))
            return redirect("payments:payment_detail", payment_id=payment.pk)
    # Cash at the office belongs in a till: say so before the cashier takes it (it is still recorded without one,
    # and the day-end report lists it apart).
    no_till = (
        Channel.CASH_OFFICE in channels_for(access)
        and access.has_role(Role.CASHIER)
        and till_open_of(operator=operator, user=request.user) is None
    )
    return render(
        request,
        "payments/payment_form.html",
        {"form": form, "operator": operator, "no_till": no_till},
        status=400 if form.errors else 200,
    )


@login_required
@require_roles(*PAYMENT_ROLES)
def payment_list(request: HttpRequest) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    form = PaymentFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    payments = payments_visible_to(
        access=access,
        status=filters.get("status") or "",
        channel=filters.get("channel") or "",
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
        reference=filters.get("reference") or "",
    )
    columns = [
        Column(
            "receipt",
            gettext_lazy("Receipt"),
            order_by="receipt__sequence_number",
            value=_receipt_number,
            link=_receipt_link,
        ),
        Column(
            "received_at",
            gettext_lazy("Received"),
            order_by="received_at",
            value=lambda p: formats.date_format(timezone.localtime(p.received_at), "Y-m-d H:i"),
        ),
        Column("account_reference", gettext_lazy("Account reference"), order_by="account_reference"),
        Column("holder", gettext_lazy("Customer account"), order_by="holder", link=_account_link),
        Column("amount", gettext_lazy("Amount"), order_by="amount", value=lambda p: _money(p.amount, p.currency)),
        Column("channel", gettext_lazy("Channel"), order_by="channel", value=lambda p: p.get_channel_display()),
        Column("status", gettext_lazy("Status"), order_by="status", value=lambda p: p.get_status_display()),
        Column(
            "received_by", gettext_lazy("Received by"), value=lambda p: p.received_by.name if p.received_by else "—"
        ),
    ]
    return render(
        request,
        "payments/payment_list.html",
        {
            "table": table(request, payments, columns, default_sort="-received_at"),
            "form": form,
            "can_record": bool(channels_for(access)),
            "money_format": _money_format(access.operator.currency),
        },
    )


def _receipt_context(request: HttpRequest, payment: Payment) -> dict[str, object]:
    access = request.access  # type: ignore[attr-defined]
    allocations = list(allocations_of(payment=payment))
    allocated = sum((allocation.amount for allocation in allocations if not allocation.voided), Decimal("0"))
    return {
        "payment": payment,
        "receipt": getattr(payment, "receipt", None),
        "operator": access.operator,
        "allocations": allocations,
        "to_credit": payment.amount - allocated if payment.status == Payment.Status.COMPLETED else Decimal("0"),
        "void": payment.memo.get("void"),
        "audit_entries": audit_for(payment)[:50],
        "voidable": payment.status in (Payment.Status.COMPLETED, Payment.Status.IN_SUSPENSE),
        "can_assign": payment.status == Payment.Status.IN_SUSPENSE and access.has_role(*SUSPENSE_ROLES),
        "money_format": _money_format(payment.currency),
    }


@login_required
@require_roles(*PAYMENT_ROLES)
def payment_detail(request: HttpRequest, payment_id: int) -> HttpResponse:
    """The receipt: what was paid, by which channel, for which account and charges; print-friendly."""
    payment = payment_get_for_access(access=request.access, payment_id=payment_id)  # type: ignore[attr-defined]
    return render(request, "payments/receipt.html", _receipt_context(request, payment))


@transaction.atomic
@login_required
@require_roles(*PAYMENT_ROLES)
@require_POST
def receipt_reprint(request: HttpRequest, payment_id: int) -> HttpResponse:
    payment = payment_get_for_access(access=request.access, payment_id=payment_id)  # type: ignore[attr-defined]
    receipt_reprint_record(receipt=payment.receipt, acting_user=request.user, layout="html")
    return redirect(reverse("payments:payment_detail", args=[payment.pk]) + "?print=1")


@login_required
@require_roles(*PAYMENT_ROLES)
def payment_void_view(request: HttpRequest, payment_id: int) -> HttpResponse:
    """Void a payment taken today: a reason, and a supervisor other than you approves with their password here."""
    access = request.access  # type: ignore[attr-defined]
    payment = payment_get_for_access(access=access, payment_id=payment_id)
    supervisors = supervisors_for(operator=access.operator, excluding=request.user)
    form = VoidForm(request.POST or None, supervisors=supervisors)
    if request.method == "POST" and form.is_valid():
        approver = form.cleaned_data["approver"]
        try:
            payment_void(
                payment=payment,
                reason=form.cleaned_data["reason"],
                approved_by=approver,
                acting_user=request.user,
                approver_roles=roles_at_operator(operator=access.operator, user=approver),
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("The payment is voided."))
            return redirect("payments:payment_detail", payment_id=payment.pk)
    return render(
        request,
        "payments/payment_void.html",
        {
            "payment": payment,
            "form": form,
            "has_supervisors": supervisors.exists(),
            "voidable": payment.status in (Payment.Status.COMPLETED, Payment.Status.IN_SUSPENSE),
            "money_format": _money_format(payment.currency),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_roles(*SUSPENSE_ROLES)
def suspense_list(request: HttpRequest) -> HttpResponse:
    """Payments whose account reference matched no customer account, waiting to be assigned."""
    return _suspense_page(request)


def _suspense_page(
    request: HttpRequest, *, failed: Payment | None = None, failed_form: AssignForm | None = None
) -> HttpResponse:
    payments = payments_in_suspense(access=request.access).order_by("received_at", "pk")  # type: ignore[attr-defined]
    shown = list(payments[:SUSPENSE_PAGE_ROWS])
    if failed is not None and failed.status == Payment.Status.IN_SUSPENSE and failed not in shown:
        shown.insert(0, failed)  # the row with the error is always on the page
    rows = [
        (
            payment,
            failed_form if failed is not None and payment.pk == failed.pk else AssignForm(prefix=f"p{payment.pk}"),
        )
        for payment in shown
    ]
    return render(
        request,
        "payments/suspense_list.html",
        {
            "rows": rows,
            "total": payments.count(),
            "money_format": _money_format(request.access.operator.currency),  # type: ignore[attr-defined]
        },
        status=400 if failed_form is not None else 200,
    )


@login_required
@require_roles(*SUSPENSE_ROLES)
@require_POST
def payment_assign_view(request: HttpRequest, payment_id: int) -> HttpResponse:
    payment = payment_get_for_access(access=request.access, payment_id=payment_id)  # type: ignore[attr-defined]
    form = AssignForm(request.POST, prefix=f"p{payment.pk}")
    if form.is_valid():
        try:
            payment = payment_assign(
                payment=payment, holder_reference=form.cleaned_data["holder"], acting_user=request.user
            )
        except DomainError as error:
            if "holder" not in error.fields:  # e.g. assigned by someone else meanwhile: nothing to fix on the form
                messages.error(request, str(error.message))
                return redirect("payments:suspense_list")
            form_add_domain_error(form, error)
        else:
            messages.success(
                request,
                _("Receipt %(receipt)s is assigned to %(holder)s.")
                % {"receipt": _receipt_number(payment), "holder": payment.holder},
            )
            return redirect("payments:suspense_list")
    return _suspense_page(request, failed=payment, failed_form=form)


@login_required
@require_roles(*PAYMENT_ROLES)
def account_detail(request: HttpRequest, holder: str) -> HttpResponse:
    """A customer account: what it owes, its credit, the charges still open and every payment with its receipt."""
    access = request.access  # type: ignore[attr-defined]
    holder = holder_get_for_access(access=access, holder=holder)
    return render(
        request,
        "payments/account_detail.html",
        {
            "summary": account_summary(operator=access.operator, holder=holder),
            # The whole history, a page at a time; each row links the receipt and its PDFs.
            "payments": Paginator(payments_of_holder(operator=access.operator, holder=holder), 50).get_page(
                request.GET.get("page")
            ),
            "can_record": bool(channels_for(access)),
            "money_format": _money_format(access.operator.currency),
        },
    )
