"""The real Daraja client speaking HTTP to the fake Daraja on loopback: what each call returns, and how it fails."""

import base64
import datetime

import httpx
import pytest

from mita.integrations.mpesa.client import DarajaClient, MpesaError
from mita.integrations.mpesa.protocol import password, timestamp

from .conftest import KEY, PASSKEY, SECRET, SHORTCODE

CALLBACK = "https://mita.example/payments/daraja/abc123/stk/result/"


def push(daraja: DarajaClient, **changes: object):  # type: ignore[no-untyped-def]
    arguments: dict[str, object] = {
        "shortcode": SHORTCODE,
        "passkey": PASSKEY,
        "amount": 150,
        "phone": "254708374149",
        "callback_url": CALLBACK,
        "account_reference": "AAL-000123",
        "description": "AAL bill",
    }
    return daraja.stk_push(**{**arguments, **changes})  # type: ignore[arg-type]


def test_the_token_is_fetched_once_with_basic_auth_and_reused(daraja):
    seen: list[httpx.Request] = []
    real = httpx.HTTPTransport()

    def spy(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        response = real.handle_request(request)
        response.read()
        return response

    client = DarajaClient(
        base_url=daraja.base_url, consumer_key=KEY, consumer_secret=SECRET, transport=httpx.MockTransport(spy)
    )
    first = client.access_token(renew=True)
    assert client.access_token() == first
    assert len(seen) == 1
    assert seen[0].url.path == "/oauth/v1/generate" and seen[0].url.params["grant_type"] == "client_credentials"
    assert seen[0].headers["Authorization"] == "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()


def test_a_wrong_consumer_secret_is_refused(fake_daraja):
    client = DarajaClient(base_url=fake_daraja.base_url, consumer_key=KEY, consumer_secret="wrong")
    with pytest.raises(MpesaError) as raised:
        client.access_token(renew=True)
    assert (raised.value.kind, raised.value.error_code) == ("refused", "400.008.01")


def test_registering_urls_tells_daraja_where_to_call(daraja, fake_daraja):
    answer = daraja.register_urls(
        shortcode=SHORTCODE,
        confirmation_url="https://mita.example/payments/daraja/s3cr3t/c2b/confirmation/",
        validation_url="https://mita.example/payments/daraja/s3cr3t/c2b/validation/",
        response_type="Cancelled",
    )
    assert answer["ResponseCode"] == "0"
    registration = fake_daraja.registrations[SHORTCODE]
    assert registration.confirmation_url.endswith("/c2b/confirmation/")
    assert registration.response_type == "Cancelled"


@pytest.mark.parametrize("word", ["mpesa", "M-Pesa", "Safaricom", "query", "exec"])
def test_a_url_daraja_would_refuse_is_not_sent(daraja, fake_daraja, word):
    with pytest.raises(MpesaError) as raised:
        daraja.register_urls(
            shortcode=SHORTCODE,
            confirmation_url=f"https://mita.example/{word}/confirmation/",
            validation_url="https://mita.example/validation/",
        )
    assert raised.value.kind == "invalid_request"
    assert fake_daraja.registrations == {}


def test_the_fake_refuses_a_forbidden_word_as_daraja_does(daraja, fake_daraja):
    token = daraja.access_token()
    response = httpx.post(
        fake_daraja.base_url + "/mpesa/c2b/v1/registerurl",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "ShortCode": SHORTCODE,
            "ResponseType": "Completed",
            "ConfirmationURL": "https://mita.example/mpesa/confirmation",
            "ValidationURL": "https://mita.example/validation",
        },
    )
    assert response.status_code == 400 and response.json()["errorCode"] == "400.002.02"


def test_an_stk_push_is_accepted_with_the_password_daraja_expects(daraja, fake_daraja):
    # The fake checks Password against base64(shortcode + passkey + Timestamp) for the shortcode's passkey.
    accepted = push(daraja, moment=datetime.datetime(2026, 11, 23, 6, 30, 5, tzinfo=datetime.UTC))
    assert accepted.checkout_request_id.startswith("ws_CO_")
    assert accepted.merchant_request_id
    [stored] = fake_daraja.stk_pushes
    assert stored.checkout_request_id == accepted.checkout_request_id
    assert (stored.amount, stored.phone, stored.account_reference) == (150, "254708374149", "AAL-000123")
    assert stored.callback_url == CALLBACK


def test_daraja_timestamps_are_east_africa_time():
    assert timestamp(datetime.datetime(2026, 11, 23, 6, 30, 5, tzinfo=datetime.UTC)) == "20261123093005"
    assert password("174379", "pk", "20261123093005") == base64.b64encode(b"174379pk20261123093005").decode()


def test_an_stk_push_with_the_wrong_passkey_is_rejected(daraja, fake_daraja):
    with pytest.raises(MpesaError) as raised:
        push(daraja, passkey="not-the-passkey")
    assert (raised.value.kind, raised.value.status_code, raised.value.error_code) == ("rejected", 400, "400.002.02")
    assert "Password" in str(raised.value)
    assert fake_daraja.stk_pushes == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"account_reference": "ACCOUNT-0000123"}, "AccountReference"),
        ({"description": "A description too long"}, "TransactionDesc"),
        ({"phone": "250788123456"}, "PartyA"),
        ({"amount": 0}, "Amount"),
    ],
)
def test_daraja_limits_on_an_stk_push_are_the_fakes_too(daraja, change, field):
    with pytest.raises(MpesaError) as raised:
        push(daraja, **change)
    assert raised.value.kind == "rejected" and field in str(raised.value)


def test_an_expired_token_is_renewed_once(daraja, fake_daraja):
    daraja.access_token()
    fake_daraja.fail("token_expired")
    assert push(daraja).checkout_request_id
    assert len(fake_daraja.stk_pushes) == 1


def test_a_token_refused_twice_is_refused(daraja, fake_daraja):
    fake_daraja.fail("token_expired", count=2)
    with pytest.raises(MpesaError) as raised:
        push(daraja)
    assert (raised.value.kind, raised.value.status_code) == ("refused", 401)


@pytest.mark.parametrize(
    ("mode", "kind"), [("http500", "unreachable"), ("timeout", "unreachable"), ("garbage", "invalid_response")]
)
def test_daraja_failures_surface_with_their_kind(daraja, fake_daraja, mode, kind):
    daraja.access_token()
    fake_daraja.fail(mode, delay=2.0)
    with pytest.raises(MpesaError) as raised:
        push(daraja)
    assert raised.value.kind == kind


def test_nothing_listening_is_unreachable():
    client = DarajaClient(base_url="http://127.0.0.1:9", consumer_key=KEY, consumer_secret=SECRET, timeout=0.5)
    with pytest.raises(MpesaError) as raised:
        client.access_token(renew=True)
    assert raised.value.kind == "unreachable"


def test_an_answer_without_a_checkout_id_is_invalid():
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/v1/generate":
            return httpx.Response(200, json={"access_token": "t", "expires_in": "3599"})
        return httpx.Response(200, json={"ResponseCode": "0", "ResponseDescription": "Success"})

    client = DarajaClient(
        base_url="http://daraja.invalid", consumer_key="k", consumer_secret="s", transport=httpx.MockTransport(answer)
    )
    with pytest.raises(MpesaError) as raised:
        push(client)
    assert raised.value.kind == "invalid_response"
