"""Billing pages: the cycles calendar, bill runs (new, progress, preview, approve, publish), bills and a bill."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mita.billing.cycles import cycles_generate
from mita.billing.forms import CyclesForm, RunForm
from mita.billing.models import Bill, BillRun
from mita.billing.selectors import (
    BILLING_ADMIN_ROLES,
    BILLING_READ_ROLES,
    BILLING_WRITE_ROLES,
    bill_get_for_access,
    bills_visible_to,
    cycle_get_for_access,
    cycles_visible_to,
    exceptions_by_kind,
    exceptions_of,
    run_get_for_access,
    runs_visible_to,
)
from mita.billing.services import (
    billrun_approve,
    billrun_create,
    billrun_discard,
    billrun_publish,
    billrun_resume,
    cycle_close,
)
from mita.core.errors import DomainError
from mita.core.forms import form_add_domain_error
from mita.core.models import Job
from mita.core.permissions import require_roles


def _access(request: HttpRequest) -> Any:
    return request.access  # type: ignore[attr-defined]


def _can_write(access: Any) -> bool:
    return access.operator is not None and access.has_role(*BILLING_WRITE_ROLES)


def _is_admin(access: Any) -> bool:
    return access.operator is not None and access.has_role(*BILLING_ADMIN_ROLES)


def _own_run(request: HttpRequest, bill_run_id: int) -> BillRun:
    access = _access(request)
    run = run_get_for_access(access=access, run_id=bill_run_id)
    if access.operator is None or run.operator_id != access.operator.pk:
        raise Http404
    return run


@login_required
@require_roles(*BILLING_READ_ROLES)
def cycle_list(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    form = CyclesForm(request.POST or None, initial={"year": year, "frequency": "monthly"})
    status = 200
    if request.method == "POST":
        if not _can_write(access):
            raise Http404
        if form.is_valid():
            try:
                cycles_generate(operator=access.operator, **form.cleaned_data)
            except DomainError as error:
                form_add_domain_error(form, error)
            else:
                messages.success(request, _("The calendar of %(year)s is ready.") % {"year": form.cleaned_data["year"]})
                return redirect(f"{request.path}?year={form.cleaned_data['year']}")
        status = 400
    context = {
        "cycles": cycles_visible_to(access=access, year=year),
        "year": year,
        "form": form,
        "can_write": _can_write(access),
        "can_close": _is_admin(access),
        "oversight": access.operator is None,
    }
    return render(request, "billing/cycle_list.html", context, status=status)


@login_required
@require_roles(*BILLING_ADMIN_ROLES)
@require_POST
def cycle_close_view(request: HttpRequest, cycle_id: int) -> HttpResponse:
    access = _access(request)
    cycle = cycle_get_for_access(access=access, cycle_id=cycle_id)
    if access.operator is None or cycle.operator_id != access.operator.pk:
        raise Http404
    try:
        cycle_close(cycle=cycle, acting_user=request.user)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Cycle %(code)s is closed.") % {"code": cycle.code})
    return redirect(f"{reverse('billing:cycle_list')}?year={cycle.start.year}")


@login_required
@require_roles(*BILLING_READ_ROLES)
def run_list(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    runs = runs_visible_to(access=access)[:200]
    context = {"runs": runs, "can_write": _can_write(access), "oversight": access.operator is None}
    return render(request, "billing/run_list.html", context)


@login_required
@require_roles(*BILLING_WRITE_ROLES)
def run_create_view(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    if access.operator is None:
        raise Http404
    # The household view's "generate bill" links here with the cycle and the scope filled in.
    form = RunForm(request.POST or None, operator=access.operator, initial=request.GET.dict())
    if request.method == "POST" and form.is_valid():
        try:
            run = billrun_create(
                operator=access.operator,
                cycle=form.cleaned_data["cycle"],
                acting_user=request.user,
                scope_kind=form.cleaned_data["scope_kind"],
                scope_id=form.cleaned_data.get("scope_id"),
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            return redirect("billing:run_detail", bill_run_id=run.pk)
    return render(request, "billing/run_form.html", {"form": form}, status=400 if request.method == "POST" else 200)


@login_required
@require_roles(*BILLING_READ_ROLES)
def run_detail(request: HttpRequest, bill_run_id: int) -> HttpResponse:
    access = _access(request)
    run = run_get_for_access(access=access, run_id=bill_run_id)
    kind = request.GET.get("kind", "")
    context = {
        "run": run,
        "job": run.job,
        "by_kind": exceptions_by_kind(run=run),
        "exceptions": exceptions_of(run=run, kind=kind)[:200],
        "kind": kind,
        "bills": bills_visible_to(access=access, run=run)[:100],
        "can_write": _can_write(access) and run.operator_id == access.operator.pk,
        "can_discard": _is_admin(access) and run.operator_id == access.operator.pk,
        "working": run.status in (BillRun.Status.COMPUTING, BillRun.Status.ISSUING, BillRun.Status.PUBLISHING),
        "stopped": run.job is not None and run.job.status == Job.Status.FAILED,
    }
    template = "billing/run_detail.html#progress" if request.htmx else "billing/run_detail.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@login_required
@require_roles(*BILLING_WRITE_ROLES)
@require_POST
def run_approve_view(request: HttpRequest, bill_run_id: int) -> HttpResponse:
    run = _own_run(request, bill_run_id)
    try:
        billrun_approve(run=run, acting_user=request.user)
    except DomainError as error:
        messages.error(request, str(error.message))
    return redirect("billing:run_detail", bill_run_id=run.pk)


@login_required
@require_roles(*BILLING_WRITE_ROLES)
@require_POST
def run_publish_view(request: HttpRequest, bill_run_id: int) -> HttpResponse:
    run = _own_run(request, bill_run_id)
    try:
        billrun_publish(run=run, acting_user=request.user)
    except DomainError as error:
        messages.error(request, str(error.message))
    return redirect("billing:run_detail", bill_run_id=run.pk)


@login_required
@require_roles(*BILLING_WRITE_ROLES)
@require_POST
def run_resume_view(request: HttpRequest, bill_run_id: int) -> HttpResponse:
    run = _own_run(request, bill_run_id)
    try:
        billrun_resume(run=run, acting_user=request.user)
    except DomainError as error:
        messages.error(request, str(error.message))
    return redirect("billing:run_detail", bill_run_id=run.pk)


@login_required
@require_roles(*BILLING_ADMIN_ROLES)
@require_POST
def run_discard_view(request: HttpRequest, bill_run_id: int) -> HttpResponse:
    run = _own_run(request, bill_run_id)
    try:
        billrun_discard(run=run, acting_user=request.user, reason=request.POST.get("reason", ""))
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The preview is discarded; the cycle's connections can be billed by a new run."))
    return redirect("billing:run_detail", bill_run_id=run.pk)


@login_required
@require_roles(*BILLING_READ_ROLES)
def bill_list(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    cycle = request.GET.get("cycle", "")[:10]
    status = request.GET.get("status", "")
    account = request.GET.get("account", "")[:64]
    bills = bills_visible_to(
        access=access, cycle=cycle, status=status if status in Bill.Status.values else "", account=account
    )
    context = {
        "bills": bills[:200],
        "cycle": cycle,
        "status": status,
        "account": account,
        "statuses": Bill.Status.choices,
    }
    return render(request, "billing/bill_list.html", context)


@login_required
@require_roles(*BILLING_READ_ROLES)
def bill_detail(request: HttpRequest, bill_id: int) -> HttpResponse:
    bill = bill_get_for_access(access=_access(request), bill_id=bill_id)
    return render(request, "billing/bill_detail.html", {"bill": bill, "lines": bill.line_items})
