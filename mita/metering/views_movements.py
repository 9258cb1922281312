"""Pages of metering: meters — movement documents (list, a new movement, the printable document), the report of
movements between stores for a period (and its CSV), calibrations due per month (list and chart) and recording a
calibration result."""

import csv
import datetime
import io
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mita.core.errors import DomainError
from mita.core.forms import form_add_domain_error
from mita.core.permissions import require_roles
from mita.core.tables import Column, table
from mita.metering.forms_meters import CalibrationForm, DueForm, MovementFilterForm, MovementForm
from mita.metering.models import Meter, Movement, MovementLine
from mita.metering.selectors_calibration import calibrations_due, due_chart
from mita.metering.selectors_meters import (
    METER_READ_ROLES,
    METER_WRITE_ROLES,
    calibration_get_for_access,
    meters_visible_to,
    movement_get_for_access,
    movement_lines,
    movement_report,
    movements_visible_to,
    store_get_for_access,
)
from mita.metering.serials import serials_parse
from mita.metering.services_calibration import calibration_record
from mita.metering.services_movements import RULES, meters_move

TEMPLATES = "metering/meters/"
STORE_LIST_LIMIT = 500  # meters listed to tick on a movement; more are chosen by serials and ranges


def _movement_link(movement: Movement) -> str:
    return reverse("metering:movement_detail", args=[movement.pk])


def _store_label(store: object | None) -> str:
    return getattr(store, "code", "") if store else ""


def _from_label(movement: Movement) -> str:
    """Where the meters came from: a store, or the supplier of a receipt."""
    return _store_label(movement.from_store) or movement.supplier


def _to_label(movement: Movement) -> str:
    """Where they went: a store, the supplier of a reject, the connection of an installation, or scrap."""
    if movement.to_store:
        return _store_label(movement.to_store)
    if movement.kind == Movement.Kind.SCRAP:
        return str(_("Scrap"))
    return movement.supplier or movement.reference


@login_required
@require_roles(*METER_READ_ROLES)
def movement_list(request: HttpRequest) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    form = MovementFilterForm(request.GET or None, operator=access.operator)
    filters = form.cleaned_data if form.is_valid() else {}
    movements = movements_visible_to(
        access=access,
        kind=filters.get("kind") or "",
        store_id=filters["store"].pk if filters.get("store") else None,
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
    )
    columns = [
        Column("pk", gettext_lazy("Document"), order_by="pk", value=lambda m: f"#{m.pk}", link=_movement_link),
        Column("moved_on", gettext_lazy("Date"), order_by="moved_on"),
        Column("kind", gettext_lazy("Movement"), order_by="kind", value=lambda m: m.get_kind_display()),
        Column("from_store", gettext_lazy("From"), value=_from_label),
        Column("to_store", gettext_lazy("To"), value=_to_label),
        Column("meter_count", gettext_lazy("Meters"), order_by="meter_count"),
        Column("created_by", gettext_lazy("By"), value=lambda m: m.created_by.name if m.created_by else ""),
    ]
    return render(
        request,
        TEMPLATES + "movement_list.html",
        {
            "form": form,
            "table": table(request, movements, columns, default_sort="-moved_on", per_page=50),
            "can_write": access.has_role(*METER_WRITE_ROLES),
        },
    )


@login_required
@require_roles(*METER_WRITE_ROLES)
def movement_create(request: HttpRequest) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    initial = {
        "kind": request.GET.get("kind", "transfer"),
        "from_store": request.GET.get("from_store"),
        "serials": request.GET.get("serials", ""),
        "moved_on": timezone.localdate(),
        "key": uuid.uuid4().hex,
    }
    form = MovementForm(request.POST or None, operator=access.operator, initial=initial)
    ticked = [int(pk) for pk in request.POST.getlist("meter_ids") if pk.isdigit()]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = meters_move(
                operator=access.operator,
                kind=data["kind"],
                from_store=data["from_store"],
                to_store=data["to_store"],
                moved_on=data["moved_on"],
                serials=serials_parse(data["serials"]),
                meter_ids=ticked,
                supplier=data["supplier"],
                reference=data["reference"],
                note=data["note"],
                key=data["key"],
                acting_user=request.user,
            )
        except DomainError as error:
            form_add_domain_error(form, error)
            if error.code == "key_reused":  # the page's key came back with other meters: the next send is new
                fresh = request.POST.copy()
                fresh["key"] = uuid.uuid4().hex
                form.data = fresh
        else:
            messages.success(request, _("The movement is recorded."))
            return redirect("metering:movement_detail", movement_id=result.movement.pk)
    context: dict[str, Any] = {"form": form, "ticked": ticked}
    if request.method == "POST" and form.cleaned_data.get("from_store"):
        # Sent back with errors: the from-store's meters again, those ticked still ticked.
        context.update(_store_meters(access, form.cleaned_data["from_store"], form.cleaned_data.get("kind", "")))
    elif request.method == "GET" and request.GET.get("from_store"):  # opened from a meter's or a store's page
        store = store_get_for_access(access=access, store_id=request.GET["from_store"])
        context.update(_store_meters(access, store, request.GET.get("kind", "transfer")))
    return render(request, TEMPLATES + "movement_form.html", context, status=400 if request.method == "POST" else 200)


def _store_meters(access: Any, store: Any, kind: str) -> dict[str, Any]:
    allowed = RULES[kind][0] if kind in RULES else (Meter.Status.IN_STORE,)
    meters = meters_visible_to(access=access, store_id=store.pk).filter(status__in=allowed)
    return {"store": store, "meters": meters[:STORE_LIST_LIMIT], "count": meters.count(), "limit": STORE_LIST_LIMIT}


@login_required
@require_roles(*METER_WRITE_ROLES)
def movement_store_meters(request: HttpRequest) -> HttpResponse:
    """The meters of the from-store that a movement of this kind may take, to tick (htmx swaps them into the form)."""
    access = request.access  # type: ignore[attr-defined]
    if not request.GET.get("from_store"):
        return HttpResponse("")
    store = store_get_for_access(access=access, store_id=request.GET["from_store"])
    return render(
        request, TEMPLATES + "_store_meters.html", _store_meters(access, store, request.GET.get("kind", "transfer"))
    )


@login_required
@require_roles(*METER_READ_ROLES)
def movement_detail(request: HttpRequest, movement_id: int) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    movement = movement_get_for_access(access=access, movement_id=movement_id)
    return render(
        request,
        TEMPLATES + "movement_detail.html",
        {"movement": movement, "lines": movement_lines(movement=movement), "operator": access.operator},
    )


def _period(form: MovementFilterForm) -> tuple[datetime.date, datetime.date]:
    today = timezone.localdate()
    data = form.cleaned_data if form.is_valid() else {}
    return data.get("date_from") or today.replace(day=1), data.get("date_to") or today


@login_required
@require_roles(*METER_READ_ROLES)
def movement_report_view(request: HttpRequest) -> HttpResponse:
    """Movements between stores in a period, by kind and from -> to, with the list; ?format=csv downloads it."""
    access = request.access  # type: ignore[attr-defined]
    form = MovementFilterForm(request.GET or None, operator=access.operator)
    date_from, date_to = _period(form)
    data = form.cleaned_data if form.is_valid() else {}
    options: dict[str, Any] = {
        "kind": data.get("kind") or "",
        "store_id": data["store"].pk if data.get("store") else None,
        "date_from": date_from,
        "date_to": date_to,
    }
    groups = movement_report(access=access, **options)
    movements = movements_visible_to(access=access, **options)
    if request.GET.get("format") == "csv":
        return _report_csv(movements, date_from, date_to)
    return render(
        request,
        TEMPLATES + "movement_report.html",
        {
            "form": form,
            "groups": groups,
            "movements": movements[:1000],
            "movement_count": movements.count(),
            "meter_total": sum(group.meters for group in groups),
            "date_from": date_from,
            "date_to": date_to,
            "csv_query": request.GET.urlencode(),
        },
    )


def _report_csv(movements: QuerySet[Movement], date_from: datetime.date, date_to: datetime.date) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["document", "date", "kind", "from_store", "to_store", "supplier", "reference", "serial", "brand"])
    lines = (
        MovementLine.objects.filter(movement__in=movements)
        .select_related("movement__from_store", "movement__to_store", "meter")
        .order_by("movement__moved_on", "movement_id", "meter__serial")
    )
    for line in lines.iterator(chunk_size=2000):
        movement = line.movement
        writer.writerow(
            [
                movement.pk,
                movement.moved_on.isoformat(),
                movement.kind,
                _store_label(movement.from_store),
                _store_label(movement.to_store),
                movement.supplier,
                movement.reference,
                line.meter.serial,
                line.meter.brand,
            ]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="meter-movements-{date_from}-{date_to}.csv"'
    return response


# Calibration ---------------------------------------------------------------------------------------------------------


@login_required
@require_roles(*METER_READ_ROLES)
def calibration_due_view(request: HttpRequest) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    query = request.GET.copy()
    query.setdefault("year", str(timezone.localdate().year))
    form = DueForm(query, operator=access.operator)
    report = chart = None
    if form.is_valid():
        data = form.cleaned_data
        report = calibrations_due(
            access=access,
            year=data["year"],
            store_id=data["store"].pk if data.get("store") else None,
            meter_model_id=data["meter_model"].pk if data.get("meter_model") else None,
            kind=data.get("kind") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
        chart = due_chart(report)
    return render(
        request,
        TEMPLATES + "calibration_due.html",
        {
            "form": form,
            "report": report,
            "chart": chart,
            "meters": report.meters[:2000] if report else [],
            "can_write": access.has_role(*METER_WRITE_ROLES),
        },
        status=200 if report is not None else 400,
    )


@login_required
@require_roles(*METER_WRITE_ROLES)
def calibration_create(request: HttpRequest) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    initial = {"calibrated_on": timezone.localdate(), "meter": request.GET.get("serial", ""), "result": "passed"}
    form = CalibrationForm(request.POST or None, operator=access.operator, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        candidates = list(meters_visible_to(access=access).filter(serial__iexact=data["meter"].strip())[:2])
        if len(candidates) != 1:
            form.add_error(
                "meter",
                _("No meter has this serial.") if not candidates else _("Meters of several brands have this serial."),
            )
        else:
            try:
                calibration = calibration_record(
                    meter=candidates[0],
                    calibrated_on=data["calibrated_on"],
                    result=data["result"],
                    to_store=data["to_store"],
                    error_percent=data["error_percent"],
                    certificate=data["certificate"],
                    note=data["note"],
                    acting_user=request.user,
                )
            except DomainError as error:
                form_add_domain_error(form, error)
            else:
                messages.success(request, _("The calibration result is recorded."))
                return redirect("metering:calibration_detail", calibration_id=calibration.pk)
    return render(
        request, TEMPLATES + "calibration_form.html", {"form": form}, status=400 if request.method == "POST" else 200
    )


@login_required
@require_roles(*METER_READ_ROLES)
def calibration_detail(request: HttpRequest, calibration_id: int) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    calibration = calibration_get_for_access(access=access, calibration_id=calibration_id)
    return render(request, TEMPLATES + "calibration_detail.html", {"calibration": calibration})
