"""The STK Push Query: the real client asking the fake Daraja over HTTP how a push ended, and the fake answering
from the push's stored result (pending, paid, cancelled, timed out), with or without the result callback."""

import datetime
import json

import httpx
import pytest

from mita.integrations.mpesa.client import DarajaClient, MpesaError
from mita.integrations.mpesa.fake import DROPPED, FakeDaraja
from mita.integrations.mpesa.protocol import PayloadError, parse_stk_query, password

from .conftest import KEY, PASSKEY, SECRET, SHORTCODE, Receiver

STK_PATH = "/payments/daraja/s3cr3t/stk/result/"


def push(daraja: DarajaClient, receiver: Receiver) -> str:
    """An STK push whose result goes to the receiver; returns its CheckoutRequestID."""
    accepted = daraja.stk_push(
        shortcode=SHORTCODE,
        passkey=PASSKEY,
        amount=150,
        phone="254708374149",
        callback_url=receiver.url(STK_PATH),
        account_reference="AAL-000123",
        description="AAL bill",
    )
    return accepted.checkout_request_id


def query(daraja: DarajaClient, checkout_id: str, **changes: object):  # type: ignore[no-untyped-def]
    arguments: dict[str, object] = {"shortcode": SHORTCODE, "passkey": PASSKEY, "checkout_request_id": checkout_id}
    return daraja.stk_query(**{**arguments, **changes})  # type: ignore[arg-type]


def test_a_push_the_customer_has_not_answered_is_being_processed(daraja, fake_daraja, receiver):
    checkout_id = push(daraja, receiver)
    answer = query(daraja, checkout_id)
    # Daraja refuses the query with a 500 "being processed": the client reads it as pending, not as an outage
    assert answer.pending and not answer.paid and answer.result_code is None
    assert answer.result_desc == "The transaction is being processed"
    assert answer.raw["errorCode"] == "500.001.1001"
    assert fake_daraja.stk_pushes[0].queries == 1


def test_a_paid_push_whose_callback_was_lost_is_paid_to_the_query(daraja, fake_daraja, receiver):
    checkout_id = push(daraja, receiver)
    # the customer pays, and Safaricom's callback is lost on the way
    assert fake_daraja.stk_complete(checkout_id, 0, deliver=False) == DROPPED
    assert receiver.received == []
    answer = query(daraja, checkout_id)
    assert (answer.pending, answer.paid, answer.result_code) == (False, True, 0)
    assert answer.result_desc == "The service request is processed successfully."
    assert answer.checkout_request_id == checkout_id and answer.merchant_request_id
    # the query tells no receipt number and no amount
    assert "MpesaReceiptNumber" not in answer.raw and "Amount" not in answer.raw


@pytest.mark.parametrize(
    ("code", "description"),
    [
        (1032, "Request cancelled by user"),
        (1037, "DS timeout user cannot be reached"),
        (1, "The balance is insufficient"),
    ],
)
def test_a_failed_push_is_answered_with_its_failure_code(daraja, fake_daraja, receiver, code, description):
    checkout_id = push(daraja, receiver)
    fake_daraja.stk_complete(checkout_id, code)
    # the callback went out too, and the query answers the same code
    assert [path for path in receiver.paths()] == [STK_PATH]
    answer = query(daraja, checkout_id)
    assert (answer.pending, answer.paid, answer.result_code) == (False, False, code)
    assert answer.result_desc.startswith(description)


def test_the_query_sends_daraja_fields_and_the_password_of_its_timestamp(daraja, fake_daraja, receiver):
    checkout_id = push(daraja, receiver)
    seen: list[httpx.Request] = []
    real = httpx.HTTPTransport()

    def spy(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        response = real.handle_request(request)
        response.read()
        return response

    client = DarajaClient(
        base_url=fake_daraja.base_url, consumer_key=KEY, consumer_secret=SECRET, transport=httpx.MockTransport(spy)
    )
    moment = datetime.datetime(2026, 11, 23, 6, 30, 5, tzinfo=datetime.UTC)
    assert query(client, checkout_id, moment=moment).pending
    sent = seen[-1]
    assert sent.url.path == "/mpesa/stkpushquery/v1/query" and sent.headers["Authorization"].startswith("Bearer ")
    assert json.loads(sent.content) == {
        "BusinessShortCode": SHORTCODE,
        "Password": password(SHORTCODE, PASSKEY, "20261123093005"),
        "Timestamp": "20261123093005",
        "CheckoutRequestID": checkout_id,
    }


def test_an_unknown_checkout_request_id_is_rejected(daraja, fake_daraja):
    with pytest.raises(MpesaError) as raised:
        query(daraja, "ws_CO_NOSUCHPUSH")
    assert (raised.value.kind, raised.value.status_code, raised.value.error_code) == ("rejected", 400, "400.002.02")
    assert "CheckoutRequestID" in str(raised.value)


def test_the_query_with_the_wrong_passkey_is_rejected(daraja, fake_daraja, receiver):
    checkout_id = push(daraja, receiver)
    with pytest.raises(MpesaError) as raised:
        query(daraja, checkout_id, passkey="not-the-passkey")
    assert raised.value.kind == "rejected" and "Password" in str(raised.value)
    assert fake_daraja.stk_pushes[0].queries == 0


def test_a_server_error_is_an_outage_not_a_pending_push(daraja, fake_daraja, receiver):
    checkout_id = push(daraja, receiver)
    fake_daraja.fail("http500")
    # Daraja's "System is busy" is a 500 too, with another errorCode: worth trying again, not "still processing"
    with pytest.raises(MpesaError) as raised:
        query(daraja, checkout_id)
    assert (raised.value.kind, raised.value.status_code, raised.value.error_code) == ("unreachable", 500, "500.003.02")


@pytest.mark.parametrize(("mode", "kind"), [("garbage", "invalid_response"), ("timeout", "unreachable")])
def test_an_answer_that_cannot_be_read_or_never_comes_is_an_error(daraja, fake_daraja, receiver, mode, kind):
    checkout_id = push(daraja, receiver)
    fake_daraja.fail(mode, delay=2.0)
    with pytest.raises(MpesaError) as raised:
        query(daraja, checkout_id)
    assert raised.value.kind == kind


def test_an_expired_token_is_renewed_once(daraja, fake_daraja, receiver):
    checkout_id = push(daraja, receiver)
    fake_daraja.fail("token_expired")
    assert query(daraja, checkout_id).pending


def test_an_answer_about_another_push_is_refused():
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/oauth"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": "3599"})
        return httpx.Response(200, json={"ResponseCode": "0", "CheckoutRequestID": "ws_CO_OTHER", "ResultCode": "0"})

    client = DarajaClient(
        base_url="http://daraja.invalid",
        consumer_key="k-other",
        consumer_secret="s",
        transport=httpx.MockTransport(answer),
    )
    with pytest.raises(MpesaError) as raised:
        client.stk_query(shortcode=SHORTCODE, passkey=PASSKEY, checkout_request_id="ws_CO_MINE")
    assert raised.value.kind == "invalid_response"


@pytest.mark.parametrize(
    ("body", "code", "pending"),
    [
        ({"ResponseCode": "0", "ResultCode": "1032", "ResultDesc": "Request cancelled by user"}, 1032, False),
        (
            {"ResponseCode": "0", "ResultCode": 0, "ResultDesc": "The service request is processed successfully."},
            0,
            False,
        ),
        (
            {"requestId": "1-2", "errorCode": "500.001.1001", "errorMessage": "The transaction is being processed"},
            None,
            True,
        ),
    ],
)
def test_query_answers_are_read_whether_codes_are_quoted_or_not(body, code, pending):
    answer = parse_stk_query(body)
    assert (answer.result_code, answer.pending) == (code, pending)


@pytest.mark.parametrize(
    "body",
    [
        {"ResponseCode": "0"},
        {"ResponseCode": "0", "ResultCode": "done"},
        {"errorCode": "500.001.1001", "errorMessage": "Merchant does not exist"},
        [],
    ],
)
def test_query_answers_of_the_wrong_shape_are_refused(body):
    with pytest.raises(PayloadError):
        parse_stk_query(body)


def test_the_fake_can_drop_every_stk_callback(receiver):
    with FakeDaraja(
        consumer_key=KEY, consumer_secret=SECRET, passkeys={SHORTCODE: PASSKEY}, stk_callbacks=False
    ) as fake:
        client = DarajaClient(base_url=fake.base_url, consumer_key=KEY, consumer_secret=SECRET, timeout=1.0)
        checkout_id = push(client, receiver)
        # over its control endpoint, as the demo does
        answered = httpx.post(
            fake.base_url + "/__stk/complete", json={"CheckoutRequestID": checkout_id, "ResultCode": 0}
        )
        assert answered.json()["callback"]["status"] == 0
        assert receiver.received == []
        assert query(client, checkout_id).paid
        # one callback may still be sent on purpose
        assert fake.stk_complete(checkout_id, 0, deliver=True).status == 200
        assert receiver.paths() == [STK_PATH]


def test_the_fake_refuses_a_deliver_flag_that_is_not_a_boolean(daraja, fake_daraja, receiver):
    checkout_id = push(daraja, receiver)
    response = httpx.post(
        fake_daraja.base_url + "/__stk/complete", json={"CheckoutRequestID": checkout_id, "Deliver": "no"}
    )
    assert response.status_code == 400 and fake_daraja.stk_pushes[0].result_code is None
