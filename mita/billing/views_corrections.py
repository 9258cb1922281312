"""Corrections pages: penalty rules, a penalty run (preview, levy), cancel and rebill on the bill page, and the bills
flagged for cancel and rebill by index adjustments."""

import datetime
from typing import Any, NoReturn

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mita.billing.corrections import (
    adjustment_reason,
    bill_cancel,
    bill_cancel_and_rebill,
    bill_rebill,
    bills_flagged_for_rebill,
)
from mita.billing.forms_corrections import CancelForm, PenaltyRuleForm, PenaltyRunForm
from mita.billing.penalties import penalties_apply, penalties_preview, penalty_rule_save
from mita.billing.selectors import BILLING_READ_ROLES
from mita.billing.selectors_corrections import (
    CANCEL_ROLES,
    PENALTY_RUN_ROLES,
    REBILL_ROLES,
    RULE_WRITE_ROLES,
    operator_of,
    own_bill,
    penalties_of,
    rule_get_for_access,
    rules_of,
)
from mita.core.errors import DomainError
from mita.core.forms import form_add_domain_error
from mita.core.permissions import request_access, require_roles


def _forbidden() -> NoReturn:
    raise PermissionDenied


def _rule_form_page(request: HttpRequest, form: PenaltyRuleForm, rule: Any = None) -> HttpResponse:
    access = request_access(request)
    if request.method == "POST":
        if not access.has_role(*RULE_WRITE_ROLES):
            _forbidden()
        if form.is_valid():
            try:
                penalty_rule_save(
                    operator=operator_of(access), acting_user=request.user, rule=rule, **form.cleaned_data
                )
            except DomainError as error:
                form_add_domain_error(form, error)
            else:
                messages.success(request, _("The penalty rule is saved."))
                return redirect("billing:penalty_rules")
    context = {
        "form": form,
        "rule": rule,
        "rules": rules_of(access=access),
        "can_write": access.has_role(*RULE_WRITE_ROLES),
    }
    return render(
        request, "billing/corrections/penalty_rules.html", context, status=400 if request.method == "POST" else 200
    )


@login_required
@require_roles(*BILLING_READ_ROLES)
def penalty_rules(request: HttpRequest) -> HttpResponse:
    operator_of(request_access(request))
    return _rule_form_page(request, PenaltyRuleForm(request.POST or None))


@login_required
@require_roles(*BILLING_READ_ROLES)
def penalty_rule_edit(request: HttpRequest, penalty_rule_id: int) -> HttpResponse:
    rule = rule_get_for_access(access=request_access(request), rule_id=penalty_rule_id)
    return _rule_form_page(request, PenaltyRuleForm.of(rule, request.POST or None), rule)


@login_required
@require_roles(*BILLING_READ_ROLES)
def penalty_run(request: HttpRequest) -> HttpResponse:
    """GET ?on=YYYY-MM-DD: what a run would levy that day; POST: levy it."""
    access = request_access(request)
    operator = operator_of(access)
    form = PenaltyRunForm(request.POST if request.method == "POST" else (request.GET or None))
    can_apply = access.has_role(*PENALTY_RUN_ROLES)
    on: datetime.date = timezone.localdate()
    status = 200
    if form.is_bound:
        if form.is_valid():
            on = form.cleaned_data["on"]
        else:
            status = 400
    if request.method == "POST" and status == 200:
        if not can_apply:
            _forbidden()
        try:
            result = penalties_apply(operator=operator, on=on, acting_user=request.user)
        except DomainError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(
                request,
                _("%(count)s penalties levied, %(total)s in all.") % {"count": result.levied, "total": result.total},
            )
        return redirect(f"{request.path}?on={on.isoformat()}")
    context = {
        "form": form if form.is_bound else PenaltyRunForm(initial={"on": on}),
        "on": on,
        "due": penalties_preview(operator=operator, on=on, limit=500) if status == 200 else [],
        "levied": penalties_of(access=access)[:100],
        "can_apply": can_apply,
        "rules": rules_of(access=access).filter(active=True),
    }
    return render(request, "billing/corrections/penalty_run.html", context, status=status)


@login_required
@require_roles(*CANCEL_ROLES)
@require_POST
def bill_cancel_view(request: HttpRequest, bill_id: int) -> HttpResponse:
    bill = own_bill(access=request_access(request), bill_id=bill_id)
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the bill is cancelled."))
        return redirect("billing:bill_detail", bill_id=bill.pk)
    try:
        bill_cancel(bill=bill, reason=form.cleaned_data["reason"], acting_user=request.user)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Bill %(number)s is cancelled.") % {"number": bill.number})
    return redirect("billing:bill_detail", bill_id=bill.pk)


@login_required
@require_roles(*REBILL_ROLES)
@require_POST
def bill_rebill_view(request: HttpRequest, bill_id: int) -> HttpResponse:
    bill = own_bill(access=request_access(request), bill_id=bill_id)
    try:
        new = bill_rebill(bill=bill, acting_user=request.user)
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("billing:bill_detail", bill_id=bill.pk)
    messages.success(request, _("Bill %(number)s replaces it.") % {"number": new.number})
    return redirect("billing:bill_detail", bill_id=new.pk)


@login_required
@require_roles(*BILLING_READ_ROLES)
def rebill_list(request: HttpRequest) -> HttpResponse:
    access = request_access(request)
    context = {
        "flagged": bills_flagged_for_rebill(operator=operator_of(access)),
        "can_correct": access.has_role(*CANCEL_ROLES),
    }
    return render(request, "billing/corrections/rebill_list.html", context)


@login_required
@require_roles(*CANCEL_ROLES)
@require_POST
def rebill_flagged_view(request: HttpRequest, bill_id: int) -> HttpResponse:
    """Cancel and rebill one flagged bill, the adjustments' reasons as the cancellation's."""
    access = request_access(request)
    bill = own_bill(access=access, bill_id=bill_id)
    flagged = {row["bill"].pk: row for row in bills_flagged_for_rebill(operator=operator_of(access))}
    if bill.pk not in flagged:
        messages.error(request, _("This bill is not flagged for a rebill (any more)."))
        return redirect("billing:rebill_list")
    try:
        new = bill_cancel_and_rebill(
            bill=bill, reason=adjustment_reason(flagged[bill.pk]["adjustments"]), acting_user=request.user
        )
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request, _("Bill %(old)s is cancelled; %(new)s replaces it.") % {"old": bill.number, "new": new.number}
        )
    return redirect("billing:rebill_list")
