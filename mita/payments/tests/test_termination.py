"""The money of the service requests: termination (final bill, deposit applied, refund of the rest, terminated),
reconnection fee (charged, paid, then active), the deposit change of a package change."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from mita.accounts.roles import Role
from mita.core.errors import DomainError, PermissionDenied
from mita.customers.lifecycle import connection_status_change
from mita.customers.models import Connection, ConnectionHolding
from mita.customers.tests.world import connection_of, customer_of
from mita.ledger.models import Charge, Transfer
from mita.ledger.selectors import charge_outstanding, holder_balance, holder_credit, ledger_verify, trial_balance
from mita.ledger.services import charge_post
from mita.payments.deposits import deposit_charge, deposit_level, deposit_rate_save
from mita.payments.models import Refund
from mita.payments.refunds import refund_approve, refund_pay_out
from mita.payments.services import payment_receive
from mita.payments.termination import (
    package_change_money,
    reconnect_if_paid,
    reconnection_fee_charge,
    termination_settle,
)
from mita.payments.tests.deposit_world import ledger_amount
from mita.testing.factories import member

pytestmark = pytest.mark.django_db
S = Connection.Status


@pytest.fixture
def cashier_a(operator_a):
    return member(Role.CASHIER, operator_a, name="Carla Cashier")


@pytest.fixture
def treasurer_a(operator_a):
    return member(Role.TREASURER, operator_a, name="Tom Treasurer")


@pytest.fixture
def connection(operator_a):
    connection = connection_of(operator_a, customer_of(operator_a), starts_on=datetime.date(2025, 1, 1))
    return connection_status_change(connection=connection, status=S.ACTIVE, reason="installed", acting_user=None)


def bill(operator, holder, amount, reference="bill:1"):
    return charge_post(
        operator=operator,
        holder=holder,
        head="water_sales",
        amount=Decimal(amount),
        vat_rule="exempt",
        reference=reference,
        due_date=datetime.date(2026, 10, 31),
        acting_user=None,
    )


def pay(operator, holder, amount):
    return payment_receive(
        operator=operator,
        channel="cash_office",
        amount=Decimal(amount),
        account_reference=holder,
        idempotency_key=str(uuid.uuid4()),
        received_by=None,
    )


def position(operator, holder):
    """(owes, deposit held, credit) of a customer account."""
    return (
        holder_balance(operator=operator, holder=holder),
        holder_balance(operator=operator, holder=holder, purpose="deposits"),
        holder_credit(operator=operator, holder=holder),
    )


def with_deposit(operator, holder, amount):
    deposit_charge(
        operator=operator,
        holder=holder,
        amount=Decimal(amount),
        reference=f"deposit:{holder}",
        due_date=datetime.date(2026, 1, 31),
        acting_user=None,
    )
    pay(operator, holder, amount)


# Termination ------------------------------------------------------------------------------------------------------


def test_termination_leaves_a_zero_balance_after_deposit_and_refund(operator_a, connection, cashier_a, treasurer_a):
    holder = connection.number
    with_deposit(operator_a, holder, "5000")
    bill(operator_a, holder, "2000")
    pay(operator_a, holder, "1200")
    assert position(operator_a, holder) == (Decimal("800"), Decimal("5000"), 0)

    # the billing officer's final bill: 1,500 before VAT at Rwanda's 18% = 1,770
    result = termination_settle(
        connection=connection,
        final_amount=Decimal("1500"),
        final_reading_note="Final reading 1234 m3 on 1 Dec",
        acting_user=cashier_a,
    )

    assert result.final_charge.head == "water_sales" and result.final_charge.total == Decimal("1770")
    assert (result.deposit.held, result.deposit.applied) == (Decimal("5000"), Decimal("2570"))
    refund = result.refund
    assert refund.amount == Decimal("2430") and refund.status == Refund.Status.REQUESTED
    assert (refund.source, refund.payee_name, refund.payee_phone) == ("credit", "Jeanne Uwase", "+250788123456")
    assert result.still_owed == 0
    connection.refresh_from_db()
    assert connection.status == S.TERMINATED
    assert ConnectionHolding.objects.get(connection=connection).ends_on == timezone.localdate()

    refund_approve(refund=refund, acting_user=treasurer_a)
    refund_pay_out(refund=refund, payout_reference="CASH-1", acting_user=treasurer_a)

    assert position(operator_a, holder) == (0, 0, 0)
    assert ledger_amount(operator_a, "refunds_payable") == 0
    assert ledger_verify(operator=operator_a) == [] and trial_balance(operator=operator_a) == 0


def test_what_the_deposit_does_not_cover_stays_owed_and_nothing_is_refunded(operator_a, connection, cashier_a):
    holder = connection.number
    with_deposit(operator_a, holder, "1000")
    bill(operator_a, holder, "3000")
    result = termination_settle(
        connection=connection,
        final_amount=Decimal("0"),
        final_reading_note="meter unchanged since the last bill",
        acting_user=cashier_a,
    )
    assert result.final_charge is None and result.refund is None
    assert result.still_owed == Decimal("2000")
    assert position(operator_a, holder) == (Decimal("2000"), 0, 0)
    connection.refresh_from_db()
    assert connection.status == S.TERMINATED


def test_an_electricity_final_bill_is_electricity_sales(operator_a, cashier_a):
    power = connection_of(operator_a, customer_of(operator_a), "AAL-E-1", utility=Connection.Utility.ELECTRICITY)
    result = termination_settle(
        connection=power, final_amount=Decimal("100"), final_reading_note="kWh 88", acting_user=cashier_a
    )
    assert result.final_charge.head == "electricity_sales"


def test_bad_termination_input_is_refused_and_saves_nothing(operator_a, connection, cashier_a):
    holder = connection.number
    with_deposit(operator_a, holder, "1000")
    billing = member(Role.BILLING_OFFICER, operator_a, name="Bill Officer")
    with pytest.raises(DomainError) as error:
        termination_settle(connection=connection, final_amount=Decimal("-1"), final_reading_note=" ", acting_user=None)
    assert error.value.code == "termination_invalid"
    assert set(error.value.fields) == {"final_amount", "final_reading_note"}
    # a user who may not request refunds: refused when the refund is asked, and all of it rolls back
    with pytest.raises(PermissionDenied):
        termination_settle(
            connection=connection, final_amount=Decimal("100"), final_reading_note="r 5", acting_user=billing
        )
    connection.refresh_from_db()
    assert connection.status == S.ACTIVE
    assert position(operator_a, holder) == (0, Decimal("1000"), 0)
    assert not Charge.objects.filter(reference=f"final-bill:{holder}").exists()
    termination_settle(
        connection=connection, final_amount=Decimal("100"), final_reading_note="r 5", acting_user=cashier_a
    )
    with pytest.raises(DomainError) as again:
        termination_settle(
            connection=connection, final_amount=Decimal("100"), final_reading_note="r 5", acting_user=cashier_a
        )
    assert again.value.code == "already_terminated"
    assert Charge.objects.filter(reference=f"final-bill:{holder}").count() == 1


# Reconnection -----------------------------------------------------------------------------------------------------


def test_reconnection_fee_charged_then_active_once_paid(operator_a, connection, cashier_a):
    holder = connection.number
    with pytest.raises(DomainError) as connected:
        reconnection_fee_charge(connection=connection, amount=Decimal("2000"), acting_user=None, key="R1")
    assert connected.value.code == "not_disconnected"
    connection = connection_status_change(
        connection=connection, status=S.DISCONNECTED, reason="unpaid", acting_user=None
    )
    charge = reconnection_fee_charge(connection=connection, amount=Decimal("2000"), acting_user=cashier_a, key="R1")
    assert (charge.head, charge.net, charge.total) == ("reconnection_fees", Decimal("2000"), Decimal("2360"))
    again = reconnection_fee_charge(connection=connection, amount=Decimal("2000"), acting_user=cashier_a, key="R1")
    assert again == charge and Charge.objects.filter(reference=charge.reference).count() == 1
    assert charge_outstanding(operator=operator_a, holder=holder, reference=charge.reference) == Decimal("2360")

    with pytest.raises(DomainError) as unpaid:
        reconnect_if_paid(connection=connection, key="R1", acting_user=cashier_a)
    assert unpaid.value.code == "fee_unpaid" and "2360" in str(unpaid.value.message)
    pay(operator_a, holder, "2000")
    with pytest.raises(DomainError):
        reconnect_if_paid(connection=connection, key="R1", acting_user=cashier_a)
    pay(operator_a, holder, "360")
    connection = reconnect_if_paid(connection=connection, key="R1", acting_user=cashier_a)
    assert connection.status == S.ACTIVE
    assert ledger_amount(operator_a, "revenue:reconnection_fees") == Decimal("2000")
    assert ledger_verify(operator=operator_a) == []


def test_reconnection_refusals(operator_a, connection):
    connection = connection_status_change(
        connection=connection, status=S.DISCONNECTED, reason="unpaid", acting_user=None
    )
    for amount, key, code in (
        (Decimal("0"), "R1", "amount_invalid"),
        (Decimal("10.5"), "R1", "amount_invalid"),
        (Decimal("10"), " ", "key_required"),
    ):
        with pytest.raises(DomainError) as error:
            reconnection_fee_charge(connection=connection, amount=amount, acting_user=None, key=key)
        assert error.value.code == code
    with pytest.raises(DomainError) as error:
        reconnect_if_paid(connection=connection, key="R9", acting_user=None)
    assert error.value.code == "fee_not_charged"
    assert not Transfer.objects.filter(reference__startswith="reconnection:").exists()


# Package change -----------------------------------------------------------------------------------------------------


def test_package_change_tops_up_or_releases_the_deposit(operator_a, connection, treasurer_a):
    holder = connection.number
    for key, amount in (("SMALL", "2000"), ("MEDIUM", "5000"), ("LARGE", "8000")):
        deposit_rate_save(operator=operator_a, key=key, label=key, amount=Decimal(amount), acting_user=treasurer_a)
    with_deposit(operator_a, holder, "5000")

    up = package_change_money(connection=connection, new_package="LARGE", acting_user=None, key="PC1")
    assert up.charged.total == Decimal("3000") and up.charged.head == "deposit"
    replay = package_change_money(connection=connection, new_package="LARGE", acting_user=None, key="PC1")
    assert replay.charged == up.charged and Charge.objects.filter(head="deposit").count() == 2
    pay(operator_a, holder, "3000")
    assert deposit_level(operator=operator_a, holder=holder).held == Decimal("8000")

    down = package_change_money(connection=connection, new_package="SMALL", acting_user=None, key="PC2")
    assert down.released == Decimal("6000")
    assert position(operator_a, holder) == (0, Decimal("2000"), Decimal("6000"))
    with pytest.raises(DomainError) as unknown:
        package_change_money(connection=connection, new_package="HUGE", acting_user=None, key="PC3")
    assert unknown.value.code == "deposit_key_unknown"
    assert ledger_verify(operator=operator_a) == []
