"""Migration billing 0006 moves a bill's lines from rows of their own onto the bill, and back when unapplied, without
losing or reordering one (real bills of a run, on the database the suite runs on)."""

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from mita.billing.models import Bill
from mita.billing.run import run_until_done
from mita.billing.services import billrun_create
from mita.billing.tests.world_billing import billing_world

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("billing", "0005_unit_numbers_reserved")]
AFTER = [("billing", "0006_lines_on_the_bill")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _lines_of(bill) -> list[tuple]:
    return [
        (line.label, line.quantity, line.rate, line.amount, line.head, line.vat, line.kind) for line in bill.line_items
    ]


def test_the_lines_move_off_the_bills_and_back_unchanged(operator_a):
    world = billing_world(operator_a)
    run = billrun_create(operator=operator_a, cycle=world["cycle"], acting_user=None, background=False)
    run_until_done(run, unit_size=2)
    kept = {bill.pk: lines for bill in Bill.objects.filter(run=run) if (lines := _lines_of(bill))}
    assert len(kept) >= 8 and all(len(lines) >= 1 for lines in kept.values())
    try:
        # unapplied: each bill's lines are rows again, in their order
        apps = _migrate(BEFORE)
        rows: dict[int, list[tuple]] = {}
        for bill_id, *line in (
            apps.get_model("billing", "BillLine")
            .objects.order_by("bill_id", "position")
            .values_list("bill_id", "label", "quantity", "rate", "amount", "head", "vat", "kind")
        ):
            rows.setdefault(bill_id, []).append(tuple(line))
        assert rows == kept
        # applied again: the same lines on the same bills, as decimal strings
        _migrate(AFTER)
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    moved = {bill.pk: bill for bill in Bill.objects.filter(run=run)}
    assert {pk: _lines_of(bill) for pk, bill in moved.items() if bill.line_items} == kept
    assert all(isinstance(item["amount"], str) for bill in moved.values() for item in json.loads(bill.lines))
    assert sum((line.amount for bill in moved.values() for line in bill.line_items), Decimal(0)) == sum(
        (bill.total for bill in moved.values()), Decimal(0)
    )
