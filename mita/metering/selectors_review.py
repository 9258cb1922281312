"""Reads of the review part: the queue of readings waiting for review, anomaly reports by route and by reader, index
adjustments (and those billing must rebill), the operator's metering settings."""

import csv
import datetime
import io
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from mita.accounts.roles import Role
from mita.core.access import Access
from mita.metering.errors import MeteringError
from mita.metering.models import IndexAdjustment, MeteringSettings, MeterState, Reading
from mita.metering.readings import average_daily

REVIEW_ROLES = (Role.OPERATOR_ADMIN, Role.BILLING_OFFICER)
ADJUST_ROLES = (Role.OPERATOR_ADMIN,)
SETTINGS_ROLES = (Role.OPERATOR_ADMIN,)
REPORT_KINDS = [anomaly for anomaly in Reading.Anomaly if anomaly]
AVERAGE_DAYS = 30


def operator_of(access: Access) -> Any:
    if access.operator is None:
        raise Http404
    return access.operator


def review_queue(
    *,
    access: Access,
    anomaly: str = "",
    route_id: int | None = None,
    reader_id: int | None = None,
    cycle: str = "",
) -> QuerySet[Reading]:
    """The operator's readings waiting for review, oldest first."""
    readings = Reading.objects.filter(operator=operator_of(access), status=Reading.Status.REVIEW)
    if anomaly:
        readings = readings.filter(anomaly=anomaly)
    if route_id:
        readings = readings.filter(connection__route_id=route_id)
    if reader_id:
        readings = readings.filter(reader_id=reader_id)
    if cycle:
        readings = readings.filter(cycle=cycle)
    return readings.select_related("connection__route", "reader", "installation__meter").order_by("read_on", "pk")


def review_count(access: Access) -> int | None:
    if access.operator is None:
        return None
    return Reading.objects.filter(operator=access.operator, status=Reading.Status.REVIEW).count()


def reading_get_for_access(*, access: Access, reading_id: int) -> Reading:
    reading = (
        Reading.objects.filter(operator=operator_of(access), pk=reading_id)
        .select_related("connection__route", "reader", "installation__meter", "reviewed_by", "supersedes")
        .first()
    )
    if reading is None:
        raise Http404
    return reading


def monthly_averages(readings: list[Reading]) -> dict[tuple[int, str], Decimal | None]:
    """Each connection's own average consumption per 30 days (from its recent readings), None without history."""
    keys = {(reading.connection_id, reading.register) for reading in readings}
    states = MeterState.objects.filter(connection_id__in={key[0] for key in keys}).values_list(
        "connection_id", "register", "history"
    )
    averages: dict[tuple[int, str], Decimal | None] = {}
    for connection_id, register, history in states:
        daily = average_daily(history)
        averages[(connection_id, register)] = None if daily is None else (daily * AVERAGE_DAYS).quantize(Decimal("0.1"))
    return averages


def successor_of(reading: Reading) -> Reading | None:
    return Reading.objects.filter(supersedes=reading).order_by("pk").first()


def anomaly_report(
    *, access: Access, date_from: datetime.date, date_to: datetime.date, by: str = "route"
) -> list[dict[str, Any]]:
    """Readings with an anomaly read in a period, counted per kind, by route or by reader; whatever was decided
    since (a correction that supersedes one is not counted again unless it has an anomaly of its own)."""
    if date_from > date_to:
        raise MeteringError(
            _("The period ends before it starts."),
            code="period_invalid",
            fields={"date_to": [_("On or after the start.")]},
        )
    group = {"route": ("connection__route__code", "connection__route__name"), "reader": ("reader_id", "reader__name")}[
        by
    ]
    counts = (
        Reading.objects.filter(operator=operator_of(access), read_on__gte=date_from, read_on__lte=date_to)
        .exclude(anomaly="")
        .values(*group, "anomaly")
        .annotate(readings=Count("pk"))
        .order_by(*group, "anomaly")
    )
    rows: dict[Any, dict[str, Any]] = {}
    for count in counts:
        key = count[group[0]]
        row = rows.setdefault(
            key,
            {
                "key": key,
                "code": (count[group[0]] or "") if by == "route" else "",
                "name": count[group[1]] or "",
                "counts": {kind.value: 0 for kind in REPORT_KINDS},
                "total": 0,
            },
        )
        row["counts"][count["anomaly"]] = count["readings"]
        row["total"] += count["readings"]
    return sorted(rows.values(), key=lambda row: (-row["total"], str(row["name"])))


def adjustments_visible_to(*, access: Access) -> QuerySet[IndexAdjustment]:
    return IndexAdjustment.objects.filter(operator=operator_of(access)).select_related(
        "connection", "adjusted_by", "reading", "adjustment_reading"
    )


def adjustments_needing_rebill(operator: Any) -> QuerySet[IndexAdjustment]:
    """Adjustments of cycles in the past that billing has not handled yet (it sets `rebilled_at`), oldest first."""
    return (
        IndexAdjustment.objects.filter(operator=operator, rebill_needed=True, rebilled_at__isnull=True)
        .select_related("connection")
        .order_by("adjusted_at", "pk")
    )


def metering_settings_of(operator: Any) -> MeteringSettings:
    """The operator's settings, or the defaults (not saved) when it never changed them."""
    return MeteringSettings.objects.filter(operator=operator).first() or MeteringSettings(operator=operator)


def queue_readers(*, access: Access) -> list[tuple[int, str]]:
    """The readers with readings waiting for review (the queue's filter)."""
    rows = (
        Reading.objects.filter(operator=operator_of(access), status=Reading.Status.REVIEW, reader__isnull=False)
        .values_list("reader_id", "reader__name")
        .distinct()
        .order_by("reader__name")
    )
    return [(reader_id, name) for reader_id, name in rows]


def recent_readings(reading: Reading, count: int = 6) -> list[Reading]:
    """The connection's readings of the same register before and around this one, newest first."""
    return list(
        Reading.objects.filter(connection_id=reading.connection_id, register=reading.register)
        .exclude(pk=reading.pk)
        .select_related("reader")
        .order_by("-read_on", "-pk")[:count]
    )


def anomaly_report_csv(rows: list[dict[str, Any]], *, by: str) -> str:
    """The report as CSV: one line per route or reader, one column per anomaly kind, and the total."""
    out = io.StringIO()
    writer = csv.writer(out)
    first = ["route_code", "route_name"] if by == "route" else ["reader_id", "reader_name"]
    writer.writerow([*first, *[kind.value for kind in REPORT_KINDS], "total"])
    for row in rows:
        key = row["code"] if by == "route" else row["key"]
        writer.writerow([key or "", row["name"], *[row["counts"][kind.value] for kind in REPORT_KINDS], row["total"]])
    return out.getvalue()
