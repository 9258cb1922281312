"""Reads of metering: meters — which meters are due for calibration or verification, per month of a year, and the
bar chart of it (server-made SVG, no JavaScript).

A meter is due on its last calibration (or, never calibrated, its receipt) + its model's calibration interval. Meters
due before the window (overdue) are counted in its first month. Scrapped meters and models without an interval are
never due."""

import calendar
import dataclasses
import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import formats

from mita.core.access import Access
from mita.metering.models import Meter
from mita.metering.selectors_meters import operator_of


def months_later(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` months later (the month's last day when it is shorter: 31 Jan + 1 -> 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclasses.dataclass(frozen=True)
class DueMeter:
    meter_id: int
    serial: str
    brand: str
    meter_model: str
    status: str
    status_label: str
    store: str
    basis: str  # "calibrated" or "received"
    basis_on: datetime.date
    due_on: datetime.date
    overdue: bool
    month: int  # the month of the window it is counted in


@dataclasses.dataclass(frozen=True)
class DueMonth:
    month: int
    label: str
    due: int
    overdue: int

    @property
    def total(self) -> int:
        return self.due + self.overdue


@dataclasses.dataclass(frozen=True)
class DueReport:
    year: int
    starts_on: datetime.date
    ends_on: datetime.date
    months: list[DueMonth]
    meters: list[DueMeter]

    @property
    def total(self) -> int:
        return len(self.meters)

    @property
    def overdue(self) -> int:
        return sum(1 for meter in self.meters if meter.overdue)


def _meters(*, access: Access, store_id: Any, meter_model_id: Any, kind: str) -> QuerySet[Meter]:
    meters = (
        Meter.objects.filter(operator=operator_of(access), meter_model__calibration_interval_months__isnull=False)
        .exclude(status=Meter.Status.SCRAPPED)
        .select_related("meter_model", "store")
    )
    if store_id:
        meters = meters.filter(store_id=store_id)
    if meter_model_id:
        meters = meters.filter(meter_model_id=meter_model_id)
    if kind:
        meters = meters.filter(meter_model__kind=kind)
    return meters


def calibrations_due(
    *,
    access: Access,
    year: int,
    store_id: Any = None,
    meter_model_id: Any = None,
    kind: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> DueReport:
    """The meters due in `year` (narrowed to date_from..date_to when given), by month; overdue ones in the first."""
    starts_on = max(datetime.date(year, 1, 1), date_from or datetime.date(year, 1, 1))
    ends_on = min(datetime.date(year, 12, 31), date_to or datetime.date(year, 12, 31))
    found: list[DueMeter] = []
    if starts_on <= ends_on:
        statuses = dict(Meter.Status.choices)
        for meter in _meters(access=access, store_id=store_id, meter_model_id=meter_model_id, kind=kind).iterator(
            chunk_size=2000
        ):
            basis_on = meter.last_calibrated_on or meter.received_on or meter.created_at.date()
            interval = meter.meter_model.calibration_interval_months or 0
            due_on = months_later(basis_on, interval)
            if due_on > ends_on:
                continue
            overdue = due_on < starts_on
            found.append(
                DueMeter(
                    meter_id=meter.pk,
                    serial=meter.serial,
                    brand=meter.brand,
                    meter_model=meter.meter_model.code,
                    status=meter.status,
                    status_label=str(statuses.get(meter.status, meter.status)),
                    store=meter.store.code if meter.store else "",
                    basis="calibrated" if meter.last_calibrated_on else "received",
                    basis_on=basis_on,
                    due_on=due_on,
                    overdue=overdue,
                    month=starts_on.month if overdue else due_on.month,
                )
            )
    found.sort(key=lambda meter: (meter.due_on, meter.brand, meter.serial))
    months = []
    for month in range(starts_on.month, ends_on.month + 1) if starts_on <= ends_on else []:
        in_month = [meter for meter in found if meter.month == month]
        months.append(
            DueMonth(
                month=month,
                label=formats.date_format(datetime.date(year, month, 1), "M"),
                due=sum(1 for meter in in_month if not meter.overdue),
                overdue=sum(1 for meter in in_month if meter.overdue),
            )
        )
    return DueReport(year=year, starts_on=starts_on, ends_on=ends_on, months=months, meters=found)


@dataclasses.dataclass(frozen=True)
class Bar:
    label: str
    x: int
    width: int
    due_y: int
    due_height: int
    overdue_y: int
    overdue_height: int
    total: int
    title: str


@dataclasses.dataclass(frozen=True)
class Chart:
    width: int
    height: int
    baseline: int
    bars: list[Bar]
    ticks: list[tuple[int, int]]  # (value, y)


def due_chart(report: DueReport, *, width: int = 720, height: int = 260) -> Chart:
    """Bars of the meters due per month, the overdue part stacked on the first month's."""
    top, bottom, left = 16, 28, 40
    baseline = height - bottom
    plot = baseline - top
    biggest = max([month.total for month in report.months] + [1])
    step = max(1, -(-biggest // 4))  # four ticks, rounded up
    scale_max = step * 4
    slot = (width - left - 8) // max(1, len(report.months))
    bars = []
    for index, month in enumerate(report.months):
        due_height = round(month.due * plot / scale_max)
        overdue_height = round(month.overdue * plot / scale_max)
        bars.append(
            Bar(
                label=month.label,
                x=left + index * slot + slot // 6,
                width=max(4, slot * 2 // 3),
                due_y=baseline - due_height,
                due_height=due_height,
                overdue_y=baseline - due_height - overdue_height,
                overdue_height=overdue_height,
                total=month.total,
                title=f"{month.label}: {month.due}" + (f" + {month.overdue}" if month.overdue else ""),
            )
        )
    ticks = [(value, baseline - round(value * plot / scale_max)) for value in range(0, scale_max + 1, step)]
    return Chart(width=width, height=height, baseline=baseline, bars=bars, ticks=ticks)
