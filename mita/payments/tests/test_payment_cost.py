"""What taking a payment costs the database (issue 4's benchmark), kept from creeping back up, and the receipt
numbers given in one statement on PostgreSQL written exactly as receipt_number_format writes them."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mita.accounts.roles import Role
from mita.accounts.services import api_token_create
from mita.core.models import Sequence
from mita.ledger.services import charge_post
from mita.payments.models import Receipt
from mita.payments.numbering import RECEIPT_SEQUENCE, receipt_number_format
from mita.payments.services import payment_receive
from mita.testing.factories import member
from mita.testing.round_trips import round_trips_counted

pytestmark = pytest.mark.django_db
HOLDER = "AAL-0001"

# Statements of one cash payment at the office through the API, counted inside the test's transaction (savepoints
# stand for BEGIN and COMMIT): the till and the account locked, the payment (no look-up of its key first: a reused
# key fails its INSERT), the channel's clearing account (kept per process once committed, so read here, where nothing
# commits), its open charges, allocation, transfer and two balances, receipt, audit; the receipt numbered (one call
# of mita_receipts_number on PostgreSQL; the claim and three statements on SQLite); the customer's contact (in a
# savepoint, here inside a transaction). The token and its workspaces are kept (api_access). On PostgreSQL the
# payment's id is taken from its sequence with the locks (so that its INSERT can wait for the other writes). In the
# benchmark, outside a test's transaction: 14 statements on PostgreSQL, in fewer round trips (below).
MOST_QUERIES = {"postgresql": 18, "sqlite": 20}

# Round trips to PostgreSQL of the same payment, with the query log off (as served), inside the test's transaction,
# where every atomic block of the request is a SAVEPOINT and a RELEASE of its own: 18 (21 before the payment's reads
# went in one round trip: the till, the account's lock, its open charges and the payment's id). Served, outside a
# test's transaction, a payment makes 6: BEGIN, those reads, its writes, COMMIT, the receipt's number, the contact.
MOST_ROUND_TRIPS = 18


def charge(operator, holder=HOLDER, reference="bill:1"):
    return charge_post(
        operator=operator,
        holder=holder,
        head="water_sales",
        amount=Decimal("5000"),
        vat_rule="exempt",
        reference=reference,
        due_date=datetime.date(2026, 10, 31),
        acting_user=None,
    )


@pytest.fixture
def pay(client, operator_a):
    """Pay into HOLDER (billed 5,000) as a cashier through the API, watched by a context (CaptureQueriesContext,
    round_trips_counted); the answer and what the context saw."""
    charge(operator_a)
    cashier = member(Role.CASHIER, operator_a, name="Carla Cashier")
    _token, raw = api_token_create(user=cashier, name="till")
    headers = {"Authorization": f"Bearer {raw}", "X-Mita-Workspace": f"operator:{operator_a.pk}"}

    def paid(amount, watched):
        body = {
            "account_reference": HOLDER,
            "amount": amount,
            "channel": "cash_office",
            "idempotency_key": str(uuid.uuid4()),
        }
        with watched as seen:
            response = client.post("/api/v1/payments", body, content_type="application/json", headers=headers)
        assert response.status_code == 201, response.content
        return response.json(), seen

    return paid


def test_a_payment_through_the_api_costs_no_more_queries_than_counted(pay, operator_a):
    pay("100", CaptureQueriesContext(connection))  # the first request reads the token, its workspaces and the chart
    answer, captured = pay("100", CaptureQueriesContext(connection))
    queries = [query["sql"] for query in captured.captured_queries]
    assert len(queries) <= MOST_QUERIES[connection.vendor], "\n".join(queries)
    # and the answer is whole, from memory: the receipt's number and the allocation with its charge
    assert answer["receipt_number"] == receipt_number_format(operator_a, 2)
    assert [(a["charge_reference"], a["amount"]) for a in answer["allocations"]] == [("bill:1", "100.00")]
    # the settings were not read (one open charge: nothing to order), nor the payment's allocations again
    assert not any("payments_paymentsettings" in sql for sql in queries)
    assert not any(sql.startswith("SELECT") and 'FROM "payments_allocation"' in sql for sql in queries)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="round trips to PostgreSQL")
def test_a_payment_through_the_api_waits_for_the_database_no_more_often_than_counted(pay):
    pay("4950", round_trips_counted())  # the first request reads the token, its workspaces and the chart
    answer, round_trips = pay("100", round_trips_counted())
    assert len(round_trips) <= MOST_ROUND_TRIPS
    # the open charges read with the lock: the 50 left of the bill, the rest is credit
    assert [(a["charge_reference"], a["amount"]) for a in answer["allocations"]] == [("bill:1", "50.00")]


def test_receipt_numbers_past_six_digits_are_written_as_the_format_says(operator_a):
    charge(operator_a)
    first = payment_receive(
        operator=operator_a,
        channel="cash_office",
        amount=Decimal("10"),
        account_reference=HOLDER,
        idempotency_key="k-0",
        received_by=None,
    )
    assert first.receipt.number == receipt_number_format(operator_a, 1)
    Sequence.objects.filter(operator_id=operator_a.pk, name=RECEIPT_SEQUENCE).update(last_value=999_998)
    numbers = [
        payment_receive(
            operator=operator_a,
            channel="cash_office",
            amount=Decimal("10"),
            account_reference=HOLDER,
            idempotency_key=f"k-{n}",
            received_by=None,
        ).receipt.number
        for n in range(1, 4)
    ]
    assert numbers == [receipt_number_format(operator_a, n) for n in (999_999, 1_000_000, 1_000_001)]
    assert numbers[0].endswith("-R-999999") and numbers[1].endswith("-R-1000000")
    stored = dict(Receipt.objects.filter(operator=operator_a).values_list("sequence_number", "number"))
    assert stored[1_000_001] == numbers[2]
    assert Sequence.objects.get(operator_id=operator_a.pk, name=RECEIPT_SEQUENCE).last_value == 1_000_001
