"""Cashier sessions, as services: tills (float, cash taken, voids, the count and its variance), banking slips, and
collectors' hand-overs confirmed by a treasurer; every movement in the ledger."""

import uuid
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from mita.accounts.roles import Role
from mita.core.errors import Conflict, PermissionDenied
from mita.core.models import AuditEntry
from mita.core.money import CURRENCY_EXPONENTS, quantize
from mita.ledger.models import Transfer
from mita.ledger.selectors import ledger_verify, trial_balance
from mita.payments.cashier import (
    CashierError,
    banking_slip_record,
    handover_confirm,
    handover_dispute,
    handover_record,
    till_close,
    till_open,
)
from mita.payments.denominations import DENOMINATIONS, CountError, count_normalise, count_total
from mita.payments.models import Payment
from mita.payments.models_cashier import CashHandover, TillSession
from mita.payments.selectors_cashier import bankable_of_till, collector_cash
from mita.payments.services import payment_void
from mita.payments.tests.cashier_world import also, cash_account, charge, take
from mita.testing.factories import member

pytestmark = pytest.mark.django_db
RWF_7000 = {"5000": 1, "1000": 2}
RWF_6900 = {"5000": 1, "1000": 1, "500": 1, "100": 4}


@pytest.fixture
def cashier_a(operator_a):
    return member(Role.CASHIER, operator_a, name="Carla Cashier")


@pytest.fixture
def treasurer_a(operator_a):
    return member(Role.TREASURER, operator_a, name="Tom Treasurer")


@pytest.fixture
def collector_a(operator_a):
    return member(Role.REVENUE_COLLECTOR, operator_a, name="Colin Collector")


@pytest.fixture
def charged(operator_a):
    charge(operator_a, "100000")
    return operator_a


def open_till(operator, cashier, float_amount="5000"):
    return till_open(operator=operator, cashier=cashier, float_amount=Decimal(float_amount))


def void(payment, cashier, supervisor):
    return payment_void(
        payment=payment,
        reason="wrong account",
        approved_by=supervisor,
        acting_user=cashier,
        approver_roles=frozenset({Role.TREASURER}),
    )


def transfers_of(reference):
    return list(Transfer.objects.filter(reference=reference).select_related("debit", "credit"))


# Opening a till -----------------------------------------------------------------------------------------------


def test_a_cashier_opens_a_till_with_a_float(operator_a, cashier_a):
    till = open_till(operator_a, cashier_a, "5000")
    assert till.status == TillSession.Status.OPEN
    assert till.float_amount == Decimal("5000") and till.currency == "RWF"
    assert till.business_date == timezone.localdate()
    assert AuditEntry.objects.filter(action="till.opened", target_id=str(till.pk)).exists()


def test_a_cashier_has_one_open_till_at_a_time(operator_a, cashier_a):
    first = open_till(operator_a, cashier_a)
    with pytest.raises(CashierError) as refused:
        open_till(operator_a, cashier_a, "2000")
    assert refused.value.code == "till_already_open" and refused.value.status == 409
    assert f"till {first.pk} open" in str(refused.value.message)
    # another cashier opens their own
    other = member(Role.CASHIER, operator_a)
    assert open_till(operator_a, other).cashier == other
    assert TillSession.objects.count() == 2


def test_the_same_key_opens_one_till_and_another_float_with_it_is_a_409(operator_a, cashier_a):
    first = till_open(operator=operator_a, cashier=cashier_a, float_amount=Decimal("5000"), idempotency_key="k-1")
    again = till_open(operator=operator_a, cashier=cashier_a, float_amount=Decimal("5000"), idempotency_key="k-1")
    assert again.pk == first.pk
    with pytest.raises(Conflict) as conflict:
        till_open(operator=operator_a, cashier=cashier_a, float_amount=Decimal("6000"), idempotency_key="k-1")
    assert conflict.value.code == "idempotency_key_reused"
    assert TillSession.objects.count() == 1


@pytest.mark.parametrize("float_amount", [Decimal("-1"), Decimal("10.50"), "5000", Decimal("NaN")])
def test_a_float_must_be_a_whole_amount_of_the_currency_from_zero(operator_a, cashier_a, float_amount):
    with pytest.raises(CashierError) as refused:
        till_open(operator=operator_a, cashier=cashier_a, float_amount=float_amount)
    assert refused.value.code == "amount_invalid" and "float_amount" in refused.value.fields
    assert not TillSession.objects.exists()


def test_a_zero_float_is_allowed(operator_a, cashier_a):
    assert open_till(operator_a, cashier_a, "0").float_amount == Decimal("0")


@pytest.mark.parametrize("role", [Role.REVENUE_COLLECTOR, Role.TREASURER, Role.BILLING_OFFICER])
def test_only_a_cashier_or_admin_keeps_a_till(operator_a, role):
    with pytest.raises(PermissionDenied):
        open_till(operator_a, member(role, operator_a))
    assert open_till(operator_a, member(Role.OPERATOR_ADMIN, operator_a)).is_open


def test_a_cashier_of_another_operator_cannot_open_a_till_here(operator_a, operator_b):
    with pytest.raises(PermissionDenied):
        open_till(operator_a, member(Role.CASHIER, operator_b))


# Cash taken into the till -------------------------------------------------------------------------------------


def test_cash_the_cashier_takes_while_the_till_is_open_belongs_to_it(charged, cashier_a, treasurer_a):
    other_cashier = member(Role.CASHIER, charged)
    before = take(charged, cashier_a, "300")  # no till open yet
    till = open_till(charged, cashier_a)
    first = take(charged, cashier_a, "1200")
    second = take(charged, cashier_a, "800", reference="NOBODY-1")  # in suspense, but the cash is in the till
    by_colleague = take(charged, other_cashier, "500")
    by_bank = take(charged, cashier_a, "700", channel="bank")
    assert set(till.payments.all()) == {first, second}
    assert {p.till_id for p in (before, by_colleague, by_bank)} == {None}
    till_close(till=till, counts={"5000": 1, "1000": 2}, explanation="", acting_user=cashier_a)
    after = take(charged, cashier_a, "100")
    assert after.till_id is None


def test_a_void_drops_out_of_the_expected_cash(charged, cashier_a, treasurer_a):
    # given a till with a float of 5,000, two cash payments, and the second voided
    till = open_till(charged, cashier_a, "5000")
    take(charged, cashier_a, "1200")
    void(take(charged, cashier_a, "800"), cashier_a, treasurer_a)
    # when the cashier counts 6,200 (the float and the payment kept)
    till = till_close(till=till, counts={"5000": 1, "1000": 1, "100": 2}, explanation="", acting_user=cashier_a)
    # then the till expected exactly that: no variance, nothing posted
    assert (till.cash_taken, till.voided, till.expected) == (Decimal("2000"), Decimal("800"), Decimal("6200"))
    assert till.counted == Decimal("6200") and till.variance == Decimal("0")
    assert transfers_of(till.ledger_reference) == []
    assert cash_account(charged, "clearing:cash_office") == Decimal("1200")


# Closing with a count ---------------------------------------------------------------------------------------------


def test_a_short_count_needs_an_explanation_and_is_posted_to_cash_over_short(charged, cashier_a):
    # given a float of 5,000 and 1,200 + 800 taken: the till should hold 7,000
    till = open_till(charged, cashier_a, "5000")
    take(charged, cashier_a, "1200")
    take(charged, cashier_a, "800")
    # when the cashier counts 6,900 and gives no explanation
    with pytest.raises(CashierError) as refused:
        till_close(till=till, counts=RWF_6900, explanation="  ", acting_user=cashier_a)
    # then they are told the variance and what to do, and the till stays open
    assert refused.value.code == "explanation_required" and "explanation" in refused.value.fields
    message = str(refused.value.message)
    assert "6,900 RWF" in message and "7,000 RWF" in message and "100 RWF short" in message
    till.refresh_from_db()
    assert till.is_open and till.counted is None
    assert transfers_of(till.ledger_reference) == []
    # when they explain it
    till = till_close(till=till, counts=RWF_6900, explanation="Gave 100 too much change", acting_user=cashier_a)
    # then the till is closed with its figures and the shortage moves from office cash to cash over and short
    till.refresh_from_db()
    assert till.status == TillSession.Status.CLOSED and till.closed_by == cashier_a
    assert (till.expected, till.counted, till.variance) == (Decimal("7000"), Decimal("6900"), Decimal("-100"))
    assert till.variance_explanation == "Gave 100 too much change"
    assert till.counts["5000"] == 1 and till.counts["100"] == 4 and till.counts["2000"] == 0
    [posted] = transfers_of(till.ledger_reference)
    assert (posted.debit.code, posted.credit.code, posted.amount) == (
        "cash_over_short",
        "clearing:cash_office",
        Decimal("100"),
    )
    # office cash is what is physically there, less the float that stays as change
    assert cash_account(charged, "clearing:cash_office") == Decimal("1900") == till.counted - till.float_amount
    assert cash_account(charged, "cash_over_short") == Decimal("100")
    assert ledger_verify() == [] and trial_balance(operator=charged) == 0
    entry = AuditEntry.objects.get(action="till.closed", target_id=str(till.pk))
    assert entry.after["variance"] == "-100" and entry.after["counts"] == {"5000": 1, "1000": 1, "500": 1, "100": 4}


def test_an_over_count_is_credited_to_cash_over_short(charged, cashier_a):
    till = open_till(charged, cashier_a, "5000")
    take(charged, cashier_a, "2000")
    till = till_close(
        till=till, counts={"5000": 1, "2000": 1, "50": 1}, explanation="Customer left change", acting_user=cashier_a
    )
    assert till.variance == Decimal("50")
    [posted] = transfers_of(till.ledger_reference)
    assert (posted.debit.code, posted.credit.code, posted.amount) == (
        "clearing:cash_office",
        "cash_over_short",
        Decimal("50"),
    )
    assert cash_account(charged, "clearing:cash_office") == Decimal("2050")


def test_a_closed_till_is_final(charged, cashier_a, treasurer_a):
    # given a closed till holding one payment
    till = open_till(charged, cashier_a, "5000")
    payment = take(charged, cashier_a, "2000")
    till = till_close(till=till, counts=RWF_7000, explanation="", acting_user=cashier_a)
    # closing it again with the same count answers the closed till; another count is a 409
    assert till_close(till=till, counts=RWF_7000, explanation="", acting_user=cashier_a).pk == till.pk
    with pytest.raises(Conflict) as conflict:
        till_close(till=till, counts=RWF_6900, explanation="recount", acting_user=cashier_a)
    assert conflict.value.code == "till_closed"
    # its payment can no longer be voided
    with pytest.raises(Conflict) as refused:
        void(payment, cashier_a, treasurer_a)
    assert refused.value.code == "till_closed"
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.COMPLETED
    # and the database refuses to change or delete the row
    with pytest.raises(DatabaseError), transaction.atomic():
        TillSession.objects.filter(pk=till.pk).update(counted=Decimal("9999"))
    with pytest.raises(DatabaseError), transaction.atomic():
        TillSession.objects.filter(pk=till.pk).delete()
    till.refresh_from_db()
    assert till.counted == Decimal("7000")
    assert AuditEntry.objects.filter(action="till.closed").count() == 1


@pytest.mark.parametrize(
    "counts",
    [{"3000": 1}, {"500": -1}, {"500": 1.5}, {"abc": 1}, {"500": True}, {"500": "2"}, {"100": 10_000_000}],
)
def test_a_count_that_is_not_whole_pieces_of_the_currency_is_refused(operator_a, cashier_a, counts):
    till = open_till(operator_a, cashier_a, "0")
    with pytest.raises(CountError) as refused:
        till_close(till=till, counts=counts, explanation="x", acting_user=cashier_a)
    assert refused.value.code == "count_invalid" and refused.value.fields["counts"]
    till.refresh_from_db()
    assert till.is_open


def test_a_supervisor_may_close_a_cashiers_till_and_a_colleague_may_not(operator_a, cashier_a, treasurer_a):
    till = open_till(operator_a, cashier_a, "1000")
    with pytest.raises(PermissionDenied):
        till_close(till=till, counts={"1000": 1}, explanation="", acting_user=member(Role.CASHIER, operator_a))
    closed = till_close(till=till, counts={"1000": 1}, explanation="", acting_user=treasurer_a)
    assert closed.closed_by == treasurer_a and not closed.is_open


# Denominations ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("currency", sorted(CURRENCY_EXPONENTS))
def test_every_currency_has_its_notes_and_coins_exact_in_its_units(currency):
    denominations = DENOMINATIONS[currency]
    values = [denomination.value for denomination in denominations]
    assert values == sorted(set(values), reverse=True)
    assert all(quantize(value, currency) == value for value in values)
    assert all(denomination.form in ("note", "coin", "note_or_coin") for denomination in denominations)


def test_a_count_totals_exactly_whatever_way_the_keys_are_written():
    pieces = count_normalise(currency="KES", counts={"0.5": 3, "1000.00": 2, "20": 1})
    assert pieces["0.50"] == 3 and pieces["1000"] == 2 and pieces["500"] == 0
    assert count_total(currency="KES", pieces=pieces) == Decimal("2021.50")
    assert count_total(currency="RWF", pieces=count_normalise(currency="RWF", counts=RWF_6900)) == Decimal("6900")


# Banking slips --------------------------------------------------------------------------------------------------


@pytest.fixture
def closed_till(charged, cashier_a):
    """A till of float 5,000 that took 2,000 and was counted 6,900 (100 short): 1,900 to bank."""
    till = open_till(charged, cashier_a, "5000")
    take(charged, cashier_a, "2000")
    return till_close(till=till, counts=RWF_6900, explanation="short", acting_user=cashier_a)


def slip(operator, user, amount, *, till=None, number="BK-1001", key=None, deposited_on=None):
    return banking_slip_record(
        operator=operator,
        till=till,
        bank_name="Bank of Kigali",
        slip_number=number,
        amount=Decimal(amount),
        deposited_on=deposited_on or timezone.localdate(),
        idempotency_key=key or str(uuid.uuid4()),
        acting_user=user,
    )


def test_a_banking_slip_moves_the_tills_cash_from_the_office_to_the_bank(closed_till, cashier_a):
    operator = closed_till.operator
    assert bankable_of_till(till=closed_till) == Decimal("1900")
    recorded = slip(operator, cashier_a, "1900", till=closed_till)
    [posted] = transfers_of(recorded.ledger_reference)
    assert (posted.debit.code, posted.credit.code, posted.amount) == (
        "clearing:bank",
        "clearing:cash_office",
        Decimal("1900"),
    )
    assert cash_account(operator, "clearing:cash_office") == Decimal("0")
    assert bankable_of_till(till=closed_till) == Decimal("0")
    assert recorded.business_date == closed_till.business_date
    assert AuditEntry.objects.filter(action="banking_slip.recorded", target_id=str(recorded.pk)).exists()
    assert ledger_verify() == []


def test_a_slip_banks_no_more_than_the_till_has_left(closed_till, cashier_a):
    with pytest.raises(CashierError) as refused:
        slip(closed_till.operator, cashier_a, "2000", till=closed_till)
    assert refused.value.code == "more_than_the_till" and "1,900 RWF" in str(refused.value.message)
    slip(closed_till.operator, cashier_a, "1000", till=closed_till, number="BK-1")
    with pytest.raises(CashierError):
        slip(closed_till.operator, cashier_a, "1000", till=closed_till, number="BK-2")
    assert bankable_of_till(till=closed_till) == Decimal("900")


def test_an_open_till_is_banked_only_after_its_close(charged, cashier_a):
    till = open_till(charged, cashier_a, "0")
    take(charged, cashier_a, "2000")
    with pytest.raises(CashierError) as refused:
        slip(charged, cashier_a, "1000", till=till)
    assert refused.value.code == "till_open"


def test_a_slip_is_recorded_once(closed_till, cashier_a, treasurer_a):
    operator = closed_till.operator
    first = slip(operator, cashier_a, "500", till=closed_till, key="slip-key")
    # the same key and body again: the first slip; another body with the key: a 409
    assert slip(operator, cashier_a, "500", till=closed_till, key="slip-key").pk == first.pk
    with pytest.raises(Conflict):
        slip(operator, cashier_a, "600", till=closed_till, key="slip-key")
    # the same slip number of the same bank (whatever the case of its name) under a new key: refused
    with pytest.raises(CashierError) as duplicate:
        banking_slip_record(
            operator=operator,
            till=closed_till,
            bank_name="BANK OF KIGALI",
            slip_number="BK-1001",
            amount=Decimal("100"),
            deposited_on=timezone.localdate(),
            idempotency_key="another",
            acting_user=treasurer_a,
        )
    assert duplicate.value.code == "slip_duplicate" and duplicate.value.status == 409
    assert Transfer.objects.filter(reference__startswith="banking:").count() == 1


def test_a_cashier_banks_only_their_own_till(closed_till, operator_a):
    colleague = member(Role.CASHIER, operator_a)
    with pytest.raises(PermissionDenied) as refused:
        slip(operator_a, colleague, "100", till=closed_till)
    assert refused.value.code == "own_till_only"
    with pytest.raises(PermissionDenied):
        slip(operator_a, colleague, "100")
    with pytest.raises(PermissionDenied):
        slip(operator_a, member(Role.REVENUE_COLLECTOR, operator_a), "100", till=closed_till)


def test_a_slip_dated_tomorrow_is_refused(closed_till, cashier_a):
    with pytest.raises(CashierError) as refused:
        slip(
            closed_till.operator,
            cashier_a,
            "100",
            till=closed_till,
            deposited_on=timezone.localdate() + timezone.timedelta(days=1),
        )
    assert "deposited_on" in refused.value.fields


# Collectors' hand-overs ------------------------------------------------------------------------------------------


def hand_over(operator, collector, treasurer, amount, *, key=None, counts=None):
    return handover_record(
        operator=operator,
        collector=collector,
        treasurer=treasurer,
        amount=Decimal(amount),
        idempotency_key=key or str(uuid.uuid4()),
        counts=counts,
    )


def test_cash_in_hand_is_field_cash_not_yet_handed_over_and_confirmed(charged, collector_a, treasurer_a):
    # given a collector who took 3,000 and 2,000 in the field, and a voided 400
    take(charged, collector_a, "3000", channel="cash_field")
    take(charged, collector_a, "2000", channel="cash_field")
    void(take(charged, collector_a, "400", channel="cash_field"), collector_a, treasurer_a)
    assert collector_cash(operator=charged, collector=collector_a).in_hand == Decimal("5000")
    # when they hand 3,000 to the treasurer
    handover = hand_over(charged, collector_a, treasurer_a, "3000", counts={"2000": 1, "1000": 1})
    # then it waits: still in their hand, but no longer available to hand over again
    cash = collector_cash(operator=charged, collector=collector_a)
    assert (cash.in_hand, cash.pending, cash.available) == (Decimal("5000"), Decimal("3000"), Decimal("2000"))
    assert transfers_of(handover.ledger_reference) == []
    # when the treasurer confirms
    handover = handover_confirm(handover=handover, acting_user=treasurer_a)
    # then the cash leaves the collector's hand and moves from field cash to office cash
    assert handover.status == CashHandover.Status.CONFIRMED and handover.decided_by == treasurer_a
    cash = collector_cash(operator=charged, collector=collector_a)
    assert (cash.in_hand, cash.pending, cash.available) == (Decimal("2000"), Decimal("0"), Decimal("2000"))
    [posted] = transfers_of(handover.ledger_reference)
    assert (posted.debit.code, posted.credit.code, posted.amount) == (
        "clearing:cash_office",
        "clearing:cash_field",
        Decimal("3000"),
    )
    assert cash_account(charged, "clearing:cash_field") == Decimal("2000")
    assert cash_account(charged, "clearing:cash_office") == Decimal("3000")
    # confirming again answers the same and posts nothing more
    assert handover_confirm(handover=handover, acting_user=treasurer_a).pk == handover.pk
    assert len(transfers_of(handover.ledger_reference)) == 1
    assert ledger_verify() == []
    actions = set(AuditEntry.objects.filter(target_id=str(handover.pk)).values_list("action", flat=True))
    assert {"handover.recorded", "handover.confirmed"} <= actions


def test_a_hand_over_is_at_most_the_cash_available(charged, collector_a, treasurer_a):
    take(charged, collector_a, "3000", channel="cash_field")
    hand_over(charged, collector_a, treasurer_a, "2000")
    with pytest.raises(CashierError) as refused:
        hand_over(charged, collector_a, treasurer_a, "1500")
    assert refused.value.code == "more_than_in_hand" and "amount" in refused.value.fields
    assert "1,000 RWF" in str(refused.value.message)
    assert CashHandover.objects.count() == 1


def test_a_collector_cannot_confirm_their_own_hand_over_even_as_a_treasurer(charged, treasurer_a):
    collector = also(member(Role.TREASURER, charged, name="Two Hats"), Role.REVENUE_COLLECTOR, charged)
    take(charged, collector, "1000", channel="cash_field")
    handover = hand_over(charged, collector, treasurer_a, "1000")
    with pytest.raises(PermissionDenied) as refused:
        handover_confirm(handover=handover, acting_user=collector)
    assert refused.value.code == "own_handover"
    with pytest.raises(PermissionDenied):
        handover_dispute(handover=handover, reason="mine", acting_user=collector)
    handover.refresh_from_db()
    assert handover.status == CashHandover.Status.PENDING


def test_a_cashier_cannot_confirm_a_hand_over(charged, collector_a, treasurer_a, cashier_a):
    take(charged, collector_a, "1000", channel="cash_field")
    handover = hand_over(charged, collector_a, treasurer_a, "1000")
    with pytest.raises(PermissionDenied) as refused:
        handover_confirm(handover=handover, acting_user=cashier_a)
    assert refused.value.code == "role_required"
    assert transfers_of(handover.ledger_reference) == []


def test_a_dispute_needs_a_reason_and_leaves_the_cash_in_the_collectors_hand(charged, collector_a, treasurer_a):
    take(charged, collector_a, "1000", channel="cash_field")
    handover = hand_over(charged, collector_a, treasurer_a, "1000")
    with pytest.raises(CashierError) as refused:
        handover_dispute(handover=handover, reason=" ", acting_user=treasurer_a)
    assert refused.value.code == "reason_required"
    handover = handover_dispute(handover=handover, reason="Only 800 in the envelope", acting_user=treasurer_a)
    assert handover.status == CashHandover.Status.DISPUTED
    assert handover.dispute_reason == "Only 800 in the envelope"
    cash = collector_cash(operator=charged, collector=collector_a)
    assert (cash.in_hand, cash.available) == (Decimal("1000"), Decimal("1000"))
    with pytest.raises(Conflict):
        handover_confirm(handover=handover, acting_user=treasurer_a)
    assert transfers_of(handover.ledger_reference) == []


def test_a_hand_over_is_recorded_once_per_key(charged, collector_a, treasurer_a):
    take(charged, collector_a, "3000", channel="cash_field")
    first = hand_over(charged, collector_a, treasurer_a, "1000", key="field-app-1")
    assert hand_over(charged, collector_a, treasurer_a, "1000", key="field-app-1").pk == first.pk
    with pytest.raises(Conflict) as conflict:
        hand_over(charged, collector_a, treasurer_a, "1200", key="field-app-1")
    assert conflict.value.code == "idempotency_key_reused"
    assert CashHandover.objects.count() == 1


def test_the_notes_and_coins_given_must_add_up_to_the_amount(charged, collector_a, treasurer_a):
    take(charged, collector_a, "3000", channel="cash_field")
    with pytest.raises(CashierError) as refused:
        hand_over(charged, collector_a, treasurer_a, "3000", counts={"2000": 1})
    assert refused.value.code == "count_mismatch"
    assert not CashHandover.objects.exists()


@pytest.mark.parametrize("role", [Role.CASHIER, Role.REVENUE_COLLECTOR])
def test_cash_is_handed_to_a_treasurer_or_admin_only(charged, collector_a, role):
    take(charged, collector_a, "3000", channel="cash_field")
    with pytest.raises(CashierError) as refused:
        hand_over(charged, collector_a, member(role, charged), "1000")
    assert refused.value.code == "treasurer_invalid"
    with pytest.raises(CashierError):
        hand_over(charged, collector_a, collector_a, "1000")


def test_only_a_collector_hands_over_field_cash(charged, cashier_a, treasurer_a):
    with pytest.raises(PermissionDenied):
        hand_over(charged, cashier_a, treasurer_a, "1000")


def test_the_office_holds_what_the_tills_and_collectors_brought_and_the_treasurer_banks_it(
    closed_till, collector_a, treasurer_a
):
    # given 1,900 at the office from a till and 3,000 handed over by a collector
    operator = closed_till.operator
    take(operator, collector_a, "3000", channel="cash_field")
    handover_confirm(handover=hand_over(operator, collector_a, treasurer_a, "3000"), acting_user=treasurer_a)
    assert cash_account(operator, "clearing:cash_office") == Decimal("4900")
    # the treasurer banks office cash in general, never more than the office holds
    with pytest.raises(CashierError) as refused:
        slip(operator, treasurer_a, "5000")
    assert refused.value.code == "more_than_office_cash"
    slip(operator, treasurer_a, "4900")
    assert cash_account(operator, "clearing:cash_office") == Decimal("0")
    assert cash_account(operator, "clearing:bank") == Decimal("4900")
    assert ledger_verify() == [] and trial_balance(operator=operator) == 0
