"""Charges and transfers copied in with their foreign keys checked once per batch (core.foreign_keys): refused as the
database refuses a missing key, the referenced rows locked as its own checks lock them, and only where that is the
same thing (PostgreSQL, in a transaction, a role allowed to switch triggers off, a table with no INSERT trigger)."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, connections, transaction

from mita.core.bulk import instances_insert, maker
from mita.core.foreign_keys import checked_together, role_may_switch_triggers
from mita.ledger.models import Charge, Transfer
from mita.ledger.services import account_get, chart_ensure, holder_account

DAY = datetime.date(2026, 10, 31)
POSTGRESQL = connection.vendor == "postgresql"
on_postgresql = pytest.mark.skipif(not POSTGRESQL, reason="the triggers are switched off on PostgreSQL only")


def charges(operator_id: int, count: int = 3) -> list[Charge]:
    charge = maker(Charge, operator_id=operator_id, currency="RWF", due_date=DAY, value_date=DAY)
    return [
        charge(holder=f"connection:{n}", head="water_sales", net=Decimal(100), vat=Decimal(0), total=Decimal(100),
               reference=f"bill:{n}")
        for n in range(count)
    ]  # fmt: skip


def setting() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_batch_with_a_key_that_is_not_there_is_refused_and_writes_nothing(operator_a):
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        instances_insert([*charges(operator_a.pk), *charges(operator_a.pk + 1000)], keys_together=True)
    if POSTGRESQL:  # refused before anything is copied, naming what to fix
        assert f'operator_id = {operator_a.pk + 1000} is not a row of "registry_operator"' in str(refused.value)
    assert not Charge.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_transfers_refer_to_accounts_checked_once_each_and_land_whole(operator_a, admin_a):
    chart_ensure(operator=operator_a)
    receivable = holder_account(operator=operator_a, holder="connection:1", purpose="receivable")
    revenue = account_get(operator=operator_a, code="revenue:water_sales")
    transfer = maker(
        Transfer, operator_id=operator_a.pk, currency="RWF", value_date=DAY, created_by_id=admin_a.pk, memo={}
    )
    made = [
        transfer(debit_id=receivable.pk, credit_id=revenue.pk, amount=Decimal(n), kind="charge", reference=f"b:{n}")
        for n in range(1, 6)
    ]
    with transaction.atomic():
        instances_insert(made, keys_together=True)
        if POSTGRESQL:
            assert setting() == "origin"  # the triggers are on again for what follows in the transaction
    assert list(Transfer.objects.order_by("pk").values_list("amount", flat=True)) == [Decimal(n) for n in range(1, 6)]
    with pytest.raises(IntegrityError), transaction.atomic():
        instances_insert([transfer(debit_id=receivable.pk, credit_id=revenue.pk + 999, amount=Decimal(1),
                                   kind="charge", reference="b:x")], keys_together=True)  # fmt: skip
    assert Transfer.objects.count() == 5


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_rows_referred_to_stay_locked_until_the_transaction_ends(operator_a):
    other = connections.create_connection("default")
    try:
        with transaction.atomic():
            instances_insert(charges(operator_a.pk), keys_together=True)
            with other.cursor() as cursor, pytest.raises(Exception, match="could not obtain lock"):
                # FOR UPDATE conflicts with the FOR KEY SHARE the batch's check took, as a trigger's check takes it
                cursor.execute("SELECT 1 FROM registry_operator WHERE id = %s FOR UPDATE NOWAIT", [operator_a.pk])
        with other.cursor() as cursor:  # committed: free again
            cursor.execute("SELECT 1 FROM registry_operator WHERE id = %s FOR UPDATE NOWAIT", [operator_a.pk])
    finally:
        other.close()
    assert Charge.objects.count() == 3


@pytest.mark.django_db
def test_checked_together_only_where_it_is_the_same_as_the_database_checking_each_row():
    if not POSTGRESQL:
        assert not checked_together(connection, Charge)
        return
    assert checked_together(connection, Charge)  # the test runs in a transaction, as a superuser
    with connection.cursor() as cursor:
        cursor.execute("CREATE FUNCTION mita_test_noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'")
        cursor.execute(
            "CREATE TRIGGER mita_test_on_insert BEFORE INSERT ON ledger_charge FOR EACH ROW "
            "EXECUTE FUNCTION mita_test_noop()"
        )
    assert not checked_together(connection, Charge)  # switching triggers off would skip this one
    assert checked_together(connection, Transfer)
    with connection.cursor() as cursor:
        cursor.execute("CREATE ROLE mita_test_plain NOLOGIN")
        cursor.execute("SET LOCAL ROLE mita_test_plain")
        assert not role_may_switch_triggers(connection)
        cursor.execute("RESET ROLE")
        assert role_may_switch_triggers(connection)


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_database_checks_each_row(operator_a):
    assert not checked_together(connection, Charge)
    instances_insert(charges(operator_a.pk), keys_together=True)
    assert Charge.objects.count() == 3
