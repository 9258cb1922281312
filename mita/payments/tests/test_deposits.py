"""Security deposits: the schedule, charging, holding once paid (never revenue, no VAT), adjusting on a package
change, and applying to the final bill on termination."""

import uuid
from decimal import Decimal

import pytest

from mita.accounts.roles import Role
from mita.core.errors import Conflict, DomainError
from mita.ledger.models import Account, Charge, Transfer
from mita.ledger.selectors import holder_balance, ledger_verify, trial_balance
from mita.payments.deposits import (
    deposit_adjust,
    deposit_apply_to_final_bill,
    deposit_charge,
    deposit_level,
    deposit_rate_save,
)
from mita.payments.models import ChargeCancellation, HolderDeposit, Payment
from mita.payments.refunds import refund_approve, refund_pay_out
from mita.payments.selectors import charges_open
from mita.payments.services import payment_void
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


def revenue_and_vat(operator):
    """What the operator has earned and owes the tax office, over all revenue heads and VAT payable."""
    codes = Account.objects.filter(
        operator=operator, category__in=[Account.Category.REVENUE, Account.Category.VAT_PAYABLE]
    ).values_list("code", flat=True)
    return sum((ledger_amount(operator, code) for code in codes), Decimal("0"))


# The schedule ----------------------------------------------------------------------------------------------


def test_the_schedule_keeps_one_deposit_per_connection_type_or_package(operator_a, admin_a):
    rate = deposit_rate_save(
        operator=operator_a, key="domestic", label="Domestic", amount=Decimal("5000"), acting_user=admin_a
    )
    with pytest.raises(Conflict) as taken:
        deposit_rate_save(operator=operator_a, key="DOMESTIC", label="again", amount=Decimal("1"), acting_user=admin_a)
    assert taken.value.code == "key_taken"
    with pytest.raises(DomainError) as negative:
        deposit_rate_save(operator=operator_a, key="kiosk", label="Kiosk", amount=Decimal("-1"), acting_user=admin_a)
    assert negative.value.fields["amount"]
    changed = deposit_rate_save(
        operator=operator_a,
        key="domestic",
        label="Domestic tap",
        amount=Decimal("6000"),
        acting_user=admin_a,
        rate=rate,
    )
    assert (changed.pk, changed.label, changed.amount) == (rate.pk, "Domestic tap", Decimal("6000"))


def test_a_deposit_charged_by_the_schedule_is_owed_then_held_once_paid_and_is_never_revenue(operator_a, admin_a):
    # given a schedule line for domestic connections (the operator charges 18% VAT on water)
    deposit_rate_save(
        operator=operator_a, key="domestic", label="Domestic", amount=Decimal("5000"), acting_user=admin_a
    )
    # when a new domestic connection is charged its deposit
    charge = deposit_charge(
        operator=operator_a, holder=HOLDER, key="domestic", reference="dep:1", due_date=DUE, acting_user=admin_a
    )
    # then the account owes 5,000 with no VAT, nothing is held yet, and nothing is earned
    assert (charge.head, charge.net, charge.vat, charge.total) == ("deposit", Decimal("5000"), 0, Decimal("5000"))
    assert balances(operator_a) == money(5000, 0, 0)
    assert revenue_and_vat(operator_a) == 0
    assert HolderDeposit.objects.get(holder=HOLDER).key == "domestic"
    # when 3,000 is paid, then 2,000
    pay(operator_a, "3000")
    assert balances(operator_a) == money(2000, 0, 3000)
    pay(operator_a, "2000")
    # then the whole deposit is held for the customer, still nothing earned, and the ledger balances
    assert balances(operator_a) == money(0, 0, 5000)
    assert revenue_and_vat(operator_a) == 0
    assert ledger_amount(operator_a, "deposits_billed") == 0
    assert trial_balance(operator=operator_a) == 0 and ledger_verify(operator=operator_a) == []


def test_credit_the_account_already_has_pays_a_new_deposit(operator_a):
    bill(operator_a, "1000")
    pay(operator_a, "4000")  # 3,000 credit
    deposit(operator_a, "5000")
    assert balances(operator_a) == money(2000, 0, 3000)
    assert deposit_level(operator=operator_a, holder=HOLDER).level == Decimal("5000")


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"key": "nope"}, "deposit_key_unknown"),
        ({"key": "domestic", "amount": Decimal("10")}, "key_or_amount"),
        ({}, "key_or_amount"),
        ({"amount": Decimal("0")}, "nothing_to_charge"),
        ({"amount": Decimal("10.5")}, "amount_invalid"),
        ({"amount": Decimal("10"), "reference": " "}, "reference_required"),
    ],
)
def test_a_bad_deposit_charge_is_refused_and_saves_nothing(operator_a, admin_a, fields, code):
    deposit_rate_save(
        operator=operator_a, key="domestic", label="Domestic", amount=Decimal("5000"), acting_user=admin_a
    )
    arguments = {"reference": "dep:1"} | fields
    with pytest.raises(DomainError) as refused:
        deposit_charge(operator=operator_a, holder=HOLDER, due_date=DUE, acting_user=admin_a, **arguments)
    assert refused.value.code == code
    assert not Charge.objects.filter(head="deposit").exists()


def test_the_same_deposit_key_twice_charges_once_and_another_body_is_a_conflict(operator_a):
    key = str(uuid.uuid4())
    first = deposit_charge(
        operator=operator_a,
        holder=HOLDER,
        amount=Decimal("5000"),
        reference="dep:1",
        due_date=DUE,
        acting_user=None,
        idempotency_key=key,
    )
    again = deposit_charge(
        operator=operator_a,
        holder=HOLDER,
        amount=Decimal("5000"),
        reference="dep:1",
        due_date=DUE,
        acting_user=None,
        idempotency_key=key,
    )
    assert again.pk == first.pk and Charge.objects.count() == 1
    with pytest.raises(Conflict):
        deposit_charge(
            operator=operator_a,
            holder=HOLDER,
            amount=Decimal("6000"),
            reference="dep:1",
            due_date=DUE,
            acting_user=None,
            idempotency_key=key,
        )
    assert balances(operator_a) == money(5000, 0, 0)


# Package changes -------------------------------------------------------------------------------------------


def test_a_bigger_package_tops_the_deposit_up_by_the_difference(operator_a, admin_a):
    deposit(operator_a, "5000")
    pay(operator_a, "5000")
    deposit_rate_save(operator=operator_a, key="PKG-100", label="100 W", amount=Decimal("8000"), acting_user=admin_a)
    change = deposit_adjust(operator=operator_a, holder=HOLDER, key="PKG-100", reference="pkg:2", acting_user=admin_a)
    assert (change.before, change.after, change.charged.total, change.released) == money(5000, 8000, 3000, 0)
    assert balances(operator_a) == money(3000, 0, 5000)
    pay(operator_a, "3000")
    assert balances(operator_a) == money(0, 0, 8000)
    assert HolderDeposit.objects.get(holder=HOLDER).key == "PKG-100"


def test_a_smaller_package_gives_the_difference_as_credit_which_pays_open_charges_first(operator_a, admin_a):
    # given a 5,000 deposit held and a 500 bill open
    deposit(operator_a, "5000")
    pay(operator_a, "5000")
    bill(operator_a, "500", reference="bill:oct")
    # when the package changes to one with a 2,000 deposit
    change = deposit_adjust(
        operator=operator_a, holder=HOLDER, amount=Decimal("2000"), reference="pkg:2", acting_user=admin_a
    )
    # then 3,000 leaves the deposit for the credit, which pays the bill; 2,500 credit is left to refund
    assert change.released == Decimal("3000") and change.charged is None
    assert balances(operator_a) == money(0, 2500, 2000)
    assert charges_open(operator=operator_a, holder=HOLDER) == []
    assert trial_balance(operator=operator_a) == 0 and ledger_verify(operator=operator_a) == []


def test_the_same_level_again_changes_nothing(operator_a, admin_a):
    deposit(operator_a, "5000")
    pay(operator_a, "5000")
    deposit_adjust(operator=operator_a, holder=HOLDER, amount=Decimal("2000"), reference="pkg:2", acting_user=admin_a)
    again = deposit_adjust(
        operator=operator_a, holder=HOLDER, amount=Decimal("2000"), reference="pkg:2", acting_user=admin_a
    )
    assert again.before == again.after == Decimal("2000") and again.charged is None and again.released == 0
    assert balances(operator_a) == money(0, 3000, 2000)


def test_lowering_a_deposit_not_yet_paid_cancels_its_charge_and_charges_the_new_level(operator_a, admin_a):
    # given a 5,000 deposit of which 1,000 is paid
    first = deposit(operator_a, "5000")
    pay(operator_a, "1000")
    # when the deposit is lowered to 3,000 (more than is held could be given back)
    change = deposit_adjust(
        operator=operator_a, holder=HOLDER, amount=Decimal("3000"), reference="pkg:2", acting_user=admin_a
    )
    # then the old charge is cancelled, 3,000 is charged, and the 1,000 paid pays the new charge
    assert change.cancelled == [first]
    assert ChargeCancellation.objects.get().charge == first
    assert change.charged.total == Decimal("3000")
    assert balances(operator_a) == money(2000, 0, 1000)
    assert deposit_level(operator=operator_a, holder=HOLDER).level == Decimal("3000")
    assert trial_balance(operator=operator_a) == 0 and ledger_verify(operator=operator_a) == []


# Termination -----------------------------------------------------------------------------------------------


def test_final_bill_then_deposit_then_refund_of_the_rest_leaves_nothing_owed_credited_or_held(
    operator_a, cashier_a, treasurer_a, admin_a
):
    # given a 5,000 deposit paid at connection, and a final bill of 1,200 at termination
    deposit(operator_a, "5000")
    pay(operator_a, "5000")
    bill(operator_a, "1200", reference="bill:final")
    assert balances(operator_a) == money(1200, 0, 5000)
    # when the deposit is applied to the final bill
    application = deposit_apply_to_final_bill(operator=operator_a, holder=HOLDER, acting_user=treasurer_a)
    # then the bill is paid and 3,800 is left as credit
    assert (application.held, application.applied, application.credit_left) == money(5000, 1200, 3800)
    assert balances(operator_a) == money(0, 3800, 0)
    assert HolderDeposit.objects.get(holder=HOLDER).applied_at is not None
    # when the remainder is refunded: requested by the cashier, approved by the treasurer, paid out
    refund = request_refund(operator_a, cashier_a, "3800")
    refund = refund_approve(refund=refund, acting_user=treasurer_a)
    refund_pay_out(refund=refund, payout_reference="", acting_user=admin_a)
    # then the account owes nothing, has no credit and no deposit
    assert balances(operator_a) == money(0, 0, 0)
    assert ledger_amount(operator_a, "refunds_payable") == 0
    assert ledger_amount(operator_a, "clearing:cash_office") == Decimal("1200")
    assert trial_balance(operator=operator_a) == 0 and ledger_verify(operator=operator_a) == []


def test_a_final_bill_bigger_than_the_deposit_stays_owed_for_the_rest(operator_a, admin_a):
    deposit(operator_a, "1000")
    pay(operator_a, "1000")
    bill(operator_a, "1500", reference="bill:final")
    application = deposit_apply_to_final_bill(operator=operator_a, holder=HOLDER, acting_user=admin_a)
    assert (application.applied, application.credit_left) == money(1000, 0)
    assert balances(operator_a) == money(500, 0, 0)


def test_applying_cancels_a_deposit_never_paid_and_applying_again_changes_nothing(operator_a, admin_a):
    unpaid = deposit(operator_a, "5000")
    bill(operator_a, "700", reference="bill:final")
    application = deposit_apply_to_final_bill(operator=operator_a, holder=HOLDER, acting_user=admin_a)
    assert application.cancelled == [unpaid] and application.held == 0
    assert balances(operator_a) == money(700, 0, 0)
    again = deposit_apply_to_final_bill(operator=operator_a, holder=HOLDER, acting_user=admin_a)
    assert (again.held, again.applied, again.cancelled) == (0, 0, [])
    assert balances(operator_a) == money(700, 0, 0)


def test_the_deposit_is_not_applied_while_a_refund_of_it_waits(operator_a, cashier_a, admin_a):
    deposit(operator_a, "5000")
    pay(operator_a, "5000")
    request_refund(operator_a, cashier_a, "1000", source="deposit")
    with pytest.raises(Conflict) as refused:
        deposit_apply_to_final_bill(operator=operator_a, holder=HOLDER, acting_user=admin_a)
    assert refused.value.code == "refund_pending"
    assert balances(operator_a) == money(0, 0, 4000)


# Voids of payments that paid a deposit -------------------------------------------------------------------


def test_voiding_the_payment_of_a_held_deposit_makes_it_owed_again(operator_a, cashier_a, treasurer_a):
    deposit(operator_a, "5000")
    payment = pay(operator_a, "5000", user=cashier_a)
    payment_void(
        payment=payment,
        reason="wrong account",
        approved_by=treasurer_a,
        acting_user=cashier_a,
        approver_roles=frozenset({"treasurer"}),
    )
    assert balances(operator_a) == money(5000, 0, 0)
    assert ledger_amount(operator_a, "deposits_billed") == Decimal("5000")


def test_the_payment_of_a_deposit_already_applied_cannot_be_voided(operator_a, cashier_a, treasurer_a):
    deposit(operator_a, "5000")
    payment = pay(operator_a, "5000", user=cashier_a)
    deposit_apply_to_final_bill(operator=operator_a, holder=HOLDER, acting_user=treasurer_a)
    with pytest.raises(Conflict) as refused:
        payment_void(
            payment=payment,
            reason="oops",
            approved_by=treasurer_a,
            acting_user=cashier_a,
            approver_roles=frozenset({"treasurer"}),
        )
    assert refused.value.code == "deposit_already_used"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED
    assert balances(operator_a) == money(0, 5000, 0)
    assert Transfer.objects.filter(kind=Transfer.Kind.REVERSAL).count() == 0
    assert holder_balance(operator=operator_a, holder=HOLDER, purpose="deposits") == 0
