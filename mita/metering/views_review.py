"""Pages of the review part: the queue and a reading's decisions, estimates for a cycle, the anomaly report (and its
CSV), index adjustments, the operator's metering settings."""

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from mita.core.errors import DomainError
from mita.core.forms import form_add_domain_error
from mita.core.permissions import require_roles
from mita.customers.selectors_details import routes_visible_to
from mita.metering.adjustments import index_adjust
from mita.metering.estimation import estimates_make
from mita.metering.forms_review import (
    AdjustmentForm,
    AnomalyReportForm,
    DecisionForm,
    EstimatesForm,
    MeteringSettingsForm,
    ReviewFilterForm,
)
from mita.metering.metering_settings import FIELDS, metering_settings_update
from mita.metering.models import Reading
from mita.metering.review import reading_accept, reading_correct, reading_estimate, reading_reject
from mita.metering.selectors_review import (
    ADJUST_ROLES,
    REPORT_KINDS,
    REVIEW_ROLES,
    SETTINGS_ROLES,
    adjustments_visible_to,
    anomaly_report,
    anomaly_report_csv,
    metering_settings_of,
    monthly_averages,
    operator_of,
    queue_readers,
    reading_get_for_access,
    recent_readings,
    review_queue,
    successor_of,
)

PAGE_ROWS = 50


def _access(request: HttpRequest) -> Any:
    return request.access  # type: ignore[attr-defined]


@login_required
@require_roles(*REVIEW_ROLES)
def review_queue_view(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    operator_of(access)
    routes = [(route.pk, f"{route.code} {route.name}") for route in routes_visible_to(access=access)]
    form = ReviewFilterForm(request.GET or None, routes=routes, readers=queue_readers(access=access))
    filters = form.cleaned_data if form.is_valid() else {}
    readings = review_queue(
        access=access,
        anomaly=filters.get("anomaly") or "",
        route_id=filters.get("route"),
        reader_id=filters.get("reader"),
        cycle=filters.get("cycle") or "",
    )
    page = Paginator(readings, PAGE_ROWS).get_page(request.GET.get("page"))
    averages = monthly_averages(list(page.object_list))
    rows = [(reading, averages.get((reading.connection_id, reading.register))) for reading in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    template = "metering/review/queue.html"
    if request.htmx:  # type: ignore[attr-defined]  # the filters swap the table only
        template += "#queue"
    return render(
        request,
        template,
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "estimates_form": EstimatesForm(),
            "can_adjust": access.has_role(*ADJUST_ROLES),
        },
    )


def _decide(reading: Reading, data: dict[str, Any], user: Any) -> Reading:
    action, note = data["action"], data["note"]
    if action == "accept":
        return reading_accept(reading=reading, note=note, acting_user=user)
    if action == "correct":
        return reading_correct(
            reading=reading,
            current_index=data["current_index"],
            read_on=data.get("read_on"),
            note=note,
            acting_user=user,
        )
    if action == "estimate":
        return reading_estimate(reading=reading, note=note, acting_user=user)
    return reading_reject(reading=reading, note=note, acting_user=user)


DONE = {
    "accept": gettext_lazy("Reading accepted: it counts."),
    "correct": gettext_lazy("Reading corrected."),
    "estimate": gettext_lazy("Reading replaced by an estimate."),
    "reject": gettext_lazy("Reading rejected: it counts for nothing."),
}


@login_required
@require_roles(*REVIEW_ROLES)
def reading_review_view(request: HttpRequest, reading_id: int) -> HttpResponse:
    access = _access(request)
    reading = reading_get_for_access(access=access, reading_id=reading_id)
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = _decide(reading, form.cleaned_data, request.user)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, str(DONE[form.cleaned_data["action"]]))
            if result.status == Reading.Status.REVIEW and result.pk != reading.pk:
                messages.warning(request, _("The correction has another anomaly: it waits for review."))
            return redirect("metering:review_queue")
    averages = monthly_averages([reading])
    return render(
        request,
        "metering/review/reading.html",
        {
            "reading": reading,
            "form": form,
            "action": form.data.get("action", "") if form.is_bound else "",
            "average": averages.get((reading.connection_id, reading.register)),
            "recent": recent_readings(reading),
            "successor": successor_of(reading),
            "can_adjust": access.has_role(*ADJUST_ROLES) and reading.status == Reading.Status.ACCEPTED,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_roles(*REVIEW_ROLES)
@require_POST
def estimates_view(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    form = EstimatesForm(request.POST)
    if form.is_valid():
        try:
            made = estimates_make(
                operator=operator_of(access), cycle=form.cleaned_data["cycle"], acting_user=request.user
            )
        except DomainError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(
                request,
                _("Cycle %(cycle)s: %(estimated)s connections estimated, %(codes)s readings not read replaced.")
                % {"cycle": made.cycle, "estimated": made.estimated, "codes": made.reader_codes},
            )
            if made.no_history:
                messages.warning(
                    request,
                    _("Estimated at 0 for lack of history: %(numbers)s.")
                    % {"numbers": ", ".join(made.no_history[:20]) + (" …" if len(made.no_history) > 20 else "")},
                )
    else:
        messages.error(request, _("Write the cycle as a month: YYYY-MM."))
    return redirect("metering:review_queue")


def _report_form(request: HttpRequest) -> AnomalyReportForm:
    today = timezone.localdate()
    data = request.GET.copy()
    data.setdefault("date_from", (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1).isoformat())
    data.setdefault("date_to", today.isoformat())
    data.setdefault("by", "route")
    return AnomalyReportForm(data)


@login_required
@require_roles(*REVIEW_ROLES)
def anomaly_report_view(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    form = _report_form(request)
    rows: list[dict[str, Any]] = []
    if form.is_valid():
        rows = anomaly_report(access=access, **form.cleaned_data)
    return render(
        request,
        "metering/review/report.html",
        {
            "form": form,
            "rows": [(row, [row["counts"][kind.value] for kind in REPORT_KINDS]) for row in rows],
            "kinds": REPORT_KINDS,
            "query": request.GET.urlencode(),
        },
        status=200 if form.is_valid() else 400,
    )


@login_required
@require_roles(*REVIEW_ROLES)
def anomaly_report_csv_view(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    form = _report_form(request)
    if not form.is_valid():
        return HttpResponse(_("Give a period: from and until, as dates."), status=400, content_type="text/plain")
    data = form.cleaned_data
    content = anomaly_report_csv(anomaly_report(access=access, **data), by=data["by"])
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    name = f"anomalies-by-{data['by']}-{data['date_from']}-{data['date_to']}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_roles(*ADJUST_ROLES)
def reading_adjust_view(request: HttpRequest, reading_id: int) -> HttpResponse:
    access = _access(request)
    reading = reading_get_for_access(access=access, reading_id=reading_id)
    form = AdjustmentForm(request.POST or None, initial={"current_index": reading.current_index})
    if request.method == "POST" and form.is_valid():
        try:
            adjustment = index_adjust(reading=reading, acting_user=request.user, **form.cleaned_data)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(
                request,
                _("Index adjusted from %(before)s to %(after)s.")
                % {"before": adjustment.index_before, "after": adjustment.index_after},
            )
            if adjustment.rebill_needed:
                messages.warning(
                    request, _("Bills of %(cycles)s may need a rebill.") % {"cycles": ", ".join(adjustment.cycles)}
                )
            return redirect("metering:adjustment_list")
    return render(
        request,
        "metering/review/adjust.html",
        {"reading": reading, "form": form},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_roles(*REVIEW_ROLES)
def adjustment_list_view(request: HttpRequest) -> HttpResponse:
    adjustments = adjustments_visible_to(access=_access(request))
    page = Paginator(adjustments, PAGE_ROWS).get_page(request.GET.get("page"))
    return render(request, "metering/review/adjustments.html", {"page": page})


@login_required
@require_roles(*SETTINGS_ROLES)
def metering_settings_view(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    operator = operator_of(access)
    settings = metering_settings_of(operator)
    form = MeteringSettingsForm(request.POST or None, instance=settings)
    if request.method == "POST" and form.is_valid():
        try:
            metering_settings_update(
                operator=operator, acting_user=request.user, **{field: form.cleaned_data[field] for field in FIELDS}
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Metering settings saved: readings checked from now on use them."))
            return redirect(reverse("metering:metering_settings"))
    return render(
        request,
        "metering/review/settings.html",
        {"form": form},
        status=400 if form.is_bound and form.errors else 200,
    )
