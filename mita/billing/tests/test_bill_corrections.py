"""Cancel and rebill: the ledger after a cancellation (paid part made credit), a rebill priced from the corrected
index with the next gapless number, penalties cancelled with their bill, the adjustments list, what is refused."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from mita.billing.corrections import (
    bill_cancel,
    bill_cancel_and_rebill,
    bill_rebill,
    bills_flagged_for_rebill,
    rebill_due_on,
)
from mita.billing.errors import BillingError
from mita.billing.models import Bill, BillCancellation, BillRun, Penalty
from mita.billing.penalties import penalties_apply, penalty_rule_save
from mita.billing.tests.world_billing import RESIDENTIAL
from mita.billing.tests.world_corrections import issued_world, pay
from mita.core.errors import Conflict
from mita.core.models import AuditEntry
from mita.ledger.models import Charge, Transfer
from mita.ledger.selectors import holder_balance, holder_credit, ledger_verify
from mita.metering.adjustments import index_adjust
from mita.metering.models import IndexAdjustment, Reading
from mita.tariffs import pricing

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def world(operator_a):
    return issued_world(operator_a)


def _price(quantity, cycle):
    usage = pricing.Usage(
        quantity=quantity, property_type="residential", period_start=cycle.start, period_end=cycle.end
    )
    return pricing.quote_period([(datetime.date(2026, 1, 1), RESIDENTIAL)], usage).total


def _adjust(operator, number, index, reason="Misread: 7 read as 2"):
    reading = Reading.objects.get(operator=operator, connection__number=number, status="accepted", cycle="2026-10")
    return index_adjust(reading=reading, current_index=index, reason=reason, acting_user=None)


def test_cancelling_an_unpaid_bill_clears_what_the_customer_owes(operator_a, admin_a, world):
    # given the tap's October bill of 2,000 RWF, unpaid
    tap = world["tap_bill"]
    assert holder_balance(operator=operator_a, holder=tap.account) == D(2000)
    # when an admin cancels it
    cancellation = bill_cancel(bill=tap, reason="Tap closed in October", acting_user=admin_a)
    # then the account owes nothing, the bill says why, and the ledger still balances
    tap.refresh_from_db()
    assert tap.status == Bill.Status.CANCELLED and cancellation.reason == "Tap closed in October"
    assert cancellation.moved_to_credit == 0 and cancellation.cancelled_by == admin_a
    assert holder_balance(operator=operator_a, holder=tap.account) == 0
    reversals = Transfer.objects.filter(reference=tap.ledger_reference, kind=Transfer.Kind.REVERSAL)
    assert reversals.count() == 1 and reversals.get().amount == D(2000)
    assert ledger_verify(operator=operator_a) == []
    entry = AuditEntry.objects.get(action="billing.bill_cancelled")
    assert entry.detail["reason"] == "Tap closed in October" and entry.detail["number"] == tap.number


def test_what_was_paid_on_a_cancelled_bill_becomes_credit_and_pays_the_rebill(operator_a, admin_a, staff_a, world):
    # given the tap's bill of 2,000 of which 500 is paid
    tap = world["tap_bill"]
    pay(operator_a, tap.account, D(500))
    assert holder_balance(operator=operator_a, holder=tap.account) == D(1500)
    # when it is cancelled
    cancellation = bill_cancel(bill=tap, reason="Wrong tariff", acting_user=admin_a)
    # then the 500 is the customer's credit and nothing is owed
    assert cancellation.moved_to_credit == D(500)
    assert holder_credit(operator=operator_a, holder=tap.account) == D(500)
    assert holder_balance(operator=operator_a, holder=tap.account) == 0
    # and when it is rebilled (same 2,000), the credit pays 500 of the new bill
    new = bill_rebill(bill=tap, acting_user=staff_a)
    assert new.total == D(2000) and new.status == Bill.Status.ISSUED and new.credit == D(500)
    assert holder_balance(operator=operator_a, holder=tap.account) == D(1500)
    assert holder_credit(operator=operator_a, holder=tap.account) == 0
    assert ledger_verify(operator=operator_a) == []


def test_a_rebill_after_an_index_adjustment_bills_the_corrected_consumption(operator_a, admin_a, world):
    # given AAL-R1-02 billed for 12 m3 in October, then its index corrected from 112 to 105 (5 m3)
    number = f"{operator_a.prefix}-R1-02"
    old = world["bills"][number]
    cycle = world["cycle"]
    assert old.consumption == D(12) and old.total == _price(D(12), cycle)
    adjustment = _adjust(operator_a, number, "105")
    assert adjustment.rebill_needed
    # then the bill is flagged for cancel and rebill
    flagged = bills_flagged_for_rebill(operator=operator_a)
    assert [row["bill"].pk for row in flagged] == [old.pk]
    assert [a.pk for a in flagged[0]["adjustments"]] == [adjustment.pk]
    # when it is cancelled and rebilled
    new = bill_cancel_and_rebill(bill=old, reason="Index corrected", acting_user=admin_a)
    # then the new bill is priced on 5 m3, takes the next number, and says what it replaces
    assert new.consumption == D(5) and new.current_index == D(105)
    assert new.total == _price(D(5), cycle) and new.total < old.total
    numbers = sorted(bill.number for bill in world["bills"].values())
    assert new.number == numbers[-1][:-6] + f"{int(numbers[-1][-6:]) + 1:06d}"
    assert new.replaces.bill == old and new.cycle == cycle and new.connection_id == old.connection_id
    assert holder_balance(operator=operator_a, holder=number) == new.total
    assert sum(c.total for c in Charge.objects.filter(reference=new.ledger_reference)) == new.total
    # and the adjustment is handled: the list is empty
    adjustment.refresh_from_db()
    assert adjustment.rebilled_at is not None
    assert bills_flagged_for_rebill(operator=operator_a) == []
    run = BillRun.objects.get(pk=new.run_id)
    assert run.status == BillRun.Status.ISSUED and run.scope_label == f"rebill {old.number}" and run.scope_id == old.pk
    assert AuditEntry.objects.get(action="billing.bill_rebilled").detail["replaces"] == old.number
    assert ledger_verify(operator=operator_a) == []


def test_a_rebill_is_due_as_long_after_its_issue_as_the_cycle_gives(operator_a, staff_a, admin_a, world):
    tap = world["tap_bill"]
    cycle = tap.cycle
    bill_cancel(bill=tap, reason="Wrong tariff", acting_user=admin_a)
    new = bill_rebill(bill=tap, acting_user=staff_a)
    today = timezone.localdate()
    assert new.due_on == max(cycle.due_on, today + (cycle.due_on - cycle.bill_on)) == rebill_due_on(tap, today)
    assert Charge.objects.filter(reference=new.ledger_reference).get().due_date == new.due_on


def test_cancelling_a_bill_cancels_the_penalties_levied_on_it(operator_a, admin_a, world):
    tap = world["tap_bill"]
    penalty_rule_save(
        operator=operator_a,
        acting_user=None,
        name="Late",
        kind="flat",
        amount="300",
        days_after_due=10,
        applies_from=datetime.date(2026, 1, 1),
    )
    penalties_apply(operator=operator_a, on=tap.due_on + datetime.timedelta(days=10), acting_user=None)
    assert holder_balance(operator=operator_a, holder=tap.account) == D(2300)
    bill_cancel(bill=tap, reason="Tap closed", acting_user=admin_a)
    assert holder_balance(operator=operator_a, holder=tap.account) == 0
    penalty = Penalty.objects.get(bill=tap)
    assert Charge.objects.get(pk=penalty.charge_id).cancellation.reason == "Tap closed"
    assert ledger_verify(operator=operator_a) == []


def test_what_cannot_be_done_is_refused_and_changes_nothing(operator_a, admin_a, staff_a, world):
    tap = world["tap_bill"]
    with pytest.raises(BillingError) as refused:
        bill_cancel(bill=tap, reason="  ", acting_user=admin_a)
    assert refused.value.code == "reason_required" and "reason" in refused.value.fields
    with pytest.raises(BillingError) as refused:
        bill_rebill(bill=tap, acting_user=staff_a)
    assert refused.value.code == "not_cancelled"
    bill_cancel(bill=tap, reason="Wrong", acting_user=admin_a)
    with pytest.raises(Conflict) as twice:
        bill_cancel(bill=tap, reason="Wrong", acting_user=admin_a)
    assert twice.value.code == "already_cancelled"
    bill_rebill(bill=tap, acting_user=staff_a)
    with pytest.raises(Conflict) as again:
        bill_rebill(bill=tap, acting_user=staff_a)
    assert again.value.code == "already_rebilled"
    assert Bill.objects.filter(connection=tap.connection, cycle=tap.cycle).count() == 2


def test_a_rebill_the_readings_refuse_leaves_the_bill_issued(operator_a, admin_a, world):
    # given a bill whose connection has a reading of the cycle waiting for review
    number = f"{operator_a.prefix}-R1-01"
    bill = world["bills"][number]
    Reading.objects.filter(connection__number=number, cycle="2026-10").update(status="review")
    # when cancel and rebill is asked
    with pytest.raises(BillingError) as refused:
        bill_cancel_and_rebill(bill=bill, reason="Index corrected", acting_user=admin_a)
    # then it is refused with the reason a run would give, and nothing changed
    assert refused.value.code == "rebill_refused" and "review" in str(refused.value.message)
    bill.refresh_from_db()
    assert bill.status == Bill.Status.ISSUED and not BillCancellation.objects.exists()
    assert holder_balance(operator=operator_a, holder=number) == bill.total
    assert not IndexAdjustment.objects.exists()
