"""Corrections: a provider's charge-back of a payment (even when its credit or deposit was used since), and
cancelling a charge (what was paid towards it becomes credit that pays the other charges)."""

from decimal import Decimal

import pytest

from mita.accounts.roles import Role
from mita.core.audit import audit_for
from mita.core.errors import Conflict, DomainError, PermissionDenied
from mita.ledger.models import Charge, Transfer
from mita.ledger.selectors import ledger_verify, trial_balance
from mita.ledger.services import charge_post
from mita.payments.corrections import charge_cancel, payment_reverse
from mita.payments.deposits import deposit_adjust, deposit_apply_to_final_bill
from mita.payments.models import Allocation, ChargeCancellation, Payment
from mita.payments.refunds import refund_approve, refund_pay_out
from mita.payments.selectors import charges_open
from mita.payments.services import credit_apply, payment_void
from mita.payments.tests.deposit_world import (
    DUE,
    HOLDER,
    balances,
    bill,
    deposit,
    ledger_amount,
    money,
    pay,
    request_refund,
)
from mita.testing.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def cashier_a(operator_a):
    return member(Role.CASHIER, operator_a, name="Carla Cashier")


@pytest.fixture
def treasurer_a(operator_a):
    return member(Role.TREASURER, operator_a, name="Tom Treasurer")


def open_amounts(operator, holder=HOLDER):
    return [(charge.reference, charge.open_amount) for charge in charges_open(operator=operator, holder=holder)]


def owes_what_is_open(operator, holder=HOLDER):
    """The receivable equals the open charges: nothing is owed that no charge explains."""
    return balances(operator, holder)[0] == sum((amount for _r, amount in open_amounts(operator, holder)), Decimal("0"))


def clearing(operator, channel):
    return ledger_amount(operator, f"clearing:{channel}")


# Charge-backs ------------------------------------------------------------------------------------------


def test_a_charged_back_payment_opens_its_charges_again(operator_a, treasurer_a):
    # given a 1,200 bill paid by MoMo
    bill(operator_a, "1200")
    payment = pay(operator_a, "1200", channel="momo")
    assert clearing(operator_a, "momo") == Decimal("1200")
    # when MTN takes the money back
    reversed_payment = payment_reverse(
        payment=payment, reason="customer disputed", provider_reference="CB-1", acting_user=treasurer_a
    )
    # then the payment is reversed, the bill is owed again, and the MoMo clearing account is back to zero
    assert reversed_payment.status == Payment.Status.REVERSED
    assert reversed_payment.memo["reversal"]["provider_reference"] == "CB-1"
    assert balances(operator_a) == money(1200, 0, 0)
    assert open_amounts(operator_a) == [("bill:1", Decimal("1200"))]
    assert clearing(operator_a, "momo") == 0
    assert audit_for(payment).filter(action="payment.reversed").count() == 1


def test_the_same_charge_back_reported_twice_reverses_once_and_its_id_is_not_reused(operator_a, treasurer_a):
    bill(operator_a, "2000")
    first = pay(operator_a, "1000", channel="mpesa")
    second = pay(operator_a, "1000", channel="mpesa")
    payment_reverse(payment=first, reason="failed", provider_reference="R-1", acting_user=treasurer_a)
    again = payment_reverse(payment=first, reason="failed", provider_reference="R-1", acting_user=treasurer_a)
    assert again.status == Payment.Status.REVERSED
    assert Transfer.objects.filter(kind=Transfer.Kind.REVERSAL).count() == 1
    with pytest.raises(Conflict):
        payment_reverse(payment=second, reason="failed", provider_reference="R-1", acting_user=treasurer_a)
    with pytest.raises(Conflict) as other_id:
        payment_reverse(payment=first, reason="failed", provider_reference="R-2", acting_user=treasurer_a)
    assert other_id.value.code == "already_reversed"
    assert balances(operator_a) == money(1000, 0, 0)


def test_a_charge_back_whose_credit_was_used_is_owed_as_a_charge_back_charge(operator_a, treasurer_a):
    # given a 1,000 MoMo payment against a 600 bill: 400 kept as credit, then used on the next bill
    bill(operator_a, "600", reference="bill:sep")
    payment = pay(operator_a, "1000", channel="momo")
    bill(operator_a, "400", reference="bill:oct")
    credit_apply(operator=operator_a, holder=HOLDER, acting_user=None)
    assert balances(operator_a) == money(0, 0, 0)
    # when the payment is charged back
    payment_reverse(payment=payment, reason="fraud", provider_reference="CB-9", acting_user=treasurer_a)
    # then credit never goes below zero: bill:sep is owed again and the used 400 is owed as a charge-back
    assert balances(operator_a) == money(1000, 0, 0)
    assert sorted(open_amounts(operator_a)) == [
        ("bill:sep", Decimal("600")),
        (f"chargeback:{payment.pk}", Decimal("400")),
    ]
    chargeback = Charge.objects.get(head="chargeback")
    assert (chargeback.total, chargeback.vat) == (Decimal("400"), 0)
    assert owes_what_is_open(operator_a)
    assert clearing(operator_a, "momo") == 0
    assert trial_balance(operator=operator_a) == 0 and ledger_verify(operator=operator_a) == []


def test_a_charge_back_of_a_deposit_applied_and_refunded_is_owed_once(operator_a, cashier_a, treasurer_a, admin_a):
    # given a 5,000 deposit paid by M-Pesa, applied to a 1,200 final bill and the 3,800 left refunded in cash
    deposit(operator_a, "5000")
    payment = pay(operator_a, "5000", channel="mpesa")
    bill(operator_a, "1200", reference="bill:final")
    deposit_apply_to_final_bill(operator=operator_a, holder=HOLDER, acting_user=treasurer_a)
    refund = refund_approve(refund=request_refund(operator_a, cashier_a, "3800"), acting_user=treasurer_a)
    refund_pay_out(refund=refund, payout_reference="", acting_user=admin_a)
    # when Safaricom reverses the payment
    payment_reverse(payment=payment, reason="reversed", provider_reference="OEI2AK4Q16", acting_user=treasurer_a)
    # then the customer owes the 5,000 once (not a deposit again: the deposit did its work), nothing held or credited
    assert balances(operator_a) == money(5000, 0, 0)
    assert open_amounts(operator_a) == [(f"chargeback:{payment.pk}", Decimal("5000"))]
    assert owes_what_is_open(operator_a)
    assert ledger_amount(operator_a, "deposits_billed") == 0
    assert clearing(operator_a, "mpesa") == 0
    assert trial_balance(operator=operator_a) == 0 and ledger_verify(operator=operator_a) == []


def test_a_charge_back_of_a_deposit_still_held_makes_the_deposit_owed_again(operator_a, treasurer_a):
    deposit(operator_a, "5000")
    payment = pay(operator_a, "5000", channel="online")
    payment_reverse(payment=payment, reason="card dispute", provider_reference="DSP-1", acting_user=treasurer_a)
    assert balances(operator_a) == money(5000, 0, 0)
    assert open_amounts(operator_a) == [("deposit:1", Decimal("5000"))]


def test_a_charge_back_after_the_deposit_was_lowered_leaves_the_new_level_owed(operator_a, treasurer_a):
    # given a 5,000 deposit and 1,000 more paid by MoMo, then the deposit lowered to 4,200 (800 released to credit)
    deposit(operator_a, "5000")
    payment = pay(operator_a, "6000", channel="momo")
    deposit_adjust(
        operator=operator_a, holder=HOLDER, amount=Decimal("4200"), reference="pkg:small", acting_user=treasurer_a
    )
    assert balances(operator_a) == money(0, 1800, 4200)
    # when MTN charges the payment back
    payment_reverse(payment=payment, reason="charged back", provider_reference="CB-LOW", acting_user=treasurer_a)
    # then the customer owes what the new level needs and holds nothing the payment brought: the 800 released stays
    # counted paid on the deposit charge (the charge-back keeps it), and the credit it became pays the charge-back
    owed, credit, held = balances(operator_a)
    assert credit == 0 and owed + held == Decimal("5000") and owed == Decimal("4200")
    assert owes_what_is_open(operator_a)
    assert trial_balance(operator=operator_a) == 0 and ledger_verify(operator=operator_a) == []
    # and paying what is owed holds exactly the new level, not the old one
    pay(operator_a, "4200")
    assert balances(operator_a) == money(0, 0, 4200)
    assert trial_balance(operator=operator_a) == 0 and ledger_verify(operator=operator_a) == []


def test_a_charge_back_of_a_payment_in_suspense_empties_the_suspense(operator_a, treasurer_a):
    bill(operator_a, "100")
    payment = pay(operator_a, "700", holder="NOBODY", channel="momo")
    assert payment.status == Payment.Status.IN_SUSPENSE
    payment_reverse(payment=payment, reason="failed", provider_reference="CB-3", acting_user=treasurer_a)
    assert ledger_amount(operator_a, "suspense") == 0
    assert clearing(operator_a, "momo") == 0


def test_charge_backs_are_for_provider_payments_recorded_by_a_supervisor(operator_a, cashier_a, treasurer_a):
    bill(operator_a, "1200")
    cash = pay(operator_a, "100")
    momo = pay(operator_a, "100", channel="momo")
    with pytest.raises(DomainError) as cash_refused:
        payment_reverse(payment=cash, reason="x", provider_reference="C-1", acting_user=treasurer_a)
    assert cash_refused.value.code == "channel_not_reversible"
    with pytest.raises(PermissionDenied):
        payment_reverse(payment=momo, reason="x", provider_reference="C-2", acting_user=cashier_a)
    for reason, reference, field in (("", "C-3", "reason"), ("x", " ", "provider_reference")):
        with pytest.raises(DomainError) as incomplete:
            payment_reverse(payment=momo, reason=reason, provider_reference=reference, acting_user=treasurer_a)
        assert incomplete.value.fields[field]
    payment_void(
        payment=momo,
        reason="typo",
        approved_by=treasurer_a,
        acting_user=cashier_a,
        approver_roles=frozenset({"treasurer"}),
    )
    with pytest.raises(Conflict) as voided:
        payment_reverse(payment=momo, reason="x", provider_reference="C-4", acting_user=treasurer_a)
    assert voided.value.code == "not_reversible"
    assert Payment.objects.filter(status=Payment.Status.REVERSED).count() == 0


# Charge cancellation -----------------------------------------------------------------------------------


def test_cancelling_an_unpaid_charge_takes_back_its_revenue_and_vat(operator_a, treasurer_a):
    charge = bill(operator_a, "1000", vat_rule="standard")
    assert balances(operator_a) == money(1180, 0, 0)
    cancellation = charge_cancel(charge=charge, reason="billed twice", acting_user=treasurer_a, approved_by=treasurer_a)
    assert cancellation.moved_to_credit == 0
    assert balances(operator_a) == money(0, 0, 0)
    assert open_amounts(operator_a) == []
    assert ledger_amount(operator_a, "revenue:water_sales") == 0
    assert ledger_amount(operator_a, "vat_payable") == 0


def test_what_was_paid_towards_a_cancelled_charge_becomes_credit_that_pays_the_others(operator_a, treasurer_a):
    # given bill:sep 800 paid in full and bill:oct 1,000 paid 400
    sep = bill(operator_a, "800", reference="bill:sep", due=DUE.replace(month=9, day=30))
    bill(operator_a, "1000", reference="bill:oct")
    pay(operator_a, "1200")
    # when bill:sep is cancelled (it was wrong)
    cancellation = charge_cancel(charge=sep, reason="wrong meter", acting_user=treasurer_a, approved_by=treasurer_a)
    # then its 800 became credit that paid the rest of bill:oct; 200 credit is left
    assert cancellation.moved_to_credit == Decimal("800")
    assert Allocation.objects.filter(charge=sep, voided=False).count() == 0
    assert open_amounts(operator_a) == []
    assert balances(operator_a) == money(0, 200, 0)
    assert trial_balance(operator=operator_a) == 0 and ledger_verify(operator=operator_a) == []


def test_a_cashier_cancels_only_with_a_supervisor_s_approval(operator_a, cashier_a, treasurer_a):
    charge = bill(operator_a, "1000")
    with pytest.raises(PermissionDenied) as unapproved:
        charge_cancel(charge=charge, reason="typo", acting_user=cashier_a, approved_by=cashier_a)
    assert unapproved.value.code == "approval_required"
    with pytest.raises(PermissionDenied):
        charge_cancel(charge=charge, reason="typo", acting_user=cashier_a, approved_by=None)
    collector = member(Role.REVENUE_COLLECTOR, operator_a)
    with pytest.raises(PermissionDenied) as role:
        charge_cancel(charge=charge, reason="typo", acting_user=collector, approved_by=treasurer_a)
    assert role.value.code == "role_refused"
    assert not ChargeCancellation.objects.exists()
    cancellation = charge_cancel(charge=charge, reason="typo", acting_user=cashier_a, approved_by=treasurer_a)
    assert (cancellation.cancelled_by, cancellation.approved_by) == (cashier_a, treasurer_a)


def test_a_charge_is_cancelled_once_and_needs_a_reason(operator_a, treasurer_a):
    charge = bill(operator_a, "1000")
    with pytest.raises(DomainError) as no_reason:
        charge_cancel(charge=charge, reason=" ", acting_user=treasurer_a, approved_by=treasurer_a)
    assert no_reason.value.fields["reason"]
    charge_cancel(charge=charge, reason="duplicate", acting_user=treasurer_a, approved_by=treasurer_a)
    with pytest.raises(Conflict) as twice:
        charge_cancel(charge=charge, reason="duplicate", acting_user=treasurer_a, approved_by=treasurer_a)
    assert twice.value.code == "already_cancelled"
    assert balances(operator_a) == money(0, 0, 0)


def test_only_the_cancelled_charge_of_a_shared_reference_is_reversed(operator_a, treasurer_a):
    water = bill(operator_a, "1000", reference="bill:42")
    charge_post(
        operator=operator_a,
        holder=HOLDER,
        head="penalties",
        amount=Decimal("50"),
        vat_rule="exempt",
        reference="bill:42",
        due_date=DUE,
        acting_user=None,
    )
    charge_cancel(charge=water, reason="wrong reading", acting_user=treasurer_a, approved_by=treasurer_a)
    assert open_amounts(operator_a) == [("bill:42", Decimal("50"))]
    assert balances(operator_a) == money(50, 0, 0)


def test_voiding_a_payment_after_its_charge_was_cancelled_leaves_nothing_owed(operator_a, cashier_a, treasurer_a):
    charge = bill(operator_a, "1000")
    payment = pay(operator_a, "1000", user=cashier_a)
    charge_cancel(charge=charge, reason="not ours", acting_user=treasurer_a, approved_by=treasurer_a)
    assert balances(operator_a) == money(0, 1000, 0)
    payment_void(
        payment=payment,
        reason="wrong account",
        approved_by=treasurer_a,
        acting_user=cashier_a,
        approver_roles=frozenset({"treasurer"}),
    )
    assert balances(operator_a) == money(0, 0, 0)
    assert owes_what_is_open(operator_a)


def test_a_deposit_already_applied_cannot_have_its_charge_cancelled(operator_a, treasurer_a):
    charge = deposit(operator_a, "5000")
    pay(operator_a, "5000")
    deposit_apply_to_final_bill(operator=operator_a, holder=HOLDER, acting_user=treasurer_a)
    with pytest.raises(Conflict) as refused:
        charge_cancel(charge=charge, reason="x", acting_user=treasurer_a, approved_by=treasurer_a)
    assert refused.value.code == "deposit_already_used"
    assert balances(operator_a) == money(0, 5000, 0)


def test_cancelling_a_paid_deposit_charge_moves_the_held_deposit_to_credit(operator_a, treasurer_a):
    charge = deposit(operator_a, "5000")
    pay(operator_a, "5000")
    charge_cancel(charge=charge, reason="exempt customer", acting_user=treasurer_a, approved_by=treasurer_a)
    assert balances(operator_a) == money(0, 5000, 0)
    assert ledger_amount(operator_a, "deposits_billed") == 0


def test_a_charge_back_charge_cannot_be_cancelled(operator_a, treasurer_a):
    bill(operator_a, "600")
    payment = pay(operator_a, "1000", channel="momo")
    bill(operator_a, "400", reference="bill:2")
    credit_apply(operator=operator_a, holder=HOLDER, acting_user=None)
    payment_reverse(payment=payment, reason="fraud", provider_reference="CB-1", acting_user=treasurer_a)
    with pytest.raises(Conflict) as refused:
        charge_cancel(
            charge=Charge.objects.get(head="chargeback"), reason="x", acting_user=treasurer_a, approved_by=treasurer_a
        )
    assert refused.value.code == "chargeback_not_cancellable"


def test_a_charge_back_keeps_a_used_deposit_paid_even_when_older_charges_are_open(operator_a, cashier_a, treasurer_a):
    # given a 5,000 deposit paid by MoMo, applied at termination and refunded in full
    deposit(operator_a, "5000")
    payment = pay(operator_a, "5000", channel="momo")
    deposit_apply_to_final_bill(operator=operator_a, holder=HOLDER, acting_user=treasurer_a)
    refund = refund_approve(refund=request_refund(operator_a, cashier_a, "5000"), acting_user=treasurer_a)
    refund_pay_out(refund=refund, payout_reference="", acting_user=treasurer_a)
    # and a late correction of 300 due before the deposit, still open
    bill(operator_a, "300", reference="bill:late", due=DUE.replace(month=1))
    # when the payment is charged back
    payment_reverse(payment=payment, reason="reversed", provider_reference="CB-7", acting_user=treasurer_a)
    # then the deposit stays paid (nothing held, never negative); the late bill and the 5,000 are owed
    assert balances(operator_a) == money(5300, 0, 0)
    assert sorted(open_amounts(operator_a)) == [
        ("bill:late", Decimal("300")),
        (f"chargeback:{payment.pk}", Decimal("5000")),
    ]
    assert owes_what_is_open(operator_a)
    assert ledger_verify(operator=operator_a) == []
