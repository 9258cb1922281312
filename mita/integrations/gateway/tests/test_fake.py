"""The fake gateway plays the customer's side too: its checkout page, the webhook, the redirect; and its controls."""

import json
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from mita.integrations.gateway.client import FlutterwaveClient, GatewayError
from mita.integrations.gateway.fake import FakeFlutterwave, json_bytes

from .conftest import SECRET_KEY

HASH = "a-secret-hash-set-in-the-dashboard"


def _make(client: FlutterwaveClient, reference: str = "AAL-1", redirect: str = "https://mita.example.rw/r/") -> str:
    return client.checkout_create(
        reference=reference,
        amount=Decimal("1500"),
        currency="RWF",
        customer_phone="+250788123456",
        redirect_url=redirect,
        title="Amazi Meza Ltd",
    ).url


def _answer(link: str, outcome: str) -> httpx.Response:
    return httpx.post(link, data={"outcome": outcome}, follow_redirects=False)


def test_paying_on_the_page_sends_the_webhook_then_sends_the_customer_back(
    fake_gateway, gateway_client, webhook_receiver
):
    # given a merchant whose dashboard sends webhooks to Mita with a secret hash
    fake_gateway.dashboard(webhook_url=webhook_receiver.url, secret_hash=HASH)
    link = _make(gateway_client)
    # when the customer pays on the checkout page
    response = _answer(link, "successful")
    # then the webhook came once, with the secret hash and the transaction, amounts as JSON numbers
    [(path, headers, raw)] = webhook_receiver.requests
    assert path == "/hook/" and headers["verif-hash"] == HASH
    body = json.loads(raw, parse_float=Decimal)
    [transaction] = fake_gateway.transactions
    assert body["event"] == "charge.completed"
    assert (body["data"]["id"], body["data"]["tx_ref"], body["data"]["status"]) == (
        int(transaction.transaction_id),
        "AAL-1",
        "successful",
    )
    assert b'"amount": 1500,' in raw
    # and the browser goes back to Mita with the outcome in the query
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert location.netloc == "mita.example.rw" and location.path == "/r/"
    assert parse_qs(location.query) == {
        "status": ["successful"],
        "tx_ref": ["AAL-1"],
        "transaction_id": [transaction.transaction_id],
    }
    # and the page now says it is paid, and a second answer makes no second transaction
    assert "This payment has been made." in httpx.get(link).text
    assert _answer(link, "successful").status_code == 200
    assert len(fake_gateway.transactions) == 1


def test_a_cancelled_checkout_sends_the_customer_back_without_a_transaction_or_webhook(
    fake_gateway, gateway_client, webhook_receiver
):
    fake_gateway.dashboard(webhook_url=webhook_receiver.url, secret_hash=HASH)
    response = _answer(_make(gateway_client, redirect="https://mita.example.rw/r/?lang=fr"), "cancelled")
    assert parse_qs(urlsplit(response.headers["Location"]).query) == {
        "lang": ["fr"],
        "status": ["cancelled"],
        "tx_ref": ["AAL-1"],
    }
    assert fake_gateway.transactions == [] and webhook_receiver.requests == []


def test_a_declined_card_is_a_failed_transaction_and_the_customer_may_try_again(
    fake_gateway, gateway_client, webhook_receiver
):
    fake_gateway.dashboard(webhook_url=webhook_receiver.url, secret_hash=HASH)
    link = _make(gateway_client)
    declined = _answer(link, "failed")
    assert parse_qs(urlsplit(declined.headers["Location"]).query)["status"] == ["failed"]
    assert json.loads(webhook_receiver.requests[0][2])["data"]["status"] == "failed"
    assert "gateway-pay" in httpx.get(link).text
    _answer(link, "successful")
    assert [t.status for t in fake_gateway.transactions] == ["failed", "successful"]


def test_without_a_dashboard_webhook_nothing_is_sent_and_the_payment_still_happens(fake_gateway, gateway_client):
    link = _make(gateway_client)
    assert _answer(link, "successful").status_code == 303
    [transaction] = fake_gateway.transactions
    assert (transaction.status, transaction.webhooks_sent) == ("successful", 0)


def test_a_webhook_for_hook_decides_where_each_checkout_s_webhook_goes(webhook_receiver):
    seen = []

    def target(checkout):  # type: ignore[no-untyped-def]
        seen.append(checkout.tx_ref)
        return webhook_receiver.url + checkout.tx_ref + "/", "hash-of-" + checkout.tx_ref

    with FakeFlutterwave(secret_key=SECRET_KEY, webhook_for=target) as fake:
        client = FlutterwaveClient(base_url=fake.base_url, secret_key=SECRET_KEY, timeout=1)
        _make(client, "BWC-9")
        fake.pay("BWC-9")
    [(path, headers, _raw)] = webhook_receiver.requests
    assert (path, headers["verif-hash"], seen) == ("/hook/BWC-9/", "hash-of-BWC-9", ["BWC-9"])


def test_the_controls_pay_resend_changed_webhooks_and_reset(fake_gateway, gateway_client, webhook_receiver):
    base = fake_gateway.base_url
    assert httpx.post(f"{base}/__dashboard", json={"webhook_url": webhook_receiver.url, "secret_hash": HASH}).json()
    _make(gateway_client)
    paid = httpx.post(f"{base}/__pay", json={"tx_ref": "AAL-1", "amount": "1000"}).json()
    assert paid["redirect"].endswith(f"transaction_id={paid['transaction_id']}")
    assert fake_gateway.transaction(paid["transaction_id"]).amount == Decimal("1000")
    # a webhook sent again, lying about the amount and with a wrong hash
    resent = httpx.post(
        f"{base}/__webhook",
        json={"transaction_id": paid["transaction_id"], "overrides": {"amount": 999999}, "secret_hash": "nope"},
    )
    assert resent.json() == {"webhook_status": 200}
    _path, headers, raw = webhook_receiver.requests[-1]
    assert headers["verif-hash"] == "nope" and json.loads(raw)["data"]["amount"] == 999999
    assert fake_gateway.transaction(paid["transaction_id"]).webhooks_sent == 2
    listed = httpx.get(f"{base}/__checkouts").json()["checkouts"]
    assert [(c["tx_ref"], c["status"], c["transactions"]) for c in listed] == [
        ("AAL-1", "paid", [paid["transaction_id"]])
    ]
    assert httpx.get(f"{base}/__transactions").json()["transactions"][0]["webhooks_sent"] == 2
    assert httpx.post(f"{base}/__pay", json={"tx_ref": "nope"}).status_code == 404
    assert httpx.post(f"{base}/__fail", json={"mode": "everything"}).status_code == 400
    assert httpx.post(f"{base}/__reset").json() == {"reset": True}
    assert fake_gateway.checkouts == [] and fake_gateway.transactions == []


def test_an_unknown_checkout_page_is_not_found(fake_gateway):
    assert httpx.get(f"{fake_gateway.base_url}/v3/hosted/pay/nope").status_code == 404


def test_the_checkout_page_escapes_what_the_merchant_sent(fake_gateway, gateway_client):
    link = gateway_client.checkout_create(
        reference="AAL-2",
        amount=Decimal("10"),
        currency="RWF",
        customer_phone="+250788123456",
        redirect_url="https://mita.example.rw/r/",
        title="<script>alert(1)</script>",
    ).url
    assert "<script>alert(1)</script>" not in httpx.get(link).text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"amount": "10", "currency": "RWF", "redirect_url": "https://x/", "customer": {"email": "a@b"}}, "tx_ref"),
        ({"tx_ref": "A", "amount": "-1", "redirect_url": "https://x/", "customer": {"email": "a@b"}}, "amount"),
        ({"tx_ref": "A", "amount": "1", "redirect_url": "https://x/", "customer": {}}, "customer.email"),
        ({"tx_ref": "A", "amount": "1", "customer": {"email": "a@b"}}, "redirect_url"),
    ],
)
def test_a_wrong_checkout_request_is_a_400_saying_what_is_wrong(fake_gateway, body, message):
    response = httpx.post(
        f"{fake_gateway.base_url}/v3/payments", json=body, headers={"Authorization": f"Bearer {SECRET_KEY}"}
    )
    assert response.status_code == 400 and message in response.json()["message"]
    assert response.json()["status"] == "error"


def test_json_bytes_writes_decimals_as_exact_numbers():
    assert json_bytes({"amount": Decimal("1250.10"), "id": Decimal("7"), "note": "x"}) == (
        b'{"amount": 1250.10, "id": 7, "note": "x"}'
    )


def test_the_demo_s_fake_takes_any_test_key_as_a_merchant_but_no_other(fake_gateway):
    with FakeFlutterwave(accept_any_key=True) as fake:
        assert _make(FlutterwaveClient(base_url=fake.base_url, secret_key="FLWSECK_TEST-operator-own-key"))
        with pytest.raises(GatewayError) as raised:
            _make(FlutterwaveClient(base_url=fake.base_url, secret_key="sk_live_something"), reference="AAL-2")
        assert raised.value.kind == "refused"
