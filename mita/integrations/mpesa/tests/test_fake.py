"""The fake Daraja playing Safaricom: C2B validation then confirmation, STK results, its control endpoints; and the
callback payloads read field by field."""

import time
from decimal import Decimal

import httpx
import pytest

from mita.integrations.mpesa.protocol import (
    PayloadError,
    loads,
    parse_c2b,
    parse_stk_callback,
    validation_reply,
)

from .conftest import SHORTCODE

DOC_C2B = (
    b'{"TransactionType": "Pay Bill", "TransID": "RKTQDM7W6S", "TransTime": "20191122063845", "TransAmount": "10",'
    b' "BusinessShortCode": "600638", "BillRefNumber": "AAL-000123", "InvoiceNumber": "",'
    b' "OrgAccountBalance": "49197.00", "ThirdPartyTransID": "", "MSISDN": "2547*****149", "FirstName": "John",'
    b' "MiddleName": "", "LastName": "Doe"}'
)
DOC_STK = (
    b'{"Body": {"stkCallback": {"MerchantRequestID": "29115-34620561-1", "CheckoutRequestID":'
    b' "ws_CO_191220191020363925", "ResultCode": 0, "ResultDesc": "The service request is processed successfully.",'
    b' "CallbackMetadata": {"Item": [{"Name": "Amount", "Value": 1.00}, {"Name": "MpesaReceiptNumber", "Value":'
    b' "NLJ7RT61SV"}, {"Name": "TransactionDate", "Value": 20191219102115}, {"Name": "PhoneNumber", "Value":'
    b" 254708374149}]}}}}"
)
DOC_STK_CANCELLED = (
    b'{"Body": {"stkCallback": {"MerchantRequestID": "29115-34620561-1", "CheckoutRequestID":'
    b' "ws_CO_191220191020363925", "ResultCode": 1032, "ResultDesc": "Request cancelled by user"}}}'
)


def register(fake, receiver, response_type="Completed"):  # type: ignore[no-untyped-def]
    fake.register(
        SHORTCODE,
        confirmation_url=receiver.url("/confirmation"),
        validation_url=receiver.url("/validation"),
        response_type=response_type,
    )


# The payloads as documented (docs/mpesa.md).


def test_the_documented_c2b_body_reads_as_a_payment():
    notification = parse_c2b(loads(DOC_C2B))
    assert (notification.trans_id, notification.amount, notification.bill_ref_number) == (
        "RKTQDM7W6S",
        Decimal("10"),
        "AAL-000123",
    )
    assert notification.trans_time is not None and notification.trans_time.isoformat() == "2019-11-22T06:38:45+03:00"
    assert (notification.shortcode, notification.msisdn, notification.payer_name) == (
        "600638",
        "2547*****149",
        "John Doe",
    )


def test_the_documented_stk_result_reads_without_a_float():
    result = parse_stk_callback(loads(DOC_STK))
    assert result.paid
    assert result.amount == Decimal("1.00") and isinstance(result.amount, Decimal)
    assert (result.receipt, result.checkout_request_id, result.phone) == (
        "NLJ7RT61SV",
        "ws_CO_191220191020363925",
        "254708374149",
    )
    assert result.transaction_date is not None and result.transaction_date.isoformat() == "2019-12-19T10:21:15+03:00"


def test_a_cancelled_stk_result_has_no_metadata():
    result = parse_stk_callback(loads(DOC_STK_CANCELLED))
    assert not result.paid
    assert (result.result_code, result.amount, result.receipt) == (1032, None, "")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", ""),
        (b"[1, 2]", ""),
        (b'{"TransAmount": "10", "BillRefNumber": "A"}', "TransID"),
        (b'{"TransID": "ABC", "BillRefNumber": "A"}', "TransAmount"),
        (b'{"TransID": "ABC", "TransAmount": "ten", "BillRefNumber": "A"}', "TransAmount"),
        (b'{"TransID": "ABC", "TransAmount": "-5", "BillRefNumber": "A"}', "TransAmount"),
        (b'{"TransID": "ABC", "TransAmount": "NaN", "BillRefNumber": "A"}', "TransAmount"),
        (b'{"TransID": "ABC", "TransAmount": true, "BillRefNumber": "A"}', "TransAmount"),
        (b'{"TransID": "ABC", "TransAmount": "10"}', "BillRefNumber"),
        (b'{"TransID": "A B", "TransAmount": "10", "BillRefNumber": "A"}', "TransID"),
        (b'{"TransID": "ABC", "TransAmount": "10", "BillRefNumber": "A", "TransTime": "yesterday"}', "TransTime"),
        (b'{"TransID": "ABC", "TransAmount": "10", "BillRefNumber": "' + b"A" * 65 + b'"}', "BillRefNumber"),
    ],
)
def test_a_c2b_body_that_cannot_be_read_names_the_field(body, field):
    with pytest.raises(PayloadError) as raised:
        parse_c2b(loads(body))
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"Body": {}}', "Body.stkCallback"),
        (b'{"Body": {"stkCallback": {"ResultCode": 0}}}', "CheckoutRequestID"),
        (b'{"Body": {"stkCallback": {"CheckoutRequestID": "ws_1", "ResultCode": "zero"}}}', "ResultCode"),
        (b'{"Body": {"stkCallback": {"CheckoutRequestID": "ws_1", "ResultCode": 0}}}', "Amount"),
        (
            b'{"Body": {"stkCallback": {"CheckoutRequestID": "ws_1", "ResultCode": 0, "CallbackMetadata": {"Item":'
            b' [{"Name": "Amount", "Value": 5}]}}}}',
            "MpesaReceiptNumber",
        ),
    ],
)
def test_an_stk_body_that_cannot_be_read_names_the_field(body, field):
    with pytest.raises(PayloadError) as raised:
        parse_stk_callback(loads(body))
    assert raised.value.field == field


def test_validation_replies_are_daraja_codes():
    assert validation_reply() == {"ResultCode": "0", "ResultDesc": "Accepted"}
    assert validation_reply("C2B00012") == {"ResultCode": "C2B00012", "ResultDesc": "Rejected"}
    with pytest.raises(ValueError):
        validation_reply("nope")


# Safaricom's side, played by the fake.


def test_a_paybill_payment_is_validated_then_confirmed(fake_daraja, receiver):
    register(fake_daraja, receiver)
    outcome = fake_daraja.c2b_pay(shortcode=SHORTCODE, bill_ref_number="AAL-000123", amount="250")
    assert outcome.completed
    assert receiver.paths() == ["/validation", "/confirmation"]
    body = receiver.received[1][1]
    assert parse_c2b(body).amount == Decimal("250.00") and body["BillRefNumber"] == "AAL-000123"
    assert body["TransID"] == outcome.payload["TransID"] and len(body["TransID"]) == 10
    assert body["OrgAccountBalance"] == "250.00"


def test_a_payment_refused_at_validation_is_never_confirmed(fake_daraja, receiver):
    register(fake_daraja, receiver)
    receiver.answers["/validation"] = (200, {"ResultCode": "C2B00012", "ResultDesc": "Rejected"})
    outcome = fake_daraja.c2b_pay(shortcode=SHORTCODE, bill_ref_number="NOBODY", amount="250")
    assert not outcome.completed and outcome.confirmation is None
    assert receiver.paths() == ["/validation"]


@pytest.mark.parametrize(("response_type", "confirmed"), [("Completed", True), ("Cancelled", False)])
def test_an_unanswered_validation_leaves_it_to_the_response_type(fake_daraja, receiver, response_type, confirmed):
    register(fake_daraja, receiver, response_type)
    receiver.answers["/validation"] = (500, "oops")
    outcome = fake_daraja.c2b_pay(shortcode=SHORTCODE, bill_ref_number="AAL-000123", amount="250")
    assert outcome.completed is confirmed
    assert ("/confirmation" in receiver.paths()) is confirmed


def test_without_external_validation_only_the_confirmation_is_sent(fake_daraja, receiver):
    register(fake_daraja, receiver)
    fake_daraja.external_validation = False
    fake_daraja.c2b_pay(shortcode=SHORTCODE, bill_ref_number="AAL-000123", amount="250")
    assert receiver.paths() == ["/confirmation"]


def test_an_stk_push_is_answered_at_its_callback_url(daraja, fake_daraja, receiver):
    accepted = daraja.stk_push(
        shortcode=SHORTCODE,
        passkey="test-passkey",
        amount=75,
        phone="254708374149",
        callback_url=receiver.url("/stk"),
        account_reference="AAL-000123",
        description="AAL bill",
    )
    delivery = fake_daraja.stk_complete(accepted.checkout_request_id)
    assert delivery.status == 200
    result = parse_stk_callback(receiver.received[0][1])
    assert (result.checkout_request_id, result.amount, result.phone) == (
        accepted.checkout_request_id,
        Decimal("75"),
        "254708374149",
    )
    assert result.receipt == fake_daraja.stk_pushes[0].receipt

    fake_daraja.stk_complete(accepted.checkout_request_id, 1032)
    assert parse_stk_callback(receiver.received[1][1]).result_code == 1032


def test_stk_pushes_can_answer_themselves(fake_daraja, daraja, receiver):
    fake_daraja.stk_result, fake_daraja.stk_delay = 1032, 0.0
    daraja.stk_push(
        shortcode=SHORTCODE,
        passkey="test-passkey",
        amount=75,
        phone="254708374149",
        callback_url=receiver.url("/stk"),
        account_reference="AAL-000123",
        description="AAL bill",
    )
    for _ in range(100):
        if receiver.received:
            break
        time.sleep(0.02)
    assert parse_stk_callback(receiver.received[0][1]).result_code == 1032


def test_the_control_endpoints_pay_and_show_state(fake_daraja, receiver):
    register(fake_daraja, receiver)
    answer = httpx.post(
        fake_daraja.base_url + "/__c2b", json={"ShortCode": SHORTCODE, "BillRefNumber": "AAL-1", "Amount": "40"}
    )
    assert answer.status_code == 200 and answer.json()["completed"] is True
    state = httpx.get(fake_daraja.base_url + "/__state").json()
    assert state["registrations"][0]["shortcode"] == SHORTCODE
    assert state["c2b"][0]["payload"]["BillRefNumber"] == "AAL-1"
    assert httpx.post(fake_daraja.base_url + "/__c2b", json={"ShortCode": "1"}).status_code == 400
    assert httpx.post(fake_daraja.base_url + "/__stk/complete", json={"CheckoutRequestID": "x"}).status_code == 404
    assert httpx.post(fake_daraja.base_url + "/__fail", json={"mode": "bogus"}).status_code == 400
    assert httpx.post(fake_daraja.base_url + "/__reset").json() == {"reset": True}
    assert fake_daraja.registrations == {}
