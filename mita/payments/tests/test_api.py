"""The payments API: taking a payment idempotently, reading payments, suspense and assignment, account balances."""

import datetime
import uuid
from decimal import Decimal

import pytest

from mita.accounts.roles import Role
from mita.ledger.selectors import holder_balance
from mita.ledger.services import charge_post
from mita.payments.models import Payment
from mita.testing.factories import member

pytestmark = pytest.mark.django_db
HOLDER = "AAL-0001"


def charge(operator, amount="1200", holder=HOLDER, reference="bill:1"):
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


def body(**fields):
    return {
        "account_reference": HOLDER,
        "amount": "1200",
        "channel": "cash_office",
        "idempotency_key": str(uuid.uuid4()),
        "payer_name": "Jeanne",
        "payer_phone": "+250788123456",
    } | fields


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


@pytest.fixture
def cashier_a(operator_a):
    return member(Role.CASHIER, operator_a, name="Carla Cashier")


@pytest.fixture
def treasurer_a(operator_a):
    return member(Role.TREASURER, operator_a, name="Tom Treasurer")


def test_a_payment_is_201_with_its_receipt_and_a_replay_is_200_with_the_same_payment(operator_a, cashier_a, client_for):
    # given a charged account
    charge(operator_a, "1200")
    client = client_for(cashier_a)
    payload = body()
    # when the cashier's app sends a payment, then sends it again (the answer was lost)
    first = post(client, "/api/v1/payments", payload)
    again = post(client, "/api/v1/payments", payload)
    # then the first is created with a receipt and the allocation, the replay answers 200 with the same payment
    assert first.status_code == 201, first.content
    created = first.json()
    assert created["receipt_number"] == "AAL-R-000001"
    assert created["status"] == "completed" and created["holder"] == HOLDER
    assert Decimal(created["amount"]) == Decimal("1200")
    assert [Decimal(a["amount"]) for a in created["allocations"]] == [Decimal("1200")]
    assert again.status_code == 200
    assert again.json()["id"] == created["id"] and again.json()["receipt_number"] == "AAL-R-000001"
    assert Payment.objects.count() == 1
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("0")


def test_the_same_key_with_another_body_is_a_409(operator_a, cashier_a, client_for):
    charge(operator_a, "1200")
    client = client_for(cashier_a)
    payload = body()
    post(client, "/api/v1/payments", payload)
    conflict = post(client, "/api/v1/payments", payload | {"amount": "1100"})
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "idempotency_key_reused"
    assert Payment.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"amount": "12.5e3"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "100.50"}, "amount"),  # RWF has no cents: never rounded silently
        ({"payer_phone": "12"}, "payer_phone"),
        ({"account_reference": " "}, "account_reference"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(operator_a, cashier_a, client_for, fields, field):
    response = post(client_for(cashier_a), "/api/v1/payments", body(**fields))
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("role", "allowed", "refused"),
    [
        (Role.CASHIER, "cash_office", "bank"),
        (Role.REVENUE_COLLECTOR, "cash_field", "cash_office"),
        (Role.TREASURER, "bank", "cash_field"),
    ],
)
def test_each_role_records_only_its_channel(operator_a, client_for, role, allowed, refused):
    charge(operator_a, "1200")
    client = client_for(member(role, operator_a))
    refusal = post(client, "/api/v1/payments", body(channel=refused, amount="100"))
    assert refusal.status_code == 403 and refusal.json()["error"]["code"] == "channel_not_allowed"
    assert post(client, "/api/v1/payments", body(channel=allowed, amount="100")).status_code == 201


def test_other_operator_roles_are_refused(operator_a, staff_a, client_for):
    client = client_for(staff_a)  # a billing officer
    assert post(client, "/api/v1/payments", body()).status_code == 403
    assert client.get("/api/v1/payments").status_code == 403
    assert client.get("/api/v1/payments/suspense").status_code == 403
    assert not Payment.objects.exists()


def test_suspense_is_listed_and_assigned_then_the_balance_drops(operator_a, cashier_a, treasurer_a, client_for):
    # given a payment with a reference that matches no account
    charge(operator_a, "1200")
    created = post(client_for(cashier_a), "/api/v1/payments", body(account_reference="AAL-0O01")).json()
    assert created["status"] == "in_suspense"
    client = client_for(treasurer_a)
    listed = client.get("/api/v1/payments/suspense").json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == created["id"]
    # an unknown account is a 400 on the holder field
    unknown = post(client, f"/api/v1/payments/{created['id']}/assign", {"holder": "AAL-9999"})
    assert unknown.status_code == 400 and "holder" in unknown.json()["error"]["fields"]
    # a cashier may not assign
    assert (
        post(client_for(cashier_a), f"/api/v1/payments/{created['id']}/assign", {"holder": HOLDER}).status_code == 403
    )
    # when the treasurer assigns it
    assigned = post(client, f"/api/v1/payments/{created['id']}/assign", {"holder": HOLDER})
    # then it is completed on the account, which owes nothing
    assert assigned.status_code == 200 and assigned.json()["status"] == "completed"
    balance = client.get(f"/api/v1/accounts/{HOLDER}/balance").json()
    assert Decimal(balance["balance"]) == Decimal("0") and balance["open_charges"] == []
    assert client.get("/api/v1/payments/suspense").json()["count"] == 0


def test_listing_reading_and_the_balance(operator_a, cashier_a, client_for):
    charge(operator_a, "1000", reference="bill:1")
    charge(operator_a, "500", holder="AAL-0002", reference="bill:2")
    client = client_for(cashier_a)
    first = post(client, "/api/v1/payments", body(amount="400")).json()
    post(client, "/api/v1/payments", body(amount="500", account_reference="AAL-0002"))
    listed = client.get("/api/v1/payments?reference=AAL-0001").json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == first["id"]
    assert client.get("/api/v1/payments").json()["count"] == 2
    one = client.get(f"/api/v1/payments/{first['id']}").json()
    assert one["receipt_number"] == first["receipt_number"]
    balance = client.get(f"/api/v1/accounts/{HOLDER}/balance").json()
    assert Decimal(balance["balance"]) == Decimal("600")
    assert [(c["reference"], Decimal(c["open_amount"])) for c in balance["open_charges"]] == [
        ("bill:1", Decimal("600"))
    ]
    assert client.get("/api/v1/accounts/AAL-NOPE/balance").status_code == 404


def test_another_operators_admin_gets_404_on_our_payment_and_account(operator_a, cashier_a, admin_b, client_for):
    charge(operator_a, "1200")
    created = post(client_for(cashier_a), "/api/v1/payments", body(idempotency_key="shared-key")).json()
    suspense = post(client_for(cashier_a), "/api/v1/payments", body(account_reference="NOBODY")).json()
    client = client_for(admin_b)
    assert client.get(f"/api/v1/payments/{created['id']}").status_code == 404
    assert post(client, f"/api/v1/payments/{suspense['id']}/assign", {"holder": HOLDER}).status_code == 404
    assert client.get(f"/api/v1/accounts/{HOLDER}/balance").status_code == 404
    assert client.get("/api/v1/payments").json()["count"] == 0
    assert client.get("/api/v1/payments/suspense").json()["count"] == 0
    # the same key at operator B makes B's own payment: neither a replay of A's nor a conflict with it
    own = post(client, "/api/v1/payments", body(idempotency_key="shared-key", account_reference="X", amount="5"))
    assert own.status_code == 201 and own.json()["id"] != created["id"]
    assert Payment.objects.get(pk=suspense["id"]).status == Payment.Status.IN_SUSPENSE
