"""Cashier pages: a cashier's till (open with a float, close with a count), banking slips, the day-end report, and
collectors' hand-overs confirmed by the treasurer. Wired into payments/urls.py under tills/ and handovers/."""

import datetime
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mita.accounts.roles import Role
from mita.core.audit import audit_for
from mita.core.errors import DomainError
from mita.core.forms import form_add_domain_error
from mita.core.money import CURRENCY_EXPONENTS
from mita.core.permissions import require_roles
from mita.payments.cashier import (
    BANKING_ROLES,
    TILL_ROLES,
    banking_slip_record,
    handover_confirm,
    handover_dispute,
    handover_record,
    till_close,
    till_open,
)
from mita.payments.denominations import count_total
from mita.payments.forms import DATE
from mita.payments.forms_cashier import BankingSlipForm, DisputeForm, HandoverForm, TillCloseForm, TillOpenForm
from mita.payments.models_cashier import CashHandover, TillSession
from mita.payments.selectors_cashier import (
    DAY_END_ROLES,
    HANDOVER_PAGE_ROLES,
    TILL_PAGE_ROLES,
    bankable_of_till,
    banking_slips_visible_to,
    collector_cash,
    collectors_cash,
    day_end_report,
    handover_get_for_access,
    handovers_visible_to,
    is_cash_supervisor,
    office_cash,
    payments_of_till,
    till_expected,
    till_get_for_access,
    till_open_of,
    tills_visible_to,
    treasurers_of,
)

LIST_ROWS = 200
MAX_REPORT_DAYS = 62


def _money_format(currency: str) -> str:
    """The floatformat argument that writes the currency's minor units, grouped by the reader's locale."""
    return f"{CURRENCY_EXPONENTS.get(currency, 2)}g"


def _access(request: HttpRequest) -> Any:
    access = request.access  # type: ignore[attr-defined]
    if access.operator is None:  # a regulator or district workspace keeps no till
        raise Http404
    return access


def _date(text: str | None, default: datetime.date) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text) if text else default
    except ValueError:
        return default


# Tills ------------------------------------------------------------------------------------------------------


@login_required
@require_roles(*TILL_PAGE_ROLES)
def till_list(request: HttpRequest) -> HttpResponse:
    """The user's tills (every till of the operator for a supervisor), newest first, with their figures."""
    access = _access(request)
    status = request.GET.get("status", "")
    if status not in TillSession.Status.values:
        status = ""
    tills = list(tills_visible_to(access=access, status=status)[:LIST_ROWS])
    return render(
        request,
        "payments/cashier/till_list.html",
        {
            "rows": [(till, till_expected(till)) for till in tills],
            "status": status,
            "statuses": TillSession.Status.choices,
            "supervisor": is_cash_supervisor(access),
            "can_keep_till": access.has_role(*TILL_ROLES),
            "open_till": till_open_of(operator=access.operator, user=request.user),
            "can_bank": access.has_role(*BANKING_ROLES),
            "money_format": _money_format(access.operator.currency),
        },
    )


@login_required
@require_roles(*TILL_ROLES)
def till_open_view(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    operator = access.operator
    if (open_till := till_open_of(operator=operator, user=request.user)) and request.method != "POST":
        messages.info(request, _("Your till %(till)s is open.") % {"till": open_till.pk})
        return redirect("payments:till_detail", till_id=open_till.pk)
    form = TillOpenForm(request.POST or None, currency=operator.currency)
    if request.method == "POST" and form.is_valid():
        try:
            till = till_open(
                operator=operator,
                cashier=request.user,
                float_amount=form.cleaned_data["float_amount"],
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(
                request, _("Till %(till)s is open. Cash you take at the counter goes into it.") % {"till": till.pk}
            )
            return redirect("payments:till_detail", till_id=till.pk)
    return render(
        request,
        "payments/cashier/till_open.html",
        {"form": form, "currency": operator.currency},
        status=400 if form.errors else 200,
    )


def _till_context(request: HttpRequest, till: TillSession) -> dict[str, Any]:
    access = _access(request)
    mine = till.cashier_id == request.user.pk
    return {
        "till": till,
        "expected": till_expected(till),
        "live_taken": till.live_taken,  # type: ignore[attr-defined]
        "live_voided": till.live_voided,  # type: ignore[attr-defined]
        "live_count": till.live_count,  # type: ignore[attr-defined]
        "can_close": till.is_open and (mine or is_cash_supervisor(access)),
        "bankable": bankable_of_till(till=till),
        "can_bank": not till.is_open and (is_cash_supervisor(access) or (mine and access.has_role(*BANKING_ROLES))),
        "money_format": _money_format(till.currency),
    }


@login_required
@require_roles(*TILL_PAGE_ROLES)
def till_detail(request: HttpRequest, till_id: int) -> HttpResponse:
    """A till: float, cash taken, voids, what it should hold; once closed, the count, the variance and its
    explanation, and the banking slips."""
    till = till_get_for_access(access=_access(request), till_id=till_id)
    counted_lines = [(key, count, Decimal(key) * count) for key, count in (till.counts or {}).items() if count]
    return render(
        request,
        "payments/cashier/till_detail.html",
        _till_context(request, till)
        | {
            "payments": payments_of_till(till=till)[:LIST_ROWS],
            "slips": till.banking_slips.select_related("recorded_by").order_by("pk"),
            "counted_lines": counted_lines,
            "audit_entries": audit_for(till)[:50],
        },
    )


@login_required
@require_roles(*TILL_PAGE_ROLES)
def till_close_view(request: HttpRequest, till_id: int) -> HttpResponse:
    """Count the till by denomination. "Check" shows the variance; "Close" closes it (a variance needs its
    explanation first)."""
    access = _access(request)
    till = till_get_for_access(access=access, till_id=till_id)
    context = _till_context(request, till)
    if not till.is_open:
        messages.info(request, _("Till %(till)s is closed.") % {"till": till.pk})
        return redirect("payments:till_detail", till_id=till.pk)
    if not context["can_close"]:
        raise Http404
    form = TillCloseForm(request.POST or None, currency=till.currency)
    counted = variance = None
    status = 200
    if request.method == "POST" and form.is_valid():
        counted = count_total(currency=till.currency, pieces=form.counts())
        variance = counted - context["expected"]
        if request.POST.get("action") == "close":
            try:
                till_close(
                    till=till,
                    counts=form.counts(),
                    explanation=form.cleaned_data["explanation"],
                    acting_user=request.user,
                )
            except DomainError as error:
                if error.code == "till_closed":
                    messages.error(request, str(error.message))
                    return redirect("payments:till_detail", till_id=till.pk)
                form_add_domain_error(form, error)
            else:
                messages.success(request, _("Till %(till)s is closed.") % {"till": till.pk})
                return redirect("payments:till_detail", till_id=till.pk)
    if form.errors:
        status = 400
    return render(
        request,
        "payments/cashier/till_close.html",
        context | {"form": form, "counted": counted, "variance": variance},
        status=status,
    )


# Banking ----------------------------------------------------------------------------------------------------


@login_required
@require_roles(*BANKING_ROLES)
def banking_list(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    return render(
        request,
        "payments/cashier/banking_list.html",
        {
            "slips": banking_slips_visible_to(access=access)[:LIST_ROWS],
            "office_cash": office_cash(operator=access.operator) if is_cash_supervisor(access) else None,
            "money_format": _money_format(access.operator.currency),
        },
    )


@login_required
@require_roles(*BANKING_ROLES)
def banking_slip_view(request: HttpRequest) -> HttpResponse:
    """Record the bank's slip for cash taken to the bank, for a closed till (or office cash, for a supervisor)."""
    access = _access(request)
    operator = access.operator
    supervisor = is_cash_supervisor(access)
    # The closed tills with cash left to bank (counted, less the float, less slips already recorded).
    tills = (
        tills_visible_to(access=access, status=TillSession.Status.CLOSED)
        .filter(counted__gt=F("float_amount") + F("banked"))
        .order_by("-business_date", "-pk")
    )
    initial: dict[str, Any] = {}
    if request.method == "GET" and request.GET.get("till", "").isdigit():
        chosen = till_get_for_access(access=access, till_id=int(request.GET["till"]))
        initial = {"till": chosen.pk, "amount": bankable_of_till(till=chosen) or None}
    form = BankingSlipForm(
        request.POST or None,
        currency=operator.currency,
        tills=tills,
        till_required=not supervisor,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            slip = banking_slip_record(
                operator=operator,
                till=data["till"],
                bank_name=data["bank_name"],
                slip_number=data["slip_number"],
                amount=data["amount"],
                deposited_on=data["deposited_on"],
                idempotency_key=data["idempotency_key"],
                acting_user=request.user,
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Slip %(number)s is recorded.") % {"number": slip.slip_number})
            if slip.till_id:
                return redirect("payments:till_detail", till_id=slip.till_id)
            return redirect("payments:banking_list")
    return render(
        request,
        "payments/cashier/banking_form.html",
        {"form": form, "currency": operator.currency},
        status=400 if form.errors else 200,
    )


# The day-end report -------------------------------------------------------------------------------------------


@login_required
@require_roles(*DAY_END_ROLES)
def day_end_view(request: HttpRequest) -> HttpResponse:
    """Per day and person: payments by channel, voids, float, expected, counted, variance, banked, handed over."""
    access = _access(request)
    today = timezone.localdate()
    date_to = _date(request.GET.get("date_to"), today)
    date_from = _date(request.GET.get("date_from"), date_to)
    if date_from > date_to:
        date_from, date_to = date_to, date_from
    if (date_to - date_from).days >= MAX_REPORT_DAYS:
        date_from = date_to - datetime.timedelta(days=MAX_REPORT_DAYS - 1)
        messages.info(request, _("The report covers at most %(days)s days.") % {"days": MAX_REPORT_DAYS})
    return render(
        request,
        "payments/cashier/day_end.html",
        {
            "days": day_end_report(access=access, date_from=date_from, date_to=date_to),
            "date_from": date_from,
            "date_to": date_to,
            "date_widget": DATE,
            "supervisor": is_cash_supervisor(access),
            "money_format": _money_format(access.operator.currency),
            "currency": access.operator.currency,
        },
    )


# Hand-overs ---------------------------------------------------------------------------------------------------


@login_required
@require_roles(*HANDOVER_PAGE_ROLES)
def handover_list(request: HttpRequest) -> HttpResponse:
    """A collector: their cash in hand and their hand-overs. A supervisor: hand-overs waiting, every collector's
    cash in hand, and the latest hand-overs."""
    access = _access(request)
    operator = access.operator
    supervisor = is_cash_supervisor(access)
    collector = access.has_role(Role.REVENUE_COLLECTOR)
    handovers = handovers_visible_to(access=access)
    return render(
        request,
        "payments/cashier/handover_list.html",
        {
            "supervisor": supervisor,
            "collector": collector,
            "my_cash": collector_cash(operator=operator, collector=request.user) if collector else None,
            "collectors": collectors_cash(operator=operator) if supervisor else [],
            "pending": handovers.filter(status=CashHandover.Status.PENDING).order_by("recorded_at", "pk")
            if supervisor
            else [],
            "handovers": handovers[:LIST_ROWS],
            "money_format": _money_format(operator.currency),
        },
    )


@login_required
@require_roles(Role.REVENUE_COLLECTOR)
def handover_new(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    operator = access.operator
    form = HandoverForm(
        request.POST or None,
        currency=operator.currency,
        treasurers=treasurers_of(operator=operator, excluding=request.user),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            handover = handover_record(
                operator=operator,
                collector=request.user,
                treasurer=data["treasurer"],
                amount=data["amount"],
                counts=form.counts(),
                note=data["note"],
                idempotency_key=data["idempotency_key"],
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(
                request,
                _("Hand-over recorded: %(name)s confirms it when they have counted the cash.")
                % {"name": handover.treasurer.name},
            )
            return redirect("payments:handover_detail", handover_id=handover.pk)
    return render(
        request,
        "payments/cashier/handover_form.html",
        {
            "form": form,
            "cash": collector_cash(operator=operator, collector=request.user),
            "money_format": _money_format(operator.currency),
        },
        status=400 if form.errors else 200,
    )


def _handover_page(
    request: HttpRequest, handover: CashHandover, *, dispute_form: DisputeForm | None = None, status: int = 200
) -> HttpResponse:
    access = _access(request)
    can_decide = (
        handover.status == CashHandover.Status.PENDING
        and is_cash_supervisor(access)
        and handover.collector_id != request.user.pk
    )
    return render(
        request,
        "payments/cashier/handover_detail.html",
        {
            "handover": handover,
            "can_decide": can_decide,
            "dispute_form": dispute_form or DisputeForm(),
            "counted_lines": [(key, count, Decimal(key) * count) for key, count in handover.counts.items() if count],
            "audit_entries": audit_for(handover)[:50],
            "money_format": _money_format(handover.currency),
        },
        status=status,
    )


@login_required
@require_roles(*HANDOVER_PAGE_ROLES)
def handover_detail(request: HttpRequest, handover_id: int) -> HttpResponse:
    handover = handover_get_for_access(access=_access(request), handover_id=handover_id)
    return _handover_page(request, handover)


@login_required
@require_roles(*HANDOVER_PAGE_ROLES)
@require_POST
def handover_confirm_view(request: HttpRequest, handover_id: int) -> HttpResponse:
    handover = handover_get_for_access(access=_access(request), handover_id=handover_id)
    try:
        handover = handover_confirm(handover=handover, acting_user=request.user)
    except DomainError as error:
        messages.error(request, str(error.message))
        return _handover_page(request, handover, status=error.status)
    messages.success(request, _("Hand-over confirmed: the cash is at the office now."))
    return redirect("payments:handover_detail", handover_id=handover.pk)


@login_required
@require_roles(*HANDOVER_PAGE_ROLES)
@require_POST
def handover_dispute_view(request: HttpRequest, handover_id: int) -> HttpResponse:
    handover = handover_get_for_access(access=_access(request), handover_id=handover_id)
    form = DisputeForm(request.POST)
    if form.is_valid():
        try:
            handover = handover_dispute(handover=handover, reason=form.cleaned_data["reason"], acting_user=request.user)
        except DomainError as error:
            if "reason" not in error.fields:
                messages.error(request, str(error.message))
                return _handover_page(request, handover, status=error.status)
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Hand-over disputed: the cash stays in the collector's hand."))
            return redirect("payments:handover_detail", handover_id=handover.pk)
    return _handover_page(request, handover, dispute_form=form, status=400)


urlpatterns = [
    path("tills/", till_list, name="till_list"),
    path("tills/open/", till_open_view, name="till_open"),
    path("tills/<int:till_id>/", till_detail, name="till_detail"),
    path("tills/<int:till_id>/close/", till_close_view, name="till_close"),
    path("tills/banking/", banking_list, name="banking_list"),
    path("tills/banking/new/", banking_slip_view, name="banking_slip"),
    path("tills/day-end/", day_end_view, name="day_end"),
    path("handovers/", handover_list, name="handover_list"),
    path("handovers/new/", handover_new, name="handover_new"),
    path("handovers/<int:handover_id>/", handover_detail, name="handover_detail"),
    path("handovers/<int:handover_id>/confirm/", handover_confirm_view, name="handover_confirm"),
    path("handovers/<int:handover_id>/dispute/", handover_dispute_view, name="handover_dispute"),
]
