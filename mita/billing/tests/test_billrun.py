"""Bill runs end to end in one process: what is billed, at what price, what is listed instead, and the ledger."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from mita.billing.cycles import cycles_generate
from mita.billing.errors import BillingError
from mita.billing.models import Bill, BillException, BillRun
from mita.billing.run import run_until_done
from mita.billing.services import billrun_approve, billrun_create
from mita.billing.tests.world_billing import RESIDENTIAL, billing_world, connection_in, meter_on, read
from mita.core.models import Sequence
from mita.ledger.selectors import holder_balance
from mita.tariffs import pricing

D = Decimal
pytestmark = pytest.mark.django_db


def _run(operator, cycle, *, unit_size=2, **scope):
    run = billrun_create(operator=operator, cycle=cycle, acting_user=None, background=False, **scope)
    return run_until_done(run, unit_size=unit_size)


def _issue(run, user=None):
    return run_until_done(billrun_approve(run=run, acting_user=user, background=False))


def _by_hand(definition, quantity, cycle):
    usage = pricing.Usage(
        quantity=quantity, property_type="residential", period_start=cycle.start, period_end=cycle.end
    )
    return pricing.quote_period([(datetime.date(2026, 1, 1), definition)], usage)


def test_the_preview_prices_every_read_connection_as_the_engine_does_by_hand(operator_a):
    world = billing_world(operator_a)
    cycle = world["cycle"]
    run = _run(operator_a, cycle)
    assert run.status == BillRun.Status.PREVIEW
    bills = {bill.account: bill for bill in Bill.objects.filter(run=run)}
    for number, (_connection, quantity) in world["metered"].items():
        if quantity == 0:
            continue  # a zero reading waits for review (metering's rule): listed, not billed
        quote = _by_hand(RESIDENTIAL, quantity, cycle)
        bill = bills[number]
        assert bill.status == Bill.Status.DRAFT and bill.number == ""
        assert bill.consumption == quantity and bill.total == quote.total and bill.vat == quote.vat_total
        assert bill.previous_index == D(100) and bill.current_index == D(100) + quantity
        assert [(line.label, line.amount) for line in bill.line_items] == [
            (line.label, line.amount) for line in quote.lines
        ]
    tap = bills[world["tap"].number]
    assert tap.total == D(2000) and not tap.metered and tap.previous_index is None
    assert len(bills) == 9  # 8 read connections + the public tap
    kinds = {(e.connection_id, e.kind) for e in BillException.objects.filter(run=run)}
    assert (world["unread"].pk, "missing_reading") in kinds
    assert (world["no_tariff"].pk, "no_tariff") in kinds
    assert (world["expired"].pk, "cluster_expired") in kinds
    assert (world["metered"][f"{operator_a.prefix}-R2-03"][0].pk, "review_pending") in kinds
    assert run.bills == 9 and run.total == sum(bill.total for bill in bills.values())
    assert run.units_total == 8  # each route of 3 in two units of at most 2, and 3 loose connections in 2 blocks


def test_a_second_run_bills_only_what_is_missing(operator_a):
    world = billing_world(operator_a)
    cycle = world["cycle"]
    first = _run(operator_a, cycle, scope_kind="route", scope_id=world["routes"]["R1"].pk)
    assert first.bills == 3
    second = _run(operator_a, cycle)
    assert second.bills == 6
    assert Bill.objects.filter(cycle=cycle).count() == 9
    third = _run(operator_a, cycle)
    assert third.bills == 0 and third.connections == 4  # only the 4 listed connections were left to try


def test_the_database_refuses_a_second_bill_of_a_connection_for_a_cycle(operator_a):
    world = billing_world(operator_a, with_exceptions=False)
    run = _run(operator_a, world["cycle"])
    bill = Bill.objects.filter(run=run).first()
    twin = Bill.objects.get(pk=bill.pk)
    twin.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()
    # a cancelled bill frees the connection for a rebill
    Bill.objects.filter(pk=bill.pk).update(status=Bill.Status.CANCELLED)
    twin.save()


def test_approving_posts_each_bill_to_the_ledger_and_numbers_them_without_gaps(operator_a, admin_a):
    world = billing_world(operator_a)
    run = _issue(_run(operator_a, world["cycle"]), admin_a)
    assert run.status == BillRun.Status.ISSUED
    bills = list(Bill.objects.filter(run=run).order_by("number"))
    assert all(bill.status == Bill.Status.ISSUED for bill in bills)
    numbers = [int(bill.number.rsplit("-", 1)[1]) for bill in bills]
    assert numbers == list(range(1, len(bills) + 1))
    assert bills[0].number == f"{operator_a.prefix}-B-2026-000001"
    assert Sequence.objects.get(operator=operator_a, name="bill-2026").last_value == len(bills)
    for bill in bills:
        assert holder_balance(operator=operator_a, holder=bill.account) == bill.total
        assert bill.arrears == 0 and bill.ledger_reference == f"bill:{bill.number}"


def test_an_operator_that_may_not_bill_is_refused_with_the_reason(operator_a):
    world = billing_world(operator_a)
    operator_a.licences.update(status="expired", expires_on=datetime.date(2025, 1, 1))
    with pytest.raises(BillingError) as refused:
        billrun_create(operator=operator_a, cycle=world["cycle"], acting_user=None)
    assert refused.value.code == "operator_may_not_bill" and "no grace period" in str(refused.value)


def test_a_much_higher_month_than_the_bills_before_is_flagged_and_still_billed(operator_a):
    world = billing_world(operator_a, with_exceptions=False)
    _issue(_run(operator_a, world["cycle"]))  # October: the connections' first bills
    cycles = {cycle.code: cycle for cycle in world["cycle"].__class__.objects.filter(operator=operator_a)}
    connection, october = world["metered"][f"{operator_a.prefix}-R1-02"]  # 12 m3 in October
    quiet, quiet_october = world["metered"][f"{operator_a.prefix}-R1-03"]  # 37 m3 in October
    read(operator_a, [(connection, D(100) + october + D(90)), (quiet, D(100) + quiet_october + D(40))],
         on=datetime.date(2026, 11, 28))  # fmt: skip
    run = _run(operator_a, cycles["2026-11"])
    flagged = BillException.objects.filter(run=run, kind="very_high")
    assert [exception.connection_id for exception in flagged] == [connection.pk]
    assert "90" in flagged.get().detail and "12" in flagged.get().detail
    assert Bill.objects.filter(run=run, connection=connection, consumption=D(90)).exists()


def test_a_two_month_cycle_bills_the_sum_of_its_months_readings(operator_a):
    world = billing_world(operator_a, with_exceptions=False)
    cycles_generate(operator=operator_a, year=2026, frequency="bimonthly", due_days=15)
    connection = connection_in(operator_a, f"{operator_a.prefix}-BI-01", billing_cycle="bimonthly")
    meter_on(connection, "BI1")
    read(operator_a, [(connection, D(110))], on=datetime.date(2026, 9, 29))
    read(operator_a, [(connection, D(125))], on=datetime.date(2026, 10, 29))
    september_october = world["cycle"].__class__.objects.get(operator=operator_a, code="2026-B5")
    assert september_october.months == ["2026-09", "2026-10"]
    run = _run(operator_a, september_october)
    bill = Bill.objects.get(run=run)
    assert bill.connection_id == connection.pk and bill.consumption == D(25)
    assert (bill.previous_index, bill.current_index) == (D(100), D(125))
    # priced as two months of the monthly tariff: the service charge twice, the blocks on 25 m3
    by_hand = pricing.quote_period(
        [(datetime.date(2026, 1, 1), RESIDENTIAL)],
        pricing.Usage(quantity=D(25), property_type="residential", period_start=september_october.start,
                      period_end=september_october.end),
    )  # fmt: skip
    assert bill.total == by_hand.total
    assert any(line.label == "Service charge" and line.amount == D(1000) for line in bill.line_items)
