"""A unit's draft bills and their lines written with COPY on PostgreSQL and executemany on SQLite (no model instances:
at a million bills Django's bulk_create spends more time building SQL than the database spends writing)."""

import dataclasses
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from mita.billing.lines import lines_text
from mita.billing.models import Bill, BillRun, BillRunUnit
from mita.core.bulk import rows_insert
from mita.tariffs import pricing


@dataclasses.dataclass(frozen=True)
class BillRow:
    connection_id: int
    account: str
    metered: bool
    consumption: Decimal
    previous_index: Decimal | None
    current_index: Decimal | None
    tariff_version_id: int
    currency: str
    net: Decimal
    vat: Decimal
    round_off: Decimal
    total: Decimal


_BILL_COLUMNS = (
    "operator_id", "connection_id", "account", "cycle_id", "run_id", "unit_id", "status", "number", "metered",
    "consumption", "previous_index", "current_index", "tariff_version_id", "currency", "net", "vat", "round_off",
    "total", "arrears", "credit", "due_on", "ledger_reference", "created_at", "lines",
)  # fmt: skip


def _decimal(value: Decimal | None) -> Any:
    return value  # both drivers take a Decimal as it is (Django registers its adapter with sqlite3)


def bills_insert(*, run: BillRun, unit: BillRunUnit, bills: list[BillRow], quotes: list[pricing.Quote]) -> None:
    """Insert the unit's drafts with their lines (as JSON text: one per distinct quote, as the run prices each
    distinct usage once)."""
    if not bills:
        return
    texts: dict[int, str] = {}
    for quote in quotes:
        if id(quote) not in texts:
            texts[id(quote)] = lines_text(quote)
    cycle = run.cycle
    ops = connection.ops
    due_on = ops.adapt_datefield_value(cycle.due_on)
    now = ops.adapt_datetimefield_value(timezone.now())
    status = str(Bill.Status.DRAFT)
    # the foreign keys checked once per distinct value (core.foreign_keys): a unit's bills share their run, unit,
    # cycle, operator and tariff versions
    rows_insert(
        connection,
        Bill,
        _BILL_COLUMNS,
        [
            (
                run.operator_id,
                bill.connection_id,
                bill.account,
                cycle.pk,
                run.pk,
                unit.pk,
                status,
                "",
                bill.metered,
                _decimal(bill.consumption),
                _decimal(bill.previous_index),
                _decimal(bill.current_index),
                bill.tariff_version_id,
                bill.currency,
                _decimal(bill.net),
                _decimal(bill.vat),
                _decimal(bill.round_off),
                _decimal(bill.total),
                _decimal(Decimal(0)),
                _decimal(Decimal(0)),
                due_on,
                "",
                now,
                texts[id(quote)],
            )
            for bill, quote in zip(bills, quotes, strict=True)
        ],
        keys_together=True,
    )


def bills_number(*, issued: list[tuple[int, str, Decimal, Decimal, str]], status: str, at: Any) -> None:
    """Mark drafts issued: each (bill id, number, arrears, credit, ledger reference) in one statement on PostgreSQL
    (UPDATE ... FROM unnest), one executemany on SQLite."""
    if not issued:
        return
    table = connection.ops.quote_name(Bill._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            ids, numbers, arrears, credits, references = (list(column) for column in zip(*issued, strict=True))
            cursor.execute(
                f"UPDATE {table} AS b SET number = m.number, status = %s, arrears = m.arrears, credit = m.credit, "  # noqa: S608
                "ledger_reference = m.reference, issued_at = %s "
                "FROM unnest(%s::bigint[], %s::text[], %s::numeric[], %s::numeric[], %s::text[]) "
                "AS m(id, number, arrears, credit, reference) WHERE b.id = m.id",
                [status, at, ids, numbers, arrears, credits, references],
            )
            return
        at = connection.ops.adapt_datetimefield_value(at)
        cursor.executemany(
            f"UPDATE {table} SET number = %s, status = %s, arrears = %s, credit = %s, "  # noqa: S608
            "ledger_reference = %s, issued_at = %s WHERE id = %s",
            [(number, status, owed, credit, reference, at, pk) for pk, number, owed, credit, reference in issued],
        )
