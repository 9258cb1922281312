"""API for online payments: the account's payment link (reused, sent by SMS on request), the checkouts and their
review; roles, and another operator's account or checkout is a 404."""

from decimal import Decimal

import pytest

from mita.accounts.roles import Role
from mita.notifications.models import OutboxMessage
from mita.payments.models import Payment
from mita.payments.models_online import OnlineChannelConfig, OnlineCheckout, PaymentLink
from mita.testing.factories import member

from .conftest import HOLDER, PAYER, start

pytestmark = pytest.mark.django_db


def post(client, url, data):  # type: ignore[no-untyped-def]
    return client.post(url, data, content_type="application/json")


@pytest.fixture
def cashier_a(operator_a):  # type: ignore[no-untyped-def]
    return member(Role.CASHIER, operator_a)


def test_a_cashier_gets_the_account_s_link_and_the_same_link_again(customer_a, online_a, cashier_a, client_for):
    client = client_for(cashier_a)
    first = post(client, f"/api/v1/accounts/{HOLDER}/payment-link", {})
    assert first.status_code == 200, first.content
    again = post(client, f"/api/v1/accounts/{HOLDER}/payment-link", {})
    assert first.json()["url"] == again.json()["url"] and "/pay/" in first.json()["url"]
    assert first.json()["amount"] is None and first.json()["sms_id"] is None
    assert PaymentLink.objects.filter(holder=HOLDER).count() == 1


def test_a_link_for_an_amount_is_sent_by_sms(customer_a, online_a, cashier_a, client_for):
    response = post(
        client_for(cashier_a),
        f"/api/v1/accounts/{HOLDER}/payment-link",
        {"amount": "700", "phone": "0788123456", "send_sms": True},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert Decimal(body["amount"]) == Decimal("700")
    sms = OutboxMessage.objects.get(pk=body["sms_id"])
    assert sms.to == PAYER and body["url"] in sms.body


def test_bad_amounts_and_a_switched_off_channel_are_clear_errors(customer_a, online_a, cashier_a, client_for):
    client = client_for(cashier_a)
    cents = post(client, f"/api/v1/accounts/{HOLDER}/payment-link", {"amount": "10.5"})
    assert cents.status_code == 400 and cents.json()["error"]["code"] == "amount_invalid"
    OnlineChannelConfig.objects.filter(pk=online_a.pk).update(enabled=False)
    off = post(client, f"/api/v1/accounts/{HOLDER}/payment-link", {})
    assert off.status_code == 409 and off.json()["error"]["code"] == "online_disabled"


def test_checkouts_are_listed_and_one_in_review_is_recorded(gateway, link_a, admin_a, client_for, operator_a):
    checkout = start(link_a)
    OnlineCheckout.objects.filter(pk=checkout.pk).update(status="review", transaction_id="77", reason="USD")
    client = client_for(admin_a)
    listed = client.get("/api/v1/online-checkouts?status=review").json()
    assert [row["id"] for row in listed["items"]] == [checkout.pk]
    wrong = post(client, f"/api/v1/online-checkouts/{checkout.pk}/review", {"decision": "maybe", "note": "hmm hmm"})
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "decision_invalid"
    done = post(
        client,
        f"/api/v1/online-checkouts/{checkout.pk}/review",
        {"decision": "record", "amount": "1500", "note": "Settled in RWF by the gateway"},
    )
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "successful" and done.json()["payment_id"] is not None
    again = post(
        client,
        f"/api/v1/online-checkouts/{checkout.pk}/review",
        {"decision": "dismiss", "note": "Refunded by the gateway"},
    )
    assert again.status_code == 400 and again.json()["error"]["code"] == "checkout_not_in_review"
    assert Payment.objects.filter(operator=operator_a).count() == 1


def test_roles_and_other_operators(gateway, link_a, cashier_a, admin_b, staff_a, client_for):
    checkout = start(link_a)
    OnlineCheckout.objects.filter(pk=checkout.pk).update(status="review", transaction_id="78")
    review = {"decision": "dismiss", "note": "Refunded at the gateway"}
    assert post(client_for(cashier_a), f"/api/v1/online-checkouts/{checkout.pk}/review", review).status_code == 403
    assert client_for(staff_a).get("/api/v1/online-checkouts").status_code == 403
    other = client_for(admin_b)
    assert post(other, f"/api/v1/online-checkouts/{checkout.pk}/review", review).status_code == 404
    assert post(other, f"/api/v1/accounts/{HOLDER}/payment-link", {}).status_code == 404
    assert other.get("/api/v1/online-checkouts").json()["items"] == []
    checkout.refresh_from_db()
    assert checkout.status == "review"
