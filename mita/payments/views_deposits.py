"""Pages for deposits (the schedule, an account's deposit), refunds (queue, request, approve, reject, pay out),
charge-backs and charge cancellations."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mita.core.audit import audit_for
from mita.core.errors import DomainError
from mita.core.forms import form_add_domain_error
from mita.core.permissions import require_roles
from mita.ledger.services import CHARGEBACK_HEAD
from mita.payments.corrections import CHARGEBACK_CHANNELS, charge_cancel, is_supervisor, payment_reverse
from mita.payments.deposits import deposit_adjust, deposit_apply_to_final_bill, deposit_charge, deposit_rate_save
from mita.payments.forms_deposits import (
    ChargebackForm,
    ChargeCancelForm,
    DepositAdjustForm,
    DepositChargeForm,
    DepositRateForm,
    RefundPayoutForm,
    RefundRejectForm,
    RefundRequestForm,
)
from mita.payments.models import Payment, Refund
from mita.payments.refunds import refund_approve, refund_pay_out, refund_reject, refund_request
from mita.payments.selectors import (
    PAYMENT_ROLES,
    account_summary,
    holder_get_for_access,
    payment_get_for_access,
    supervisors_for,
)
from mita.payments.selectors_deposits import (
    CHARGE_CANCEL_ROLES,
    CHARGEBACK_ROLES,
    DEPOSIT_ACTION_ROLES,
    DEPOSIT_SCHEDULE_ROLES,
    DEPOSIT_VIEW_ROLES,
    REFUND_DECISION_ROLES,
    REFUND_VIEW_ROLES,
    charge_get_for_access,
    charges_with_state,
    deposit_rate_get_for_access,
    deposit_rates,
    deposit_summary,
    refund_get_for_access,
    refunds_visible_to,
)
from mita.payments.views import _money, _money_format


def _access(request: HttpRequest) -> Any:
    return request.access  # type: ignore[attr-defined]


# The schedule ----------------------------------------------------------------------------------------------


@login_required
@require_roles(*DEPOSIT_VIEW_ROLES)
def deposit_rate_list(request: HttpRequest) -> HttpResponse:
    """The deposit schedule; the operator's admin adds lines here."""
    access = _access(request)
    can_edit = access.has_role(*DEPOSIT_SCHEDULE_ROLES)
    form = DepositRateForm(request.POST or None, currency=access.operator.currency)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            try:
                rate = deposit_rate_save(operator=access.operator, acting_user=request.user, **form.cleaned_data)
            except DomainError as error:
                form_add_domain_error(form, error)
            else:
                messages.success(request, _("The deposit for %(key)s is saved.") % {"key": rate.key})
                return redirect("payments:deposit_rate_list")
    return render(
        request,
        "payments/deposit_rates.html",
        {
            "rates": deposit_rates(access=access),
            "form": form if can_edit else None,
            "can_edit": can_edit,
            "currency": access.operator.currency,
            "money_format": _money_format(access.operator.currency),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_roles(*DEPOSIT_SCHEDULE_ROLES)
def deposit_rate_edit(request: HttpRequest, rate_id: int) -> HttpResponse:
    access = _access(request)
    rate = deposit_rate_get_for_access(access=access, rate_id=rate_id)
    form = DepositRateForm(
        request.POST or None,
        currency=access.operator.currency,
        initial={"key": rate.key, "label": rate.label, "amount": rate.amount},
    )
    if request.method == "POST" and form.is_valid():
        try:
            deposit_rate_save(operator=access.operator, acting_user=request.user, rate=rate, **form.cleaned_data)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("The deposit for %(key)s is saved.") % {"key": rate.key})
            return redirect("payments:deposit_rate_list")
    return render(
        request,
        "payments/deposit_rate_edit.html",
        {"rate": rate, "form": form, "audit_entries": audit_for(rate)[:20]},
        status=400 if form.errors else 200,
    )


# A customer account's deposit ------------------------------------------------------------------------------


def _holder_deposit_page(
    request: HttpRequest,
    holder: str,
    *,
    charge_form: DepositChargeForm | None = None,
    adjust_form: DepositAdjustForm | None = None,
    apply_error: str = "",
) -> HttpResponse:
    access = _access(request)
    operator = access.operator
    rates = list(deposit_rates(access=access))
    currency = operator.currency
    failed = charge_form is not None or adjust_form is not None or bool(apply_error)
    return render(
        request,
        "payments/holder_deposit.html",
        {
            "deposit": deposit_summary(operator=operator, holder=holder),
            "account": account_summary(operator=operator, holder=holder),
            "can_act": access.has_role(*DEPOSIT_ACTION_ROLES),
            "can_refund": access.has_role(*REFUND_VIEW_ROLES),
            "charge_form": charge_form or DepositChargeForm(rates=rates, currency=currency, prefix="charge"),
            "adjust_form": adjust_form or DepositAdjustForm(rates=rates, currency=currency, prefix="adjust"),
            "apply_error": apply_error,
            "money_format": _money_format(currency),
        },
        status=400 if failed else 200,
    )


@login_required
@require_roles(*DEPOSIT_VIEW_ROLES)
def holder_deposit(request: HttpRequest, holder: str) -> HttpResponse:
    """A customer account's deposit: held, still owed, its charges and refunds; charge, adjust or apply it."""
    holder = holder_get_for_access(access=_access(request), holder=holder)
    return _holder_deposit_page(request, holder)


@login_required
@require_roles(*DEPOSIT_ACTION_ROLES)
@require_POST
def holder_deposit_charge(request: HttpRequest, holder: str) -> HttpResponse:
    access = _access(request)
    holder = holder_get_for_access(access=access, holder=holder)
    form = DepositChargeForm(
        request.POST, rates=deposit_rates(access=access), currency=access.operator.currency, prefix="charge"
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            charge = deposit_charge(
                operator=access.operator,
                holder=holder,
                key=data["key"],
                amount=data["amount"],
                reference=data["reference"],
                due_date=data["due_date"],
                acting_user=request.user,
                idempotency_key=data["idempotency_key"],
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(
                request,
                _("A deposit of %(amount)s is charged.") % {"amount": _money(charge.total, charge.currency)},
            )
            return redirect("payments:holder_deposit", holder=holder)
    return _holder_deposit_page(request, holder, charge_form=form)


@login_required
@require_roles(*DEPOSIT_ACTION_ROLES)
@require_POST
def holder_deposit_adjust(request: HttpRequest, holder: str) -> HttpResponse:
    access = _access(request)
    holder = holder_get_for_access(access=access, holder=holder)
    form = DepositAdjustForm(
        request.POST, rates=deposit_rates(access=access), currency=access.operator.currency, prefix="adjust"
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            change = deposit_adjust(
                operator=access.operator,
                holder=holder,
                key=data["key"],
                amount=data["amount"],
                reference=data["reference"],
                acting_user=request.user,
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            currency = access.operator.currency
            if change.charged is not None:
                message = _("The deposit goes up to %(level)s: %(amount)s is charged.") % {
                    "level": _money(change.after, currency),
                    "amount": _money(change.charged.total, currency),
                }
            elif change.released:
                message = _("The deposit goes down to %(level)s: %(amount)s is moved to the customer's credit.") % {
                    "level": _money(change.after, currency),
                    "amount": _money(change.released, currency),
                }
            else:
                message = _("The deposit is already %(level)s.") % {"level": _money(change.after, currency)}
            messages.success(request, message)
            return redirect("payments:holder_deposit", holder=holder)
    return _holder_deposit_page(request, holder, adjust_form=form)


@login_required
@require_roles(*DEPOSIT_ACTION_ROLES)
@require_POST
def holder_deposit_apply(request: HttpRequest, holder: str) -> HttpResponse:
    access = _access(request)
    holder = holder_get_for_access(access=access, holder=holder)
    try:
        application = deposit_apply_to_final_bill(operator=access.operator, holder=holder, acting_user=request.user)
    except DomainError as error:
        return _holder_deposit_page(request, holder, apply_error=str(error.message))
    currency = access.operator.currency
    messages.success(
        request,
        _("%(held)s of deposit is applied: %(applied)s paid open charges, %(left)s is credit to refund.")
        % {
            "held": _money(application.held, currency),
            "applied": _money(application.applied, currency),
            "left": _money(application.credit_left, currency),
        },
    )
    return redirect("payments:holder_deposit", holder=holder)


# Charges and their cancellation ----------------------------------------------------------------------------


@login_required
@require_roles(*PAYMENT_ROLES)
def holder_charges(request: HttpRequest, holder: str) -> HttpResponse:
    """Every charge of a customer account with what is paid and open; cancel one from here."""
    access = _access(request)
    holder = holder_get_for_access(access=access, holder=holder)
    return render(
        request,
        "payments/holder_charges.html",
        {
            "holder": holder,
            "charges": charges_with_state(operator=access.operator, holder=holder),
            "can_cancel": access.has_role(*CHARGE_CANCEL_ROLES),
            "chargeback_head": CHARGEBACK_HEAD,
            "money_format": _money_format(access.operator.currency),
        },
    )


@login_required
@require_roles(*CHARGE_CANCEL_ROLES)
def charge_cancel_view(request: HttpRequest, charge_id: int) -> HttpResponse:
    """Cancel a charge with a reason; a cashier's cancellation is approved by a supervisor with their password."""
    access = _access(request)
    charge = charge_get_for_access(access=access, charge_id=charge_id)
    self_approved = is_supervisor(operator=access.operator, user=request.user)
    supervisors = supervisors_for(operator=access.operator, excluding=request.user)
    form = ChargeCancelForm(request.POST or None, supervisors=supervisors, needs_approval=not self_approved)
    cancelled = hasattr(charge, "cancellation")
    if request.method == "POST" and form.is_valid():
        try:
            charge_cancel(
                charge=charge,
                reason=form.cleaned_data["reason"],
                acting_user=request.user,
                approved_by=request.user if self_approved else form.cleaned_data["approver"],
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Charge %(reference)s is cancelled.") % {"reference": charge.reference})
            return redirect("payments:holder_charges", holder=charge.holder)
    return render(
        request,
        "payments/charge_cancel.html",
        {
            "charge": charge,
            "form": form,
            "cancelled": cancelled,
            "self_approved": self_approved,
            "has_supervisors": self_approved or supervisors.exists(),
            "money_format": _money_format(charge.currency),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_roles(*CHARGEBACK_ROLES)
def payment_chargeback(request: HttpRequest, payment_id: int) -> HttpResponse:
    """Record that the provider took a payment back (a charge-back, or a payment it later failed)."""
    payment = payment_get_for_access(access=_access(request), payment_id=payment_id)
    form = ChargebackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            payment_reverse(
                payment=payment,
                reason=form.cleaned_data["reason"],
                provider_reference=form.cleaned_data["provider_reference"],
                acting_user=request.user,
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("The payment is reversed."))
            return redirect("payments:payment_detail", payment_id=payment.pk)
    return render(
        request,
        "payments/chargeback.html",
        {
            "payment": payment,
            "form": form,
            "reversible": payment.channel in CHARGEBACK_CHANNELS
            and payment.status in (Payment.Status.COMPLETED, Payment.Status.IN_SUSPENSE),
            "money_format": _money_format(payment.currency),
        },
        status=400 if form.errors else 200,
    )


# Refunds ---------------------------------------------------------------------------------------------------


@login_required
@require_roles(*REFUND_VIEW_ROLES)
def refund_list(request: HttpRequest) -> HttpResponse:
    """The refunds queue: waiting for approval, approved and to pay out, and the rest; filtered by status."""
    access = _access(request)
    status = request.GET.get("status", "")
    if status not in Refund.Status.values:
        status = ""
    refunds = refunds_visible_to(access=access, status=status, holder=request.GET.get("holder", ""))
    return render(
        request,
        "payments/refund_list.html",
        {
            "refunds": refunds.order_by("-requested_at", "-pk")[:200],
            "status": status,
            "statuses": Refund.Status.choices,
            "holder": request.GET.get("holder", ""),
            "money_format": _money_format(access.operator.currency),
        },
    )


@login_required
@require_roles(*REFUND_VIEW_ROLES)
def refund_request_view(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    operator = access.operator
    form = RefundRequestForm(
        request.POST or None, currency=operator.currency, initial={"holder": request.GET.get("holder", "")}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            refund = refund_request(
                operator=operator,
                holder=data["holder"],
                amount=data["amount"],
                source=data["source"],
                reason=data["reason"],
                payee_name=data["payee_name"],
                payee_phone=data["payee_phone"] or "",
                method=data["method"],
                network=data["network"],
                bank_name=data["bank_name"],
                bank_account=data["bank_account"],
                acting_user=request.user,
                idempotency_key=data["idempotency_key"],
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(
                request,
                _("Refund %(number)s is requested and waits for a supervisor's approval.") % {"number": refund.number},
            )
            return redirect("payments:refund_detail", refund_id=refund.pk)
    holder = (form.data.get("holder") if form.is_bound else request.GET.get("holder")) or ""
    known = None
    if holder:
        try:
            known = account_summary(operator=operator, holder=holder_get_for_access(access=access, holder=holder))
        except Http404:  # an unknown account: the form says so when sent
            known = None
    return render(
        request,
        "payments/refund_form.html",
        {
            "form": form,
            "account": known,
            "deposit": deposit_summary(operator=operator, holder=known.holder) if known else None,
            "money_format": _money_format(operator.currency),
        },
        status=400 if form.errors else 200,
    )


def _refund_page(
    request: HttpRequest,
    refund: Refund,
    *,
    reject_form: RefundRejectForm | None = None,
    payout_form: RefundPayoutForm | None = None,
    error: str = "",
) -> HttpResponse:
    access = _access(request)
    can_decide = access.has_role(*REFUND_DECISION_ROLES)
    return render(
        request,
        "payments/refund_detail.html",
        {
            "refund": refund,
            "account": account_summary(operator=access.operator, holder=refund.holder),
            "deposit": deposit_summary(operator=access.operator, holder=refund.holder),
            "can_approve": can_decide
            and refund.status == Refund.Status.REQUESTED
            and refund.requested_by_id != request.user.pk,
            "own_request": refund.requested_by_id == request.user.pk,
            "can_reject": can_decide and refund.is_pending,
            "can_pay_out": can_decide and refund.status == Refund.Status.APPROVED,
            "can_decide": can_decide,
            "reject_form": reject_form or RefundRejectForm(prefix="reject"),
            "payout_form": payout_form or RefundPayoutForm(prefix="payout"),
            "error": error,
            "audit_entries": audit_for(refund)[:50],
            "money_format": _money_format(refund.currency),
        },
        status=400 if (reject_form or payout_form or error) else 200,
    )


@login_required
@require_roles(*REFUND_VIEW_ROLES)
def refund_detail(request: HttpRequest, refund_id: int) -> HttpResponse:
    """A refund: who asked, for whom, how it is paid out, and its approval, rejection or payout."""
    return _refund_page(request, refund_get_for_access(access=_access(request), refund_id=refund_id))


@login_required
@require_roles(*REFUND_DECISION_ROLES)
@require_POST
def refund_approve_view(request: HttpRequest, refund_id: int) -> HttpResponse:
    refund = refund_get_for_access(access=_access(request), refund_id=refund_id)
    try:
        refund = refund_approve(refund=refund, acting_user=request.user)
    except DomainError as error:
        return _refund_page(request, refund, error=str(error.message))
    messages.success(request, _("Refund %(number)s is approved: it can be paid out.") % {"number": refund.number})
    return redirect("payments:refund_detail", refund_id=refund.pk)


@login_required
@require_roles(*REFUND_DECISION_ROLES)
@require_POST
def refund_reject_view(request: HttpRequest, refund_id: int) -> HttpResponse:
    refund = refund_get_for_access(access=_access(request), refund_id=refund_id)
    form = RefundRejectForm(request.POST, prefix="reject")
    if form.is_valid():
        try:
            refund = refund_reject(refund=refund, reason=form.cleaned_data["reason"], acting_user=request.user)
        except DomainError as error:
            if not error.fields:  # the refund is no longer waiting: nothing to fix on the form
                return _refund_page(request, refund, error=str(error.message))
            form_add_domain_error(form, error)
        else:
            messages.success(
                request,
                _("Refund %(number)s is rejected; the amount is back on the account.") % {"number": refund.number},
            )
            return redirect("payments:refund_detail", refund_id=refund.pk)
    return _refund_page(request, refund, reject_form=form)


@login_required
@require_roles(*REFUND_DECISION_ROLES)
@require_POST
def refund_payout_view(request: HttpRequest, refund_id: int) -> HttpResponse:
    refund = refund_get_for_access(access=_access(request), refund_id=refund_id)
    form = RefundPayoutForm(request.POST, prefix="payout")
    if form.is_valid():
        try:
            refund = refund_pay_out(
                refund=refund,
                payout_reference=form.cleaned_data["payout_reference"],
                payout_date=form.cleaned_data["payout_date"],
                acting_user=request.user,
            )
        except DomainError as error:
            if not error.fields:  # not approved, or paid out already: nothing to fix on the form
                return _refund_page(request, refund, error=str(error.message))
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Refund %(number)s is paid out.") % {"number": refund.number})
            return redirect("payments:refund_detail", refund_id=refund.pk)
    return _refund_page(request, refund, payout_form=form)
