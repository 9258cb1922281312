"""Concurrent writers against a real database: one effect per key, no lost balance updates."""

import datetime
from decimal import Decimal

import pytest

from mita.core.errors import Conflict
from mita.ledger.models import Charge, Transfer
from mita.ledger.selectors import holder_balance, ledger_verify, trial_balance
from mita.ledger.services import charge_post, chart_ensure, holder_account
from mita.testing.threads import in_threads as run_in_threads

DAY = datetime.date(2026, 10, 31)
THREADS = 20


def in_threads(work, count: int = THREADS):  # type: ignore[no-untyped-def]
    return run_in_threads(work, count)


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_charges_make_exactly_one(operator_a, admin_a):
    chart_ensure(operator=operator_a)
    holder_account(operator=operator_a, holder="connection:1", purpose="receivable")

    def post(_index: int) -> int:
        return charge_post(
            operator=operator_a,
            holder="connection:1",
            head="water_sales",
            amount=Decimal("1000"),
            vat_rule="standard",
            reference="bill:ONE",
            due_date=DAY,
            acting_user=None,
            idempotency_key="bill:ONE",
        ).pk

    results = in_threads(post)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(set(results)) == 1
    assert Charge.objects.count() == 1 and Transfer.objects.count() == 2
    assert holder_balance(operator=operator_a, holder="connection:1") == Decimal("1180")


@pytest.mark.django_db(transaction=True)
def test_concurrent_charges_to_one_account_lose_no_update(operator_a, admin_a):
    chart_ensure(operator=operator_a)
    holder_account(operator=operator_a, holder="connection:1", purpose="receivable")

    def post(index: int) -> int:
        return charge_post(
            operator=operator_a,
            holder="connection:1",
            head="water_sales",
            amount=Decimal("100"),
            vat_rule="exempt",
            reference=f"bill:{index}",
            due_date=DAY,
            acting_user=None,
            idempotency_key=f"bill:{index}",
        ).pk

    results = in_threads(post)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert holder_balance(operator=operator_a, holder="connection:1") == Decimal("100") * THREADS
    assert trial_balance(operator=operator_a) == 0 and ledger_verify() == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_reuse_of_a_key_with_other_bodies_is_a_conflict_for_all_but_one(operator_a):
    chart_ensure(operator=operator_a)

    def post(index: int) -> int:
        return charge_post(
            operator=operator_a,
            holder="connection:1",
            head="water_sales",
            amount=Decimal(100 + index),
            vat_rule="exempt",
            reference="bill:K",
            due_date=DAY,
            acting_user=None,
            idempotency_key="bill:K",
        ).pk

    results = in_threads(post, count=8)
    assert sum(isinstance(r, Conflict) for r in results) == 7
    assert Charge.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_reversals_of_one_bill_reverse_it_once(operator_a):
    from mita.ledger.services import transfers_reverse

    charge_post(
        operator=operator_a,
        holder="connection:1",
        head="water_sales",
        amount=Decimal("500"),
        vat_rule="standard",
        reference="bill:R",
        due_date=DAY,
        acting_user=None,
    )

    def reverse(_index: int) -> int:
        return len(transfers_reverse(operator=operator_a, reference="bill:R", reason="duplicate", acting_user=None))

    results = in_threads(reverse, count=6)
    assert sum(1 for r in results if r == 2) == 1, results
    assert all(
        isinstance(r, Exception) and getattr(r, "code", "") in {"nothing_to_reverse", "already_reversed"}
        for r in results
        if r != 2
    ), results
    assert holder_balance(operator=operator_a, holder="connection:1") == 0
    assert ledger_verify() == []
