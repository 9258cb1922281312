"""The report of customers billed, per cycle and per cluster: counts and totals of issued bills, for the page, its
CSV and the API. Operators see theirs; the regulator and districts see the operators they oversee."""

import csv
import dataclasses
import io
from decimal import Decimal

from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from mita.billing.models import Bill
from mita.core.access import Access

ZERO = Decimal("0")


@dataclasses.dataclass(frozen=True)
class BilledRow:
    operator_id: int
    operator: str
    cycle: str
    cluster_code: str  # "" for connections in no cluster
    cluster: str
    customers: int  # different customers billed
    connections: int
    bills: int
    consumption: Decimal
    total: Decimal
    currency: str


@dataclasses.dataclass(frozen=True)
class BilledReport:
    year: int | None
    cycle: str
    by_cluster: list[BilledRow]  # one row per operator, cycle and cluster
    by_cycle: list[BilledRow]  # one row per operator and cycle (cluster ""): customers are not the sum of clusters'


def _rows(bills: object, *, per_cluster: bool) -> list[BilledRow]:
    keys = ["operator_id", "operator__name", "operator__currency", "cycle__code", "cycle__start"]
    if per_cluster:
        keys += ["connection__cluster__code", "connection__cluster__name"]
    rows = (
        bills.values(*keys)  # type: ignore[attr-defined]
        .annotate(
            customers=Count("connection__customer", distinct=True),
            connections=Count("connection", distinct=True),
            bills=Count("pk"),
            consumption=Sum("consumption"),
            total=Sum("total"),
        )
        .order_by("operator__name", "operator_id", "cycle__start", "cycle__code", *keys[5:])
    )
    return [
        BilledRow(
            operator_id=row["operator_id"],
            operator=row["operator__name"],
            cycle=row["cycle__code"],
            cluster_code=row.get("connection__cluster__code") or "",
            cluster=row.get("connection__cluster__name") or "",
            customers=row["customers"],
            connections=row["connections"],
            bills=row["bills"],
            consumption=row["consumption"] or ZERO,
            total=row["total"] or ZERO,
            currency=row["operator__currency"],
        )
        for row in rows
    ]


def customers_billed(*, access: Access, year: int | None = None, cycle: str = "") -> BilledReport:
    """Issued bills counted per operator, cycle and cluster, and per operator and cycle: two grouped queries."""
    bills = Bill.objects.visible_to(access).filter(status=Bill.Status.ISSUED)
    if year:
        bills = bills.filter(cycle__start__year=year)
    if cycle:
        bills = bills.filter(cycle__code=cycle)
    return BilledReport(
        year=year,
        cycle=cycle,
        by_cluster=_rows(bills, per_cluster=True),
        by_cycle=_rows(bills, per_cluster=False),
    )


CSV_COLUMNS = (
    "operator",
    "cycle",
    "cluster_code",
    "cluster",
    "customers",
    "connections",
    "bills",
    "consumption",
    "total",
    "currency",
)


def customers_billed_csv(report: BilledReport) -> str:
    """The report as CSV: a row per cluster (code "" for connections in none), then a row per cycle of all its
    clusters (code "*")."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for rows, everything in ((report.by_cluster, False), (report.by_cycle, True)):
        for row in rows:
            writer.writerow(
                [
                    row.operator,
                    row.cycle,
                    "*" if everything else row.cluster_code,
                    _("All clusters") if everything else row.cluster,
                    row.customers,
                    row.connections,
                    row.bills,
                    row.consumption,
                    row.total,
                    row.currency,
                ]
            )
    return buffer.getvalue()
