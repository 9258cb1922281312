"""The deposits, refunds and corrections API: idempotent writes, errors as JSON with the status, roles, and
another operator's 404."""

import uuid
from decimal import Decimal

import pytest

from mita.accounts.roles import Role
from mita.ledger.models import Charge
from mita.payments.deposits import deposit_rate_save
from mita.payments.models import ChargeCancellation, Payment, Refund
from mita.payments.tests.deposit_world import HOLDER, balances, bill, money, pay, request_refund
from mita.testing.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def cashier_a(operator_a):
    return member(Role.CASHIER, operator_a, name="Carla Cashier")


@pytest.fixture
def treasurer_a(operator_a):
    return member(Role.TREASURER, operator_a, name="Tom Treasurer")


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def refund_payload(**fields):
    return {
        "holder": HOLDER,
        "amount": "3000",
        "source": "credit",
        "reason": "moving away",
        "payee_name": "Jeanne Uwase",
        "method": "mobile_money",
        "network": "momo",
        "payee_phone": "+250788123456",
        "idempotency_key": str(uuid.uuid4()),
    } | fields


def test_the_admin_keeps_the_schedule_over_the_api(operator_a, admin_a, cashier_a, client_for):
    admin = client_for(admin_a)
    created = post(admin, "/api/v1/deposits/rates", {"key": "PKG-50", "label": "50 W", "amount": "8000"})
    assert created.status_code == 201, created.content
    rate_id = created.json()["id"]
    zero = post(admin, "/api/v1/deposits/rates", {"key": "social", "label": "Social tap", "amount": "0"})
    assert zero.status_code == 201 and Decimal(zero.json()["amount"]) == 0
    clash = post(admin, "/api/v1/deposits/rates", {"key": "pkg-50", "amount": "1"})
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "key_taken"
    bad = post(admin, "/api/v1/deposits/rates", {"key": "x", "amount": "12.345"})
    assert bad.status_code == 400 and bad.json()["error"]["fields"]["amount"]
    changed = admin.put(
        f"/api/v1/deposits/rates/{rate_id}",
        {"key": "PKG-50", "label": "50 W", "amount": "9000"},
        content_type="application/json",
    )
    assert changed.status_code == 200 and Decimal(changed.json()["amount"]) == Decimal("9000")
    cashier = client_for(cashier_a)
    assert [r["key"] for r in cashier.get("/api/v1/deposits/rates").json()] == ["PKG-50", "social"]
    assert post(cashier, "/api/v1/deposits/rates", {"key": "k", "amount": "1"}).status_code == 403


def test_a_deposit_is_charged_adjusted_and_applied_over_the_api(operator_a, admin_a, treasurer_a, client_for):
    deposit_rate_save(operator=operator_a, key="PKG-50", label="50 W", amount=Decimal("8000"), acting_user=admin_a)
    bill(operator_a, "1000")
    client = client_for(treasurer_a)
    payload = {"key": "PKG-50", "reference": "WO-7", "due_date": "2026-11-30", "idempotency_key": str(uuid.uuid4())}
    first = post(client, f"/api/v1/accounts/{HOLDER}/deposit/charge", payload)
    assert first.status_code == 201, first.content
    assert Decimal(first.json()["unpaid"]) == Decimal("8000") and first.json()["key"] == "PKG-50"
    assert post(client, f"/api/v1/accounts/{HOLDER}/deposit/charge", payload).status_code == 201
    assert Charge.objects.filter(head="deposit").count() == 1
    other = post(client, f"/api/v1/accounts/{HOLDER}/deposit/charge", payload | {"key": "", "amount": "100"})
    assert other.status_code == 409
    pay(operator_a, "9000")
    lowered = post(client, f"/api/v1/accounts/{HOLDER}/deposit/adjust", {"amount": "0", "reference": "SR-1"})
    assert lowered.status_code == 200, lowered.content
    assert Decimal(lowered.json()["released"]) == Decimal("8000")
    assert Decimal(lowered.json()["deposit"]["held"]) == 0
    both = post(
        client, f"/api/v1/accounts/{HOLDER}/deposit/adjust", {"key": "PKG-50", "amount": "1", "reference": "SR-2"}
    )
    assert both.status_code == 400 and both.json()["error"]["code"] == "key_or_amount"
    applied = post(client, f"/api/v1/accounts/{HOLDER}/deposit/apply")
    assert applied.status_code == 200 and Decimal(applied.json()["credit_left"]) == Decimal("8000")
    shown = client.get(f"/api/v1/accounts/{HOLDER}/deposit").json()
    assert shown["applied_at"] is not None and len(shown["charges"]) == 1


def test_a_refund_is_requested_approved_by_another_and_paid_out_over_the_api(
    operator_a, cashier_a, treasurer_a, admin_a, client_for
):
    bill(operator_a, "1000")
    pay(operator_a, "4000")
    cashier = client_for(cashier_a)
    payload = refund_payload()
    created = post(cashier, "/api/v1/refunds", payload)
    assert created.status_code == 201, created.content
    refund = created.json()
    assert (refund["number"], refund["status"]) == ("AAL-RF-000001", "requested")
    assert post(cashier, "/api/v1/refunds", payload).status_code == 200
    assert post(cashier, "/api/v1/refunds", payload | {"amount": "2000"}).status_code == 409
    too_much = post(cashier, "/api/v1/refunds", refund_payload(amount="1"))
    assert too_much.status_code == 400 and too_much.json()["error"]["code"] == "refund_exceeds_available"
    url = f"/api/v1/refunds/{refund['id']}"
    assert post(cashier, url + "/approve").status_code == 403
    early = post(client_for(treasurer_a), url + "/payout", {"payout_reference": "MP1"})
    assert early.status_code == 409 and early.json()["error"]["code"] == "refund_requested"
    approved = post(client_for(treasurer_a), url + "/approve")
    assert approved.status_code == 200 and approved.json()["approved_by_id"] == treasurer_a.pk
    no_reference = post(client_for(admin_a), url + "/payout", {})
    assert no_reference.status_code == 400 and no_reference.json()["error"]["fields"]["payout_reference"]
    paid = post(client_for(admin_a), url + "/payout", {"payout_reference": "MP1", "payout_date": "2026-01-02"})
    assert paid.status_code == 200 and paid.json()["status"] == "paid"
    assert balances(operator_a) == money(0, 0, 0)
    listed = cashier.get("/api/v1/refunds?status=paid").json()
    assert listed["count"] == 1 and listed["items"][0]["payout_reference"] == "MP1"


def test_a_refund_is_rejected_with_a_reason_over_the_api(operator_a, cashier_a, treasurer_a, client_for):
    bill(operator_a, "1000")
    pay(operator_a, "4000")
    refund = request_refund(operator_a, cashier_a, "3000")
    client = client_for(treasurer_a)
    missing = post(client, f"/api/v1/refunds/{refund.pk}/reject", {"reason": ""})
    assert missing.status_code == 400 and missing.json()["error"]["fields"]["reason"]
    rejected = post(client, f"/api/v1/refunds/{refund.pk}/reject", {"reason": "not ours"})
    assert rejected.status_code == 200 and rejected.json()["rejection_reason"] == "not ours"
    assert balances(operator_a) == money(0, 3000, 0)


def test_a_charge_back_and_a_charge_cancellation_over_the_api(operator_a, cashier_a, treasurer_a, client_for):
    charge = bill(operator_a, "1000")
    momo = pay(operator_a, "600", channel="momo")
    client = client_for(treasurer_a)
    reversed_payment = post(
        client, f"/api/v1/payments/{momo.pk}/chargeback", {"provider_reference": "CB-1", "reason": "x"}
    )
    assert reversed_payment.status_code == 200 and reversed_payment.json()["status"] == "reversed"
    replay = post(client, f"/api/v1/payments/{momo.pk}/chargeback", {"provider_reference": "CB-1", "reason": "x"})
    assert replay.status_code == 200
    other = post(client, f"/api/v1/payments/{momo.pk}/chargeback", {"provider_reference": "CB-2", "reason": "x"})
    assert other.status_code == 409
    assert post(client_for(cashier_a), f"/api/v1/charges/{charge.pk}/cancel", {"reason": "x"}).status_code == 403
    cancelled = post(client, f"/api/v1/charges/{charge.pk}/cancel", {"reason": "duplicate"})
    assert cancelled.status_code == 201, cancelled.content
    assert cancelled.json()["reference"] == "bill:1" and cancelled.json()["approved_by_id"] == treasurer_a.pk
    twice = post(client, f"/api/v1/charges/{charge.pk}/cancel", {"reason": "duplicate"})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_cancelled"
    assert balances(operator_a) == money(0, 0, 0)


def test_another_operators_admin_gets_404_on_every_deposit_refund_and_correction_endpoint(
    operator_a, admin_a, cashier_a, admin_b, client_for
):
    rate = deposit_rate_save(operator=operator_a, key="PKG", label="P", amount=Decimal("100"), acting_user=admin_a)
    charge = bill(operator_a, "1000")
    momo = pay(operator_a, "4000", channel="momo")
    refund = request_refund(operator_a, cashier_a, "1000")
    client = client_for(admin_b)
    assert client.get(f"/api/v1/accounts/{HOLDER}/deposit").status_code == 404
    assert client.get(f"/api/v1/refunds/{refund.pk}").status_code == 404
    assert (
        client.put(
            f"/api/v1/deposits/rates/{rate.pk}", {"key": "x", "amount": "1"}, content_type="application/json"
        ).status_code
        == 404
    )
    for url, body in (
        (
            f"/api/v1/accounts/{HOLDER}/deposit/charge",
            {"amount": "5", "reference": "r", "due_date": "2026-01-01", "idempotency_key": "k"},
        ),
        (f"/api/v1/accounts/{HOLDER}/deposit/adjust", {"amount": "5", "reference": "r"}),
        (f"/api/v1/accounts/{HOLDER}/deposit/apply", {}),
        (f"/api/v1/refunds/{refund.pk}/approve", {}),
        (f"/api/v1/refunds/{refund.pk}/reject", {"reason": "x"}),
        (f"/api/v1/refunds/{refund.pk}/payout", {"payout_reference": "x"}),
        (f"/api/v1/payments/{momo.pk}/chargeback", {"provider_reference": "X", "reason": "x"}),
        (f"/api/v1/charges/{charge.pk}/cancel", {"reason": "x"}),
    ):
        response = post(client, url, body)
        assert response.status_code == 404, (url, response.content)
        assert response.json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/refunds").json()["count"] == 0
    assert client.get("/api/v1/deposits/rates").json() == []
    unknown = post(client, "/api/v1/refunds", refund_payload())
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "account_unknown"
    refund.refresh_from_db()
    momo.refresh_from_db()
    assert (refund.status, momo.status) == (Refund.Status.REQUESTED, Payment.Status.COMPLETED)
    assert not ChargeCancellation.objects.exists()
