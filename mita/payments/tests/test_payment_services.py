"""Taking payments: matching, allocation oldest first, credit, suspense, voids, gapless receipts."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from mita.accounts.roles import Role
from mita.core.errors import DomainError
from mita.ledger.models import Transfer
from mita.ledger.selectors import holder_balance, ledger_verify, trial_balance
from mita.ledger.services import charge_post
from mita.payments.models import Allocation, Payment, Receipt
from mita.payments.services import credit_apply, payment_assign, payment_receive, payment_void
from mita.testing.factories import member

pytestmark = pytest.mark.django_db
HOLDER = "AAL-0001"


def bill(operator, amount, due, reference, holder=HOLDER):
    return charge_post(
        operator=operator,
        holder=holder,
        head="water_sales",
        amount=Decimal(amount),
        vat_rule="exempt",
        reference=reference,
        due_date=due,
        acting_user=None,
    )


def pay(operator, amount, key, reference=HOLDER, channel="cash_office", user=None):
    return payment_receive(
        operator=operator,
        channel=channel,
        amount=Decimal(amount),
        account_reference=reference,
        idempotency_key=key,
        received_by=user,
    )


def test_a_payment_clears_the_oldest_charges_first_and_a_partial_payment_is_normal(operator_a):
    october = bill(operator_a, "1000", datetime.date(2026, 10, 31), "bill:oct")
    september = bill(operator_a, "800", datetime.date(2026, 9, 30), "bill:sep")
    payment = pay(operator_a, "1200", "k1")
    allocations = {a.charge_id: a.amount for a in payment.allocations.all()}
    assert allocations == {september.pk: Decimal("800"), october.pk: Decimal("400")}
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("600")
    assert payment.status == Payment.Status.COMPLETED


def test_the_account_reference_matches_whatever_its_case(operator_a):
    bill(operator_a, "500", datetime.date(2026, 10, 31), "bill:1")
    payment = pay(operator_a, "500", "k1", reference=" aal-0001 ")
    assert payment.holder == HOLDER and holder_balance(operator=operator_a, holder=HOLDER) == 0


def test_an_overpayment_becomes_credit_that_pays_the_next_bill(operator_a):
    bill(operator_a, "500", datetime.date(2026, 9, 30), "bill:sep")
    pay(operator_a, "800", "k1")
    assert holder_balance(operator=operator_a, holder=HOLDER) == 0
    assert holder_balance(operator=operator_a, holder=HOLDER, purpose="credit") == Decimal("300")
    november = bill(operator_a, "1000", datetime.date(2026, 11, 30), "bill:nov")  # the credit clears it at once
    assert credit_apply(operator=operator_a, holder=HOLDER, acting_user=None) == 0
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("700")
    assert holder_balance(operator=operator_a, holder=HOLDER, purpose="credit") == 0
    assert Allocation.objects.get(charge=november).from_credit


def test_an_unknown_reference_goes_to_suspense_and_is_assigned_later(operator_a, admin_a):
    bill(operator_a, "700", datetime.date(2026, 10, 31), "bill:1")
    payment = pay(operator_a, "700", "k1", reference="AAL-0O01")  # a letter O instead of a zero
    assert payment.status == Payment.Status.IN_SUSPENSE and payment.holder == ""
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("700")
    payment_assign(payment=payment, holder_reference=HOLDER, acting_user=admin_a)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED and payment.holder == HOLDER
    assert holder_balance(operator=operator_a, holder=HOLDER) == 0
    assert trial_balance(operator=operator_a) == 0 and ledger_verify() == []


def test_a_replay_returns_the_first_payment_and_another_body_is_a_conflict(operator_a):
    bill(operator_a, "700", datetime.date(2026, 10, 31), "bill:1")
    first = pay(operator_a, "700", "k1")
    assert pay(operator_a, "700", "k1").pk == first.pk
    with pytest.raises(DomainError) as conflict:
        pay(operator_a, "701", "k1")
    assert conflict.value.status == 409
    assert Payment.objects.count() == 1 and Transfer.objects.filter(reference=first.ledger_reference).count() == 1


def test_receipts_are_numbered_without_gaps_with_the_operator_prefix(operator_a):
    bill(operator_a, "100", datetime.date(2026, 10, 31), "bill:1")
    numbers = [pay(operator_a, "10", f"k{i}").receipt.number for i in range(3)]
    with pytest.raises(DomainError):
        pay(operator_a, "-1", "bad")
    numbers.append(pay(operator_a, "10", "k3").receipt.number)
    assert numbers == ["AAL-R-000001", "AAL-R-000002", "AAL-R-000003", "AAL-R-000004"]


def test_a_void_needs_a_reason_and_another_supervisor_and_reverses_everything(operator_a):
    cashier = member(Role.CASHIER, operator_a)
    treasurer = member(Role.TREASURER, operator_a)
    bill(operator_a, "1000", datetime.date(2026, 10, 31), "bill:1")
    payment = pay(operator_a, "1000", "k1", user=cashier)
    with pytest.raises(DomainError) as refusal:
        payment_void(
            payment=payment,
            reason="typo",
            approved_by=cashier,
            acting_user=cashier,
            approver_roles=frozenset({Role.CASHIER}),
        )
    assert refusal.value.code == "approval_required"
    with pytest.raises(DomainError):
        payment_void(
            payment=payment,
            reason=" ",
            approved_by=treasurer,
            acting_user=cashier,
            approver_roles=frozenset({Role.TREASURER}),
        )
    payment_void(
        payment=payment,
        reason="wrong account",
        approved_by=treasurer,
        acting_user=cashier,
        approver_roles=frozenset({Role.TREASURER}),
    )
    payment.refresh_from_db()
    assert payment.status == Payment.Status.VOIDED
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("1000")
    assert not Allocation.objects.filter(voided=False).exists()
    assert Receipt.objects.filter(payment=payment).exists()  # the receipt number stays used: no gap
    # the charge is open again and a new payment clears it
    pay(operator_a, "1000", "k2", user=cashier)
    assert holder_balance(operator=operator_a, holder=HOLDER) == 0


def test_only_todays_payments_can_be_voided(operator_a):
    treasurer = member(Role.TREASURER, operator_a)
    bill(operator_a, "100", datetime.date(2026, 10, 31), "bill:1")
    payment = pay(operator_a, "100", "k1")
    Payment.objects.filter(pk=payment.pk).update(received_at=timezone.now() - datetime.timedelta(days=1))
    payment.refresh_from_db()
    with pytest.raises(DomainError) as refusal:
        payment_void(
            payment=payment,
            reason="late",
            approved_by=treasurer,
            acting_user=None,
            approver_roles=frozenset({Role.TREASURER}),
        )
    assert refusal.value.code == "void_not_same_day"


@pytest.mark.parametrize(
    ("channel", "amount", "key", "reference", "code"),
    [
        ("cheque", "10", "k", HOLDER, "channel_unknown"),
        ("cash_office", "0", "k", HOLDER, "amount_invalid"),
        ("cash_office", "10", " ", HOLDER, "idempotency_key_required"),
        ("cash_office", "10", "k", "  ", "account_reference_required"),
    ],
)
def test_a_bad_payment_is_refused_with_a_reason_and_saves_nothing(operator_a, channel, amount, key, reference, code):
    with pytest.raises(DomainError) as refusal:
        payment_receive(
            operator=operator_a,
            channel=channel,
            amount=Decimal(amount),
            account_reference=reference,
            idempotency_key=key,
            received_by=None,
        )
    assert refusal.value.code == code
    assert not Payment.objects.exists() and not Transfer.objects.exists()


def test_a_payment_whose_credit_already_paid_other_charges_cannot_be_voided(operator_a):
    # found by the money property test: voiding it would leave the customer's credit negative
    treasurer = member(Role.TREASURER, operator_a)
    bill(operator_a, "500", datetime.date(2026, 9, 30), "bill:sep")
    overpaid = pay(operator_a, "800", "k1")
    bill(operator_a, "1000", datetime.date(2026, 11, 30), "bill:nov")
    credit_apply(operator=operator_a, holder=HOLDER, acting_user=None)
    with pytest.raises(DomainError) as refusal:
        payment_void(
            payment=overpaid,
            reason="typo",
            approved_by=treasurer,
            acting_user=None,
            approver_roles=frozenset({Role.TREASURER}),
        )
    assert refusal.value.code == "credit_already_used"
    assert holder_balance(operator=operator_a, holder=HOLDER, purpose="credit") == 0
    assert ledger_verify() == []
