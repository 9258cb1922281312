"""A run's units shared among processes (`workers`, PostgreSQL; SQLite does them in turn): the same bills, lines and
ledger as a run in one process, numbered without a gap; a unit that fails in a worker fails the step with its error,
and the run started again finishes."""

import os

import pytest
from django.db import connection

from mita.billing import run as billing_run
from mita.billing.errors import BillingError
from mita.billing.models import Bill, BillRun, BillRunUnit
from mita.billing.run import run_until_done
from mita.billing.services import billrun_approve, billrun_create
from mita.billing.tests.world_billing import billing_world
from mita.ledger.selectors import ledger_verify, trial_balance
from mita.testing.factories import OperatorFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _forks(monkeypatch):
    """The workers are forked as from the command line or a task worker (one thread), though a test run may hold a
    live server's threads (core.processes.fork_safe)."""
    monkeypatch.setattr(billing_run, "fork_safe", lambda: True)


def _bills(operator) -> list[tuple[str, object, list[tuple[str, object]]]]:
    return sorted(
        (
            bill.account.removeprefix(operator.prefix),
            bill.total,
            [(line.label, line.amount) for line in bill.line_items],
        )
        for bill in Bill.objects.filter(operator=operator)
    )


def _issued(operator, world, *, workers: int) -> BillRun:
    made = billrun_create(operator=operator, cycle=world["cycle"], acting_user=None, background=False)
    previewed = run_until_done(made, unit_size=2, workers=workers)
    assert previewed.status == BillRun.Status.PREVIEW
    return run_until_done(billrun_approve(run=previewed, acting_user=None, background=False), workers=workers)


def test_units_shared_among_two_processes_give_the_bills_of_one(district_a):
    shared, alone = OperatorFactory(prefix="SHR"), OperatorFactory(prefix="ONE")
    run = _issued(shared, billing_world(shared), workers=2)
    single = _issued(alone, billing_world(alone), workers=1)
    assert run.status == single.status == BillRun.Status.ISSUED
    assert run.units_total > 2 and not BillRunUnit.objects.filter(run=run).exclude(stage="issued").exists()
    assert _bills(shared) == _bills(alone) and len(_bills(shared)) == 9
    numbers = Bill.objects.filter(operator=shared).values_list("number", flat=True)
    assert sorted(int(number.rsplit("-", 1)[1]) for number in numbers) == list(range(1, 10))
    assert trial_balance(operator=shared) == 0 and ledger_verify() == []


def test_a_unit_failing_in_a_worker_fails_the_step_and_a_restart_finishes(district_a, monkeypatch):
    operator = OperatorFactory(prefix="FLR")
    world = billing_world(operator)
    made = billrun_create(operator=operator, cycle=world["cycle"], acting_user=None, background=False)
    stage, compute, done, title = billing_run.STEPS[BillRun.Status.COMPUTING]

    def compute_but_the_first(run, unit_id):
        if BillRunUnit.objects.get(pk=unit_id).position == 1:
            raise ValueError("the meter book is torn")
        return compute(run, unit_id)

    # the workers are forked from this process: they inherit the patched step
    monkeypatch.setitem(billing_run.STEPS, BillRun.Status.COMPUTING, (stage, compute_but_the_first, done, title))
    with pytest.raises((BillingError, ValueError), match="the meter book is torn"):
        run_until_done(made, unit_size=2, workers=2)
    made.refresh_from_db()
    assert made.status == BillRun.Status.COMPUTING and "torn" in made.message
    units = dict(BillRunUnit.objects.filter(run=made).values_list("position", "stage"))
    assert units[1] == BillRunUnit.Stage.PLANNED
    if connection.vendor == "postgresql":  # the other worker did its share: units 2, 4, ...
        assert all(units[position] == BillRunUnit.Stage.COMPUTED for position in range(2, len(units) + 1, 2))
    monkeypatch.undo()
    assert run_until_done(made, workers=2).status == BillRun.Status.PREVIEW
    assert Bill.objects.filter(run=made).count() == 9


def test_a_unit_whose_issue_fails_after_its_numbers_were_reserved_takes_the_same_numbers_again(district_a, monkeypatch):
    """Bill numbers are reserved per unit in a short transaction before the unit's own (so that workers do not queue
    on the sequence while they post): a unit whose posting fails keeps its reservation, and the run started again
    issues it with those numbers: gapless, none given twice."""
    operator = OperatorFactory(prefix="RSV")
    world = billing_world(operator)
    made = billrun_create(operator=operator, cycle=world["cycle"], acting_user=None, background=False)
    approved = billrun_approve(run=run_until_done(made, unit_size=2), acting_user=None, background=False)
    posting = billing_run.charges_post_many

    def post_but_not_the_second_unit(*, charges, **kwargs):
        if {charge.holder for charge in charges} & set(second_accounts):
            raise ValueError("the ledger is away")
        return posting(charges=charges, **kwargs)

    second = BillRunUnit.objects.get(run=approved, position=2)
    second_accounts = list(Bill.objects.filter(unit=second).values_list("account", flat=True))
    monkeypatch.setattr(billing_run, "charges_post_many", post_but_not_the_second_unit)
    with pytest.raises((BillingError, ValueError), match="the ledger is away"):
        run_until_done(approved)
    second.refresh_from_db()
    first_unit = Bill.objects.filter(unit__position=1, unit__run=approved)
    reserved = first_unit.count() + 1  # the first unit's numbers are issued, the second's reserved after them
    assert second.stage == BillRunUnit.Stage.COMPUTED and second_accounts
    assert (second.number_first, second.number_count) == (reserved, len(second_accounts))
    assert sorted(_serial(number) for number in first_unit.values_list("number", flat=True)) == list(range(1, reserved))
    monkeypatch.undo()
    assert run_until_done(approved).status == BillRun.Status.ISSUED
    numbers = dict(Bill.objects.filter(run=approved).values_list("account", "number"))
    assert sorted(_serial(numbers[account]) for account in second_accounts) == list(
        range(reserved, reserved + len(second_accounts))
    )
    assert sorted(_serial(number) for number in numbers.values()) == list(range(1, len(numbers) + 1))
    assert trial_balance(operator=operator) == 0 and ledger_verify() == []


def _serial(number: str) -> int:
    return int(number.rsplit("-", 1)[1])


def test_a_large_run_refreshes_the_planner_statistics_of_its_tables_before_it_issues(district_a, monkeypatch):
    """From STATISTICS_AFTER bills, the issue step first brings PostgreSQL's statistics of the bills, lines and
    accounts up to date (the preview has just filled them); a smaller run, or the preview, does not."""
    operator = OperatorFactory(prefix="STA")
    world = billing_world(operator)
    refreshed: list[str] = []
    real_refresh = billing_run.statistics_refresh
    monkeypatch.setattr(
        billing_run, "statistics_refresh", lambda *tables: refreshed.append("yes") or real_refresh(*tables)
    )
    monkeypatch.setattr(billing_run, "STATISTICS_AFTER", 4)  # this world's 9 connections count as a large run
    made = billrun_create(operator=operator, cycle=world["cycle"], acting_user=None, background=False)
    previewed = run_until_done(made, unit_size=2)
    assert refreshed == []
    run_until_done(billrun_approve(run=previewed, acting_user=None, background=False))
    assert refreshed == ["yes"]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_user_tables WHERE relname = ANY(%s) AND last_analyze IS NOT NULL",
                [["billing_bill", "ledger_account", "ledger_balance"]],
            )
            assert cursor.fetchone()[0] == 3


def test_a_process_running_other_threads_does_the_units_itself(district_a, monkeypatch):
    # A threaded web worker running the task at once: a fork would keep whatever lock another thread held.
    monkeypatch.setattr(billing_run, "fork_safe", lambda: False)
    operator = OperatorFactory(prefix="THR")
    world = billing_world(operator)
    made = billrun_create(operator=operator, cycle=world["cycle"], acting_user=None, background=False)
    stage, compute, done, title = billing_run.STEPS[BillRun.Status.COMPUTING]
    processes = []

    def compute_here(run, unit_id):
        processes.append(os.getpid())  # a list in this process: a forked worker's units would not show here
        return compute(run, unit_id)

    monkeypatch.setitem(billing_run.STEPS, BillRun.Status.COMPUTING, (stage, compute_here, done, title))
    previewed = run_until_done(made, unit_size=2, workers=2)
    assert previewed.status == BillRun.Status.PREVIEW
    assert len(processes) == previewed.units_total > 2 and set(processes) == {os.getpid()}
    assert Bill.objects.filter(run=made).count() == 9
