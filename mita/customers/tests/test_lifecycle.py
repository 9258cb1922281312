"""A connection's life: status changes (allowed ones only, history append-only), ownership change (arrears policy,
contract history), meter transfer (the arrears move exactly), package now or from the next billing period."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from mita.core.audit import audit_for
from mita.core.errors import DomainError
from mita.customers.lifecycle import (
    connection_status_change,
    connection_transfer,
    meter_transfer,
    next_period_start,
    package_set,
    pending_packages_apply,
)
from mita.customers.models import Connection, ConnectionHolding, ConnectionStatusChange, Customer
from mita.customers.search import matches
from mita.customers.services import customer_status_change
from mita.customers.tests.world import clerk_of, connection_of, customer_of
from mita.ledger.models import Charge, Transfer
from mita.ledger.selectors import holder_balance, holder_credit, ledger_verify, trial_balance
from mita.ledger.services import charge_post
from mita.payments.selectors import charges_open
from mita.payments.services import payment_receive
from mita.testing.factories import OperatorFactory

pytestmark = pytest.mark.django_db
S = Connection.Status


def active_connection(operator, customer, number="AAL-0001", **fields):
    connection = connection_of(operator, customer, number, **fields)
    return connection_status_change(connection=connection, status=S.ACTIVE, reason="meter installed", acting_user=None)


def bill(operator, holder, amount, reference, due=datetime.date(2026, 10, 31)):
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


def pay(operator, holder, amount):
    return payment_receive(
        operator=operator,
        channel="cash_office",
        amount=Decimal(amount),
        account_reference=holder,
        idempotency_key=str(uuid.uuid4()),
        received_by=None,
    )


def code_of(call, **kwargs):
    with pytest.raises(DomainError) as error:
        call(**kwargs)
    return error.value.code


# Status -----------------------------------------------------------------------------------------------------


def test_allowed_status_changes_are_kept_in_the_history_with_who_and_why(operator_a):
    clerk = clerk_of(operator_a)
    connection = connection_of(operator_a, customer_of(operator_a))
    for status, reason in (
        (S.ACTIVE, "installed"),
        (S.DISCONNECTED, "unpaid"),
        (S.ACTIVE, "paid"),
        (S.TERMINATED, "left"),
    ):
        connection = connection_status_change(connection=connection, status=status, reason=reason, acting_user=clerk)
    connection.refresh_from_db()
    assert connection.status == S.TERMINATED
    history = list(ConnectionStatusChange.objects.filter(connection=connection).order_by("pk"))
    assert [(c.from_status, c.to_status, c.reason, c.changed_by) for c in history] == [
        ("pending", "active", "installed", clerk),
        ("active", "disconnected", "unpaid", clerk),
        ("disconnected", "active", "paid", clerk),
        ("active", "terminated", "left", clerk),
    ]
    assert [e.action for e in audit_for(connection)][:4] == ["connection.status_changed"] * 4
    # terminating ends the holder's contract
    assert ConnectionHolding.objects.get(connection=connection).ends_on == timezone.localdate()


@pytest.mark.parametrize(
    ("path", "refused", "allowed_text"),
    [
        ([], S.DISCONNECTED, "active, terminated"),
        ([S.ACTIVE], S.PENDING, "disconnected, terminated"),
        ([S.ACTIVE, S.DISCONNECTED], S.PENDING, "active, terminated"),
        ([S.TERMINATED], S.ACTIVE, "terminated"),
        ([S.ACTIVE], S.ACTIVE, "disconnected, terminated"),
    ],
)
def test_other_changes_are_refused_naming_what_is_allowed(operator_a, path, refused, allowed_text):
    connection = connection_of(operator_a, customer_of(operator_a))
    for status in path:
        connection = connection_status_change(connection=connection, status=status, reason="x", acting_user=None)
    with pytest.raises(DomainError) as error:
        connection_status_change(connection=connection, status=refused, reason="try", acting_user=None)
    assert error.value.code == "transition_not_allowed"
    assert allowed_text in str(error.value.message)
    connection.refresh_from_db()
    assert connection.status == (path[-1] if path else S.PENDING)
    assert ConnectionStatusChange.objects.filter(connection=connection).count() == len(path)


def test_a_status_change_needs_a_known_status_and_a_reason(operator_a):
    connection = connection_of(operator_a, customer_of(operator_a))
    assert code_of(connection_status_change, connection=connection, status="gone", reason="x", acting_user=None) == (
        "status_invalid"
    )
    assert code_of(connection_status_change, connection=connection, status=S.ACTIVE, reason=" ", acting_user=None) == (
        "reason_required"
    )
    connection.refresh_from_db()
    assert connection.status == S.PENDING


def test_the_connection_status_history_is_append_only_in_the_database(operator_a):
    connection = active_connection(operator_a, customer_of(operator_a))
    change = ConnectionStatusChange.objects.get(connection=connection)
    with pytest.raises(DatabaseError), transaction.atomic():
        ConnectionStatusChange.objects.filter(pk=change.pk).update(reason="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        ConnectionStatusChange.objects.filter(pk=change.pk).delete()


# Ownership change ------------------------------------------------------------------------------------------------


def test_ownership_change_closes_the_contract_and_opens_the_new_owners(operator_a):
    seller = customer_of(operator_a)
    buyer = customer_of(operator_a, name="Eric Habimana", phone="+250788000222")
    connection = active_connection(operator_a, seller, starts_on=datetime.date(2025, 1, 1))
    day = timezone.localdate()
    connection = connection_transfer(connection=connection, to_customer=buyer, acting_user=None, on_date=day)
    connection.refresh_from_db()
    assert connection.customer == buyer and connection.number == "AAL-0001" and connection.status == S.ACTIVE
    holdings = list(ConnectionHolding.objects.filter(connection=connection).order_by("starts_on", "pk"))
    assert [(h.customer, h.starts_on, h.ends_on) for h in holdings] == [
        (seller, datetime.date(2025, 1, 1), day),
        (buyer, day, None),
    ]
    assert audit_for(connection).first().action == "connection.owner_changed"
    # the search finds the connection under its new holder
    found = matches(operator=operator_a, query="AAL-0001")
    assert {match.customer_id for match in found} == {buyer.pk}


def test_ownership_change_is_refused_while_the_account_owes_unless_the_new_owner_takes_the_arrears_on(operator_a):
    seller = customer_of(operator_a)
    buyer = customer_of(operator_a, name="Eric Habimana", phone="+250788000222")
    connection = active_connection(operator_a, seller, starts_on=datetime.date(2025, 1, 1))
    bill(operator_a, connection.number, "4500", "bill:1")
    day = timezone.localdate()
    with pytest.raises(DomainError) as error:
        connection_transfer(connection=connection, to_customer=buyer, acting_user=None, on_date=day)
    assert error.value.code == "arrears_outstanding" and "owes 4500 RWF" in str(error.value.message)
    connection.refresh_from_db()
    assert connection.customer == seller and ConnectionHolding.objects.filter(connection=connection).count() == 1

    connection_transfer(
        connection=connection, to_customer=buyer, acting_user=None, on_date=day, arrears_acknowledged=True
    )
    connection.refresh_from_db()
    assert connection.customer == buyer
    assert holder_balance(operator=operator_a, holder=connection.number) == Decimal("4500")  # the account kept them
    assert audit_for(connection).first().detail["arrears_taken_on"] == "4500"


def test_ownership_change_refuses_bad_owners_and_dates(operator_a, operator_b):
    seller = customer_of(operator_a)
    connection = active_connection(operator_a, seller, starts_on=datetime.date(2025, 6, 1))
    inactive = customer_of(operator_a, name="Idle", phone="+250788000333")
    customer_status_change(customer=inactive, status=Customer.Status.INACTIVE, reason="moved", acting_user=None)
    foreign = customer_of(operator_b, name="Other", phone="+250788000444")
    buyer = customer_of(operator_a, name="Buyer", phone="+250788000555")
    today = timezone.localdate()
    cases = [
        (seller, today, "same_customer"),
        (inactive, today, "customer_not_active"),
        (foreign, today, "customer_invalid"),
        (buyer, today + datetime.timedelta(days=1), "date_in_future"),
        (buyer, datetime.date(2025, 5, 31), "date_before_contract"),
    ]
    for customer, day, code in cases:
        assert (
            code_of(connection_transfer, connection=connection, to_customer=customer, acting_user=None, on_date=day)
            == code
        )
    connection.refresh_from_db()
    assert connection.customer == seller
    terminated = connection_status_change(connection=connection, status=S.TERMINATED, reason="x", acting_user=None)
    assert (
        code_of(connection_transfer, connection=terminated, to_customer=buyer, acting_user=None, on_date=today)
        == "connection_terminated"
    )


# Meter transfer ---------------------------------------------------------------------------------------------------


def test_meter_transfer_moves_exactly_the_arrears():
    # an operator whose currency has cents, so that "exactly" means to the cent
    operator = OperatorFactory(country_code="KE", currency="KES", prefix="KEN")
    old_owner = customer_of(operator)
    new_owner = customer_of(operator, name="Eric Habimana", phone="+250788000222")
    old = active_connection(operator, old_owner, "KEN-0001")
    new = connection_of(operator, new_owner, "KEN-0002")  # pending: the meter will give it its service
    bill(operator, old.number, "1234.56", "bill:1", datetime.date(2026, 8, 31))
    bill(operator, old.number, "789.01", "bill:2", datetime.date(2026, 9, 30))
    pay(operator, old.number, "1000.00")
    bill(operator, new.number, "50.05", "bill:new")
    old_before = holder_balance(operator=operator, holder=old.number)
    new_before = holder_balance(operator=operator, holder=new.number)
    assert (old_before, new_before) == (Decimal("1023.57"), Decimal("50.05"))

    result = meter_transfer(from_connection=old, to_connection=new, acting_user=None, reason="house sold")

    assert result.arrears_moved == old_before
    assert holder_balance(operator=operator, holder=old.number) == Decimal("0.00")
    assert holder_balance(operator=operator, holder=new.number) == Decimal("1073.62")
    assert result.charge.head == "arrears_transferred" and result.charge.due_date == datetime.date(2026, 8, 31)
    assert charges_open(operator=operator, holder=old.number) == []
    assert ledger_verify(operator=operator) == [] and trial_balance(operator=operator) == 0
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, new.status) == (S.TERMINATED, S.ACTIVE)
    entry = next(e for e in audit_for(old) if e.action == "connection.meter_transferred")
    assert (entry.detail["arrears_moved"], entry.detail["to_number"]) == ("1023.57", "KEN-0002")

    # a replay (the engine running the transition again) posts nothing and changes nothing
    transfers, charges = Transfer.objects.count(), Charge.objects.count()
    again = meter_transfer(from_connection=old, to_connection=new, acting_user=None, reason="house sold")
    assert (Transfer.objects.count(), Charge.objects.count()) == (transfers, charges)
    assert again.arrears_moved == old_before and again.charge == result.charge
    assert holder_balance(operator=operator, holder=new.number) == Decimal("1073.62")
    assert ConnectionStatusChange.objects.filter(connection=old).count() == 2  # activated, terminated: no more


def test_meter_transfer_leaves_the_old_accounts_credit_and_can_keep_the_old_connection(operator_a):
    old = active_connection(operator_a, customer_of(operator_a))
    new = active_connection(operator_a, customer_of(operator_a, name="B", phone="+250788000222"), "AAL-0002")
    bill(operator_a, old.number, "1000", "bill:1")
    pay(operator_a, old.number, "1300")  # 300 credit, nothing owed
    result = meter_transfer(
        from_connection=old, to_connection=new, acting_user=None, reason="meter swap", terminate_from=False
    )
    assert result.charge is None and result.arrears_moved == 0
    assert holder_credit(operator=operator_a, holder=old.number) == Decimal("300")
    old.refresh_from_db()
    assert old.status == S.ACTIVE


def test_meter_transfer_refusals_move_nothing(operator_a):
    first = customer_of(operator_a)
    second = customer_of(operator_a, name="B", phone="+250788000222")
    old = active_connection(operator_a, first)
    bill(operator_a, old.number, "700", "bill:1")
    power = connection_of(operator_a, second, "AAL-0002", utility=Connection.Utility.ELECTRICITY)
    cut = active_connection(operator_a, second, "AAL-0003")
    cut = connection_status_change(connection=cut, status=S.DISCONNECTED, reason="unpaid", acting_user=None)
    gone = connection_of(operator_a, second, "AAL-0004")
    gone = connection_status_change(connection=gone, status=S.TERMINATED, reason="x", acting_user=None)
    for target, code in (
        (old, "same_connection"),
        (power, "utility_mismatch"),
        (cut, "target_disconnected"),
        (gone, "connection_terminated"),
    ):
        assert code_of(meter_transfer, from_connection=old, to_connection=target, acting_user=None, reason="r") == code
    assert code_of(meter_transfer, from_connection=old, to_connection=cut, acting_user=None, reason=" ") == (
        "reason_required"
    )
    assert holder_balance(operator=operator_a, holder=old.number) == Decimal("700")
    old.refresh_from_db()
    assert old.status == S.ACTIVE


# Package ------------------------------------------------------------------------------------------------------


def test_package_now_or_from_the_next_billing_period(operator_a):
    connection = active_connection(operator_a, customer_of(operator_a))
    today = timezone.localdate()
    connection = package_set(connection=connection, package="DOMESTIC-1", effective="now", acting_user=None)
    assert (connection.package, connection.pending_package) == ("DOMESTIC-1", "")

    connection = package_set(connection=connection, package="DOMESTIC-2", effective="next_period", acting_user=None)
    connection.refresh_from_db()
    starts = next_period_start(today)
    assert (connection.package, connection.pending_package, connection.pending_package_from) == (
        "DOMESTIC-1",
        "DOMESTIC-2",
        starts,
    )
    assert starts.day == 1 and starts > today
    assert pending_packages_apply(operator_a, starts - datetime.timedelta(days=1)) == 0
    assert pending_packages_apply(operator_a, starts) == 1
    connection.refresh_from_db()
    assert (connection.package, connection.pending_package, connection.pending_package_from) == ("DOMESTIC-2", "", None)
    assert pending_packages_apply(operator_a, starts) == 0  # applied once


def test_asking_for_the_current_package_cancels_a_waiting_change_and_bad_requests_are_refused(operator_a):
    connection = active_connection(operator_a, customer_of(operator_a))
    package_set(connection=connection, package="A", effective="now", acting_user=None)
    later = timezone.localdate() + datetime.timedelta(days=10)
    package_set(connection=connection, package="B", effective=later, acting_user=None)
    connection = package_set(connection=connection, package="A", effective="now", acting_user=None)
    assert (connection.package, connection.pending_package, connection.pending_package_from) == ("A", "", None)
    assert code_of(package_set, connection=connection, package="A", effective="now", acting_user=None) == (
        "package_unchanged"
    )
    assert code_of(package_set, connection=connection, package="has space", effective="now", acting_user=None) == (
        "package_invalid"
    )
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    assert code_of(package_set, connection=connection, package="B", effective=yesterday, acting_user=None) == (
        "effective_in_past"
    )
    assert code_of(package_set, connection=connection, package="B", effective="soon", acting_user=None) == (
        "effective_invalid"
    )


def test_terminating_drops_a_waiting_package_change(operator_a):
    connection = active_connection(operator_a, customer_of(operator_a))
    package_set(connection=connection, package="B", effective="next_period", acting_user=None)
    connection_status_change(connection=connection, status=S.TERMINATED, reason="left", acting_user=None)
    connection.refresh_from_db()
    assert (connection.pending_package, connection.pending_package_from) == ("", None)
    assert pending_packages_apply(operator_a, next_period_start(timezone.localdate())) == 0


def test_next_period_start_is_the_first_of_next_month():
    assert next_period_start(datetime.date(2026, 12, 31)) == datetime.date(2027, 1, 1)
    assert next_period_start(datetime.date(2028, 2, 1)) == datetime.date(2028, 3, 1)
    assert next_period_start(datetime.date(2026, 1, 15)) == datetime.date(2026, 2, 1)


def test_the_hourly_task_applies_the_changes_due_at_every_operator(operator_a, operator_b):
    from mita.core.schedule import periodic_tasks
    from mita.customers.lifecycle import packages_due_apply

    a = active_connection(operator_a, customer_of(operator_a))
    b = active_connection(operator_b, customer_of(operator_b, phone="+250788000999"), "BWC-0001")
    for connection in (a, b):
        package_set(connection=connection, package="NEXT", effective="next_period", acting_user=None)
    # the period has come for A's connection only
    Connection.objects.filter(pk=a.pk).update(pending_package_from=timezone.localdate())
    assert "customers.packages_due" in {periodic.name for periodic in periodic_tasks()}
    result = packages_due_apply.enqueue()
    assert result.return_value == {str(operator_a.pk): 1}
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.package, a.pending_package) == ("NEXT", "")
    assert (b.package, b.pending_package) == ("", "NEXT")


def test_a_meter_never_moves_to_another_operators_connection(operator_a, operator_b):
    old = active_connection(operator_a, customer_of(operator_a))
    bill(operator_a, old.number, "900", "bill:1")
    foreign = connection_of(operator_b, customer_of(operator_b, phone="+250788000999"), "BWC-0001")
    assert code_of(meter_transfer, from_connection=old, to_connection=foreign, acting_user=None, reason="r") == (
        "connection_invalid"
    )
    assert holder_balance(operator=operator_a, holder=old.number) == Decimal("900")
    assert holder_balance(operator=operator_b, holder=foreign.number) == 0
