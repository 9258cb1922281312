"""The real client speaking HTTP to the fake gateway on loopback: checkouts, verification, and each way they fail."""

import json
import socket
from decimal import Decimal

import httpx
import pytest

from mita.integrations.gateway.client import (
    FlutterwaveClient,
    GatewayError,
    amount_text,
    parse_webhook,
    verif_hash_matches,
)

from .conftest import SECRET_KEY

PHONE = "+250788123456"
RETURN = "https://mita.example.rw/pay/abc/return/"


def _checkout(client: FlutterwaveClient, reference: str = "AAL-7f3c9a", **fields: object):  # type: ignore[no-untyped-def]
    arguments: dict = {
        "reference": reference,
        "amount": Decimal("1500"),
        "currency": "RWF",
        "customer_phone": PHONE,
        "redirect_url": RETURN,
        "title": "Amazi Meza Ltd",
        "description": "Account AAL-000123",
        **fields,
    }
    return client.checkout_create(**arguments)


def test_a_checkout_reaches_the_gateway_with_its_fields_and_gives_the_page_to_pay_on(fake_gateway, gateway_client):
    # when the client asks for a checkout of 1,500 RWF for a customer known by phone
    checkout = _checkout(gateway_client, session_minutes=60, meta={"account": "AAL-000123"})
    # then the gateway holds it as sent, and the link is its checkout page
    held = fake_gateway.checkout("AAL-7f3c9a")
    assert (held.amount, held.currency, held.redirect_url) == (Decimal("1500"), "RWF", RETURN)
    assert held.customer == {"email": "250788123456@customers.mita.invalid", "phonenumber": PHONE}
    assert held.customizations == {"title": "Amazi Meza Ltd", "description": "Account AAL-000123"}
    assert (held.session_minutes, held.meta) == (60, {"account": "AAL-000123"})
    assert checkout.url == f"{fake_gateway.base_url}/v3/hosted/pay/{held.checkout_id}"
    assert checkout.gateway_id == held.checkout_id
    page = httpx.get(checkout.url)
    assert page.status_code == 200 and "1500 RWF" in page.text


def test_a_paid_transaction_verifies_with_its_amount_reference_and_gateway_reference(fake_gateway, gateway_client):
    _checkout(gateway_client)
    paid = fake_gateway.pay("AAL-7f3c9a", webhook=False)
    transaction = gateway_client.transaction_verify(paid.transaction_id)
    assert transaction.is_successful and not transaction.is_failed and not transaction.is_pending
    assert (transaction.transaction_id, transaction.reference) == (paid.transaction_id, "AAL-7f3c9a")
    assert (transaction.amount, transaction.currency) == (Decimal("1500"), "RWF")
    assert transaction.gateway_reference == paid.flw_ref != ""
    assert transaction.customer_phone == PHONE
    assert transaction.charged_amount == Decimal("1500")


def test_a_declined_transaction_is_failed_with_the_processor_s_words(fake_gateway, gateway_client):
    _checkout(gateway_client)
    declined = fake_gateway.pay("AAL-7f3c9a", "failed", webhook=False)
    transaction = gateway_client.transaction_verify(declined.transaction_id)
    assert transaction.is_failed and transaction.processor_response == "Declined by the issuer"


def test_a_checkout_is_found_by_its_reference_once_the_customer_tried_to_pay(fake_gateway, gateway_client):
    _checkout(gateway_client)
    with pytest.raises(GatewayError) as raised:
        gateway_client.transaction_verify_by_reference("AAL-7f3c9a")
    assert raised.value.kind == "not_found"
    fake_gateway.pay("AAL-7f3c9a", "failed", webhook=False)
    paid = fake_gateway.pay("AAL-7f3c9a", webhook=False)  # the second try went through
    transaction = gateway_client.transaction_verify_by_reference("AAL-7f3c9a")
    assert transaction.transaction_id == paid.transaction_id and transaction.is_successful


def test_an_unknown_transaction_is_not_found(gateway_client):
    with pytest.raises(GatewayError) as raised:
        gateway_client.transaction_verify("123456789")
    assert (raised.value.kind, raised.value.status_code) == ("not_found", 400)


def test_cents_go_as_digits_and_come_back_exactly(fake_gateway, gateway_client):
    _checkout(gateway_client, amount=Decimal("1250.10"), currency="KES")
    assert fake_gateway.checkout("AAL-7f3c9a").amount == Decimal("1250.1")
    paid = fake_gateway.pay("AAL-7f3c9a", webhook=False)
    assert gateway_client.transaction_verify(paid.transaction_id).amount == Decimal("1250.1")
    assert amount_text(Decimal("1500.00")) == "1500"


def test_another_secret_key_is_refused(fake_gateway):
    client = FlutterwaveClient(base_url=fake_gateway.base_url, secret_key="FLWSECK_TEST-wrong", timeout=0.5)
    with pytest.raises(GatewayError) as raised:
        _checkout(client)
    assert (raised.value.kind, raised.value.status_code) == ("refused", 401)
    assert "Invalid authorization key" in str(raised.value)
    assert fake_gateway.checkouts == []


def test_a_request_the_gateway_refuses_is_rejected_with_its_reason(fake_gateway, gateway_client):
    with pytest.raises(GatewayError) as raised:
        _checkout(gateway_client, customer_email="no e-mail")
    assert raised.value.kind == "rejected" and "customer.email is required" in str(raised.value)


def test_a_reference_used_before_is_rejected(fake_gateway, gateway_client):
    _checkout(gateway_client)
    with pytest.raises(GatewayError) as raised:
        _checkout(gateway_client)
    assert raised.value.kind == "rejected"
    assert len(fake_gateway.checkouts) == 1


@pytest.mark.parametrize(
    ("mode", "kind"), [("http500", "unreachable"), ("timeout", "unreachable"), ("garbage", "invalid_response")]
)
def test_a_broken_gateway_is_reported_by_kind(fake_gateway, gateway_client, mode, kind):
    fake_gateway.fail(mode, count=2, delay=1.5)
    with pytest.raises(GatewayError) as raised:
        _checkout(gateway_client)
    assert raised.value.kind == kind
    with pytest.raises(GatewayError) as raised:
        gateway_client.transaction_verify("123")
    assert raised.value.kind == kind


def test_a_checkout_made_whose_answer_was_lost_is_unreachable_but_exists(fake_gateway, gateway_client):
    fake_gateway.fail("accept_then_timeout", delay=1.5)
    with pytest.raises(GatewayError) as raised:
        _checkout(gateway_client)
    assert raised.value.kind == "unreachable"
    assert fake_gateway.checkout("AAL-7f3c9a").amount == Decimal("1500")


def test_nothing_listening_is_unreachable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = FlutterwaveClient(base_url=f"http://127.0.0.1:{port}", secret_key=SECRET_KEY, timeout=0.5)
    with pytest.raises(GatewayError) as raised:
        client.transaction_verify("123")
    assert raised.value.kind == "unreachable"


def test_a_wrong_base_url_is_an_invalid_response_not_a_missing_transaction(fake_gateway):
    client = FlutterwaveClient(base_url=fake_gateway.base_url + "/nope", secret_key=SECRET_KEY, timeout=0.5)
    with pytest.raises(GatewayError) as raised:
        client.transaction_verify("123")
    assert (raised.value.kind, raised.value.status_code) == ("invalid_response", 404)


def _answering(body: object, status: int = 200) -> FlutterwaveClient:
    transport = httpx.MockTransport(lambda request: httpx.Response(status, content=json.dumps(body).encode()))
    return FlutterwaveClient(base_url="https://api.example", secret_key=SECRET_KEY, transport=transport)


def test_an_answer_about_another_transaction_is_not_taken():
    data = {"id": 999, "tx_ref": "AAL-1", "amount": 1500, "currency": "RWF", "status": "successful"}
    with pytest.raises(GatewayError) as raised:
        _answering({"status": "success", "data": data}).transaction_verify("123")
    assert raised.value.kind == "invalid_response"
    with pytest.raises(GatewayError) as raised:
        _answering({"status": "success", "data": data}).transaction_verify_by_reference("AAL-2")
    assert raised.value.kind == "invalid_response"


@pytest.mark.parametrize(
    "data",
    [
        {"id": 123, "tx_ref": "AAL-1", "amount": 1500, "currency": "RWF", "status": "refunded-maybe"},
        {"id": 123, "tx_ref": "AAL-1", "amount": "lots", "currency": "RWF", "status": "successful"},
        {"id": 123, "tx_ref": "AAL-1", "amount": 0, "currency": "RWF", "status": "successful"},
        {"id": 123, "amount": 1500, "currency": "RWF", "status": "successful"},
        None,
    ],
)
def test_a_transaction_of_the_wrong_shape_is_an_invalid_response(data):
    with pytest.raises(GatewayError) as raised:
        _answering({"status": "success", "data": data}).transaction_verify("123")
    assert raised.value.kind == "invalid_response"


def test_a_success_status_without_a_link_is_an_invalid_response():
    with pytest.raises(GatewayError) as raised:
        _checkout(_answering({"status": "success", "message": "Hosted Link", "data": {}}))
    assert raised.value.kind == "invalid_response"


@pytest.mark.parametrize(
    "fields",
    [
        {"reference": "has spaces"},
        {"currency": "rwf"},
        {"redirect_url": "/pay/abc/return/"},
        {"session_minutes": 0},
        {"amount": Decimal("0")},
    ],
)
def test_a_request_that_cannot_be_right_is_a_programming_error(gateway_client, fields):
    with pytest.raises(ValueError):
        _checkout(gateway_client, **fields)


# Webhooks -------------------------------------------------------------------------------------------------------


def test_a_webhook_names_a_transaction_and_a_checkout_and_its_amount_is_read_exactly():
    event = parse_webhook(
        json.loads(
            '{"event": "charge.completed", "data": {"id": 4975363, "tx_ref": "AAL-1", "amount": 1500.50,'
            ' "currency": "rwf", "status": "successful"}}',
            parse_float=str,
        )
    )
    assert (event.event, event.transaction_id, event.reference, event.status) == (
        "charge.completed",
        "4975363",
        "AAL-1",
        "successful",
    )
    assert (event.amount, event.currency) == (Decimal("1500.50"), "RWF")


@pytest.mark.parametrize(
    "body",
    [[], {"event": "charge.completed"}, {"data": {"amount": 5}}, {"data": {"id": "1 OR 1=1"}}, {"data": {"id": True}}],
)
def test_a_webhook_that_names_nothing_usable_is_refused(body):
    with pytest.raises(ValueError):
        parse_webhook(body)


def test_a_webhook_amount_that_is_no_number_is_ignored_not_refused():
    assert parse_webhook({"data": {"id": 12, "amount": "lots"}}).amount is None


def test_the_verif_hash_must_be_the_secret_hash_exactly():
    assert verif_hash_matches("s3cret-hash", "s3cret-hash")
    assert not verif_hash_matches("s3cret-has", "s3cret-hash")
    assert not verif_hash_matches(None, "s3cret-hash")
    assert not verif_hash_matches("", "")
