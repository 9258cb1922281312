"""Cashier sessions under real concurrency (threads, each on its own connection, real transactions): a till closes
once, payments taken while it closes are either counted in it or stay outside it, a hand-over is recorded once."""

import uuid
from decimal import Decimal

import pytest

from mita.accounts.roles import Role
from mita.core.errors import Conflict
from mita.core.models import AuditEntry
from mita.ledger.models import Transfer
from mita.ledger.selectors import ledger_verify
from mita.payments.cashier import banking_slip_record, handover_confirm, handover_record, till_close, till_open
from mita.payments.models import Payment
from mita.payments.models_cashier import BankingSlip, CashHandover, TillSession
from mita.payments.selectors_cashier import collector_cash
from mita.payments.tests.cashier_world import charge, take
from mita.testing.factories import member
from mita.testing.threads import in_threads

SHORT = {"5000": 1, "1000": 1, "500": 1, "100": 4}  # 6,900 where 7,000 is expected
EXACT = {"5000": 1, "1000": 2}  # 7,000


@pytest.fixture
def till_of_the_day(operator_a):
    """A cashier's till: float 5,000 and 2,000 taken, so it should hold 7,000."""
    charge(operator_a, "100000")
    cashier = member(Role.CASHIER, operator_a, name="Carla Cashier")
    till = till_open(operator=operator_a, cashier=cashier, float_amount=Decimal("5000"))
    take(operator_a, cashier, "2000")
    return till


@pytest.mark.django_db(transaction=True)
def test_two_closes_with_different_counts_at_once_close_the_till_once(till_of_the_day):
    cashier = till_of_the_day.cashier
    counts = [SHORT, {"5000": 1, "2000": 1, "100": 1}]  # 100 short, 100 over

    def close(index: int) -> TillSession:
        return till_close(till=till_of_the_day, counts=counts[index], explanation=f"count {index}", acting_user=cashier)

    results = in_threads(close, 2)
    closed = [r for r in results if isinstance(r, TillSession)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(closed) == 1 and len(refused) == 1, results
    assert isinstance(refused[0], Conflict) and refused[0].code == "till_closed"
    till = TillSession.objects.get()
    assert till.status == TillSession.Status.CLOSED and till.counted == closed[0].counted
    assert Transfer.objects.filter(reference=till.ledger_reference).count() == 1
    assert AuditEntry.objects.filter(action="till.closed").count() == 1
    assert ledger_verify() == []


@pytest.mark.django_db(transaction=True)
def test_the_same_close_sent_twice_at_once_closes_once_and_answers_both(till_of_the_day):
    cashier = till_of_the_day.cashier

    def close(_index: int) -> int:
        return till_close(till=till_of_the_day, counts=SHORT, explanation="change", acting_user=cashier).pk

    results = in_threads(close, 2)
    assert results == [till_of_the_day.pk, till_of_the_day.pk], results
    assert Transfer.objects.filter(reference=till_of_the_day.ledger_reference).count() == 1
    assert AuditEntry.objects.filter(action="till.closed").count() == 1


@pytest.mark.django_db(transaction=True)
def test_payments_taken_while_the_till_closes_are_counted_in_it_or_stay_outside_it(till_of_the_day):
    # given an open till, and a cashier taking 8 more payments while a supervisor closes the till
    operator = till_of_the_day.operator
    cashier = till_of_the_day.cashier
    supervisor = member(Role.TREASURER, operator)

    def work(index: int) -> object:
        if index == 0:
            return till_close(till=till_of_the_day, counts=EXACT, explanation="closed mid-rush", acting_user=supervisor)
        return take(operator, cashier, "100", key=f"rush-{index}")

    results = in_threads(work, 9)
    assert not [r for r in results if isinstance(r, Exception)], results
    # then the till's frozen figures are exactly the payments attached to it: none slipped in after the count
    till = TillSession.objects.get()
    attached = Payment.objects.filter(till=till)
    assert till.cash_taken == sum((p.amount for p in attached), Decimal("0"))
    assert till.expected == till.float_amount + till.cash_taken
    assert Payment.objects.filter(till__isnull=True).count() == 9 - attached.count()
    assert ledger_verify() == []


@pytest.mark.django_db(transaction=True)
def test_a_hand_over_retried_at_once_by_the_field_app_is_recorded_and_confirmed_once(operator_a):
    charge(operator_a, "100000")
    collector = member(Role.REVENUE_COLLECTOR, operator_a)
    treasurers = [member(Role.TREASURER, operator_a), member(Role.OPERATOR_ADMIN, operator_a)]
    take(operator_a, collector, "5000", channel="cash_field")
    key = str(uuid.uuid4())

    def record(_index: int) -> int:
        return handover_record(
            operator=operator_a,
            collector=collector,
            treasurer=treasurers[0],
            amount=Decimal("4000"),
            idempotency_key=key,
        ).pk

    recorded = in_threads(record, 5)
    assert not [r for r in recorded if isinstance(r, Exception)], recorded
    assert len(set(recorded)) == 1 and CashHandover.objects.count() == 1
    handover = CashHandover.objects.get()

    def confirm(index: int) -> str:
        return handover_confirm(handover=handover, acting_user=treasurers[index]).status

    assert in_threads(confirm, 2) == ["confirmed", "confirmed"]
    assert Transfer.objects.filter(reference=handover.ledger_reference).count() == 1
    assert collector_cash(operator=operator_a, collector=collector).in_hand == Decimal("1000")
    assert ledger_verify() == []


@pytest.mark.django_db(transaction=True)
def test_a_banking_slip_sent_three_times_at_once_is_recorded_once(till_of_the_day):
    cashier = till_of_the_day.cashier
    till = till_close(till=till_of_the_day, counts=EXACT, explanation="", acting_user=cashier)

    def record(_index: int) -> int:
        return banking_slip_record(
            operator=till.operator,
            till=till,
            bank_name="Bank of Kigali",
            slip_number="BK-77",
            amount=Decimal("2000"),
            deposited_on=till.business_date,
            idempotency_key="slip-retry",
            acting_user=cashier,
        ).pk

    results = in_threads(record, 3)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(set(results)) == 1 and BankingSlip.objects.count() == 1
    assert Transfer.objects.filter(reference__startswith="banking:").count() == 1
    assert ledger_verify() == []
