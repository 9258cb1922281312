"""Customer and connection services: numbering, contacts, status history, connection numbers, opening arrears."""

import datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, transaction

from mita.core.audit import audit_for
from mita.customers.models import Connection, ConnectionHolding, Customer, CustomerStatusChange
from mita.customers.services import (
    ConnectionNumberImmutable,
    ConnectionNumberTaken,
    CustomerError,
    connection_update,
    customer_status_change,
    customer_update,
)
from mita.customers.tests.world import clerk_of, connection_of, customer_of
from mita.ledger.selectors import charges_of, holder_balance, holder_known
from mita.registry.models import Cluster, ClusterAssignment, SupplySystem

pytestmark = pytest.mark.django_db


def test_customer_numbers_carry_the_operator_prefix_and_run_without_gaps_per_operator(operator_a, operator_b):
    # given customers registered at two operators, and one registration that fails half-way
    first = customer_of(operator_a)
    customer_of(operator_b, name="Bob B")
    with pytest.raises(CustomerError):
        customer_of(operator_a, name="Bad Phone", phone="12")
    second = customer_of(operator_a, name="Eric Habimana", phone="0788000222")
    # then A's numbers follow each other, the failed one took none, and B counts on its own
    assert [first.number, second.number] == ["AAL-C-000001", "AAL-C-000002"]
    assert Customer.objects.get(operator=operator_b).number == "BWC-C-000001"


def test_a_new_customer_has_an_e164_phone_an_active_status_in_its_history_and_an_audit_entry(operator_a, district_a):
    clerk = clerk_of(operator_a)
    customer = customer_of(
        operator_a, phone="0788 123 456", phone_2="0722000111", district=district_a, village="Nyamata"
    )
    assert (customer.phone, customer.phone_2) == ("+250788123456", "+250722000111")
    assert customer.status == Customer.Status.ACTIVE
    assert [(c.from_status, c.to_status) for c in customer.status_changes.all()] == [("", "active")]
    customer_update(customer=customer, acting_user=clerk, village="Ruhuha")
    assert [entry.action for entry in audit_for(customer)] == ["customer.updated", "customer.created"]


def test_bad_contact_data_is_refused_field_by_field_and_nothing_changes(operator_a):
    customer = customer_of(operator_a)
    with pytest.raises(CustomerError) as refused:
        customer_update(customer=customer, acting_user=None, phone="not a phone", email="nope", name=" ")
    assert set(refused.value.fields) == {"phone", "email", "name"}
    customer.refresh_from_db()
    assert (customer.name, customer.phone, customer.email) == ("Jeanne Uwase", "+250788123456", "")


def test_a_customer_number_cannot_be_changed(operator_a):
    customer = customer_of(operator_a)
    with pytest.raises(CustomerError) as refused:
        customer_update(customer=customer, acting_user=None, number="AAL-C-999999")
    assert refused.value.code == "number_not_editable"


def test_a_status_change_needs_a_reason_and_the_history_keeps_every_change(operator_a):
    clerk = clerk_of(operator_a)
    customer = customer_of(operator_a)
    with pytest.raises(CustomerError) as refused:
        customer_status_change(customer=customer, status="banned", reason="  ", acting_user=clerk)
    assert refused.value.fields == {"reason": ["Required."]}
    customer_status_change(customer=customer, status="banned", reason="Tampered with the meter", acting_user=clerk)
    customer_status_change(customer=customer, status="active", reason="Paid the fine", acting_user=clerk)
    customer.refresh_from_db()
    assert (customer.status, customer.status_reason) == ("active", "Paid the fine")
    history = list(customer.status_changes.order_by("pk").values_list("from_status", "to_status", "reason"))
    assert history[1:] == [("active", "banned", "Tampered with the meter"), ("banned", "active", "Paid the fine")]
    with pytest.raises(CustomerError) as same:
        customer_status_change(customer=customer, status="active", reason="again", acting_user=clerk)
    assert same.value.code == "status_unchanged"


def test_the_status_history_is_append_only_in_the_database(operator_a):
    customer = customer_of(operator_a)
    with pytest.raises(DatabaseError), transaction.atomic():
        CustomerStatusChange.objects.filter(customer=customer).update(reason="rewritten")


def test_a_connection_opens_its_receivable_and_its_contract_history(operator_a):
    customer = customer_of(operator_a)
    connection = connection_of(operator_a, customer, "AAL-0001", starts_on=datetime.date(2026, 3, 1))
    # then payments can find the account by its number, whatever its case
    assert holder_known(operator=operator_a, reference="aal-0001") == "AAL-0001"
    [holding] = ConnectionHolding.objects.filter(connection=connection)
    assert (holding.customer, holding.starts_on, holding.ends_on) == (customer, datetime.date(2026, 3, 1), None)
    assert connection.status == Connection.Status.PENDING
    assert [entry.action for entry in audit_for(connection)] == ["connection.created"]


@pytest.mark.parametrize("variant", ["AAL-0001", "aal-0001", "  Aal-0001 ", "AAL-0001\t"])
def test_a_second_connection_with_the_same_number_is_refused_whatever_the_case_name_or_phone(operator_a, variant):
    # given a connection AAL-0001 of Jeanne
    connection_of(operator_a, customer_of(operator_a))
    # when another customer, with another name and phone, asks for the same number written differently
    other = customer_of(operator_a, name="Eric Habimana", phone="+250722999888")
    with pytest.raises(ConnectionNumberTaken) as refused:
        connection_of(operator_a, other, variant)
    # then it is a conflict that names the number, and there is still one connection
    assert refused.value.status == 409 and refused.value.code == "connection_number_taken"
    assert refused.value.fields == {"number": ["Already in use."]}
    assert Connection.objects.filter(operator=operator_a).count() == 1


def test_the_database_refuses_a_second_number_differing_only_in_case(operator_a):
    customer = customer_of(operator_a)
    connection = connection_of(operator_a, customer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Connection.objects.create(
            operator=operator_a, number="aal-0001", customer=customer, utility="water", property_type="residential"
        )
    assert Connection.objects.get(operator=operator_a) == connection


def test_the_same_number_at_another_operator_is_another_connection(operator_a, operator_b):
    connection_of(operator_a, customer_of(operator_a), "SHARED-1")
    connection_of(operator_b, customer_of(operator_b), "SHARED-1")
    assert Connection.objects.filter(number="SHARED-1").count() == 2


def test_a_connection_number_with_spaces_inside_or_empty_is_refused(operator_a):
    customer = customer_of(operator_a)
    for bad in ("AAL 0001", "", "   "):
        with pytest.raises(CustomerError) as refused:
            connection_of(operator_a, customer, bad)
        assert "number" in refused.value.fields


def test_the_connection_number_is_not_editable_through_the_service(operator_a):
    connection = connection_of(operator_a, customer_of(operator_a))
    with pytest.raises(ConnectionNumberImmutable):
        connection_update(connection=connection, acting_user=None, number="AAL-0002")
    connection_update(connection=connection, acting_user=None, connection_type="DN20", metered=False)
    connection.refresh_from_db()
    assert (connection.number, connection.connection_type, connection.metered) == ("AAL-0001", "DN20", False)


@pytest.mark.parametrize("new_number", ["AAL-0002", "aal-0001"])
def test_the_database_refuses_to_change_a_connection_number_even_through_the_orm(operator_a, new_number):
    connection = connection_of(operator_a, customer_of(operator_a))
    with pytest.raises(DatabaseError), transaction.atomic():
        Connection.objects.filter(pk=connection.pk).update(number=new_number)
    connection.number = new_number
    with pytest.raises(DatabaseError), transaction.atomic():
        connection.save()
    assert Connection.objects.get(pk=connection.pk).number == "AAL-0001"
    # while the rest of the row may still change
    Connection.objects.filter(pk=connection.pk).update(status="active")
    assert Connection.objects.get(pk=connection.pk).status == "active"


def test_opening_arrears_are_owed_on_the_ledger_as_of_their_date(operator_a):
    connection = connection_of(
        operator_a,
        customer_of(operator_a),
        opening_arrears=Decimal("4500"),
        arrears_as_of=datetime.date(2026, 1, 31),
    )
    assert holder_balance(operator=operator_a, holder=connection.number, purpose="receivable") == Decimal("4500")
    [charge] = charges_of(operator=operator_a, holder=connection.number)
    assert (charge.head, charge.total, charge.due_date) == (
        "opening_balance",
        Decimal("4500"),
        datetime.date(2026, 1, 31),
    )


def test_opening_arrears_need_their_date_a_positive_amount_and_whole_units(operator_a):
    customer = customer_of(operator_a)
    for amount, as_of, field in [
        (Decimal("100"), None, "arrears_as_of"),
        (Decimal("-5"), datetime.date(2026, 1, 1), "opening_arrears"),
        (Decimal("10.50"), datetime.date(2026, 1, 1), "opening_arrears"),  # RWF has no cents
    ]:
        with pytest.raises(CustomerError) as refused:
            connection_of(operator_a, customer, opening_arrears=amount, arrears_as_of=as_of)
        assert field in refused.value.fields
    # and nothing was made
    assert not Connection.objects.exists()
    assert holder_known(operator=operator_a, reference="AAL-0001") is None


def test_a_connection_without_arrears_owes_nothing(operator_a):
    connection = connection_of(operator_a, customer_of(operator_a))
    assert holder_balance(operator=operator_a, holder=connection.number, purpose="receivable") == Decimal("0")
    assert not charges_of(operator=operator_a, holder=connection.number).exists()


def _cluster_with_system(operator, code):
    cluster = Cluster.objects.create(code=code, name=f"Cluster {code}")
    if operator is not None:
        ClusterAssignment.objects.create(
            cluster=cluster, operator=operator, starts_on="2025-01-01", expires_on="2099-01-01"
        )
    return SupplySystem.objects.create(
        cluster=cluster, kind="water", technology="gravity", name="Sys", code=f"{code}-1"
    )


def test_a_connection_takes_its_supply_systems_cluster_and_refuses_another_operators_system(operator_a, operator_b):
    customer = customer_of(operator_a)
    ours = _cluster_with_system(operator_a, "C-A")
    theirs = _cluster_with_system(operator_b, "C-B")
    connection = connection_of(operator_a, customer, "AAL-0001", supply_system=ours)
    assert connection.cluster == ours.cluster
    with pytest.raises(CustomerError) as refused:
        connection_of(operator_a, customer, "AAL-0002", supply_system=theirs)
    assert refused.value.code == "cluster_not_assigned"
    with pytest.raises(CustomerError) as mismatch:
        connection_of(operator_a, customer, "AAL-0003", supply_system=ours, cluster=theirs.cluster)
    assert mismatch.value.code == "cluster_mismatch"


def test_one_phone_may_own_many_connections(operator_a):
    customer = customer_of(operator_a)
    for number in ("AAL-0001", "AAL-0002", "AAL-0003"):
        connection_of(operator_a, customer, number)
    assert customer.connections.count() == 3
