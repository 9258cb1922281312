"""The real client speaking HTTP to the fake on loopback: what a send returns, and each way it can fail."""

import socket

import pytest

from mita.integrations.africastalking.client import AfricasTalkingClient, AfricasTalkingError, DeliveryReport

from .conftest import API_KEY

NUMBER = "+250788123456"


def test_a_sent_message_reaches_the_api_with_its_fields_and_comes_back_accepted(fake_at, at_client):
    # when the client sends a text
    report = at_client.send_sms(to=[NUMBER], message="Your bill is 1,200 RWF")
    # then AT recorded it as sent, from our sender id, under our username
    [sent] = fake_at.messages
    assert (sent.to, sent.message, sent.sender_id, sent.username) == (
        NUMBER,
        "Your bill is 1,200 RWF",
        "MITA",
        "sandbox",
    )
    # and the report names the recipient as accepted, with AT's message id
    recipient = report.recipient(NUMBER)
    assert recipient is not None
    assert recipient.accepted and not recipient.number_rejected
    assert recipient.status_code == 101
    assert recipient.message_id == sent.id
    assert report.summary.startswith("Sent to 1/1")


def test_without_a_sender_id_no_from_field_is_sent(fake_at):
    client = AfricasTalkingClient(base_url=fake_at.base_url, username="sandbox", api_key=API_KEY)
    client.send_sms(to=[NUMBER], message="hello")
    assert fake_at.messages[0].sender_id == ""


def test_several_numbers_go_in_one_request_and_each_has_its_own_status(fake_at, at_client):
    report = at_client.send_sms(to=[NUMBER, "0788"], message="hello")
    assert [(r.number, r.status_code, r.status) for r in report.recipients] == [
        (NUMBER, 101, "Success"),
        ("0788", 403, "InvalidPhoneNumber"),
    ]
    assert [m.to for m in fake_at.messages] == [NUMBER]


def test_a_wrong_api_key_is_an_http_error_with_the_status(fake_at):
    client = AfricasTalkingClient(base_url=fake_at.base_url, username="sandbox", api_key="not-the-key")
    with pytest.raises(AfricasTalkingError) as raised:
        client.send_sms(to=[NUMBER], message="hello")
    assert raised.value.kind == "http"
    assert raised.value.status_code == 401
    assert "authentication is invalid" in str(raised.value)
    assert fake_at.messages == []


def test_a_server_error_is_an_http_error(fake_at, at_client):
    fake_at.fail("http500")
    with pytest.raises(AfricasTalkingError) as raised:
        at_client.send_sms(to=[NUMBER], message="hello")
    assert (raised.value.kind, raised.value.status_code) == ("http", 500)
    # and the failure was for one request only
    assert at_client.send_sms(to=[NUMBER], message="hello").recipients[0].accepted


def test_no_answer_in_time_is_a_timeout_error(fake_at, at_client):
    fake_at.fail("timeout", delay=2.0)
    with pytest.raises(AfricasTalkingError) as raised:
        at_client.send_sms(to=[NUMBER], message="hello")
    assert raised.value.kind == "timeout"
    assert "no answer" in str(raised.value)


def test_a_body_that_is_not_json_is_a_bad_response_error(fake_at, at_client):
    fake_at.fail("garbage")
    with pytest.raises(AfricasTalkingError) as raised:
        at_client.send_sms(to=[NUMBER], message="hello")
    assert raised.value.kind == "bad_response"
    assert "not JSON" in str(raised.value)


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'{"SMSMessageData": {"Message": "Sent"}}',
        b'{"SMSMessageData": {"Recipients": "everyone"}}',
        b'{"SMSMessageData": {"Recipients": [{"number": "+250788123456", "statusCode": "soon"}]}}',
        b'{"SMSMessageData": {"Recipients": [{"status": "Success"}]}}',
    ],
)
def test_json_of_another_shape_is_a_bad_response_error(body):
    import httpx

    transport = httpx.MockTransport(lambda request: httpx.Response(201, content=body))
    client = AfricasTalkingClient(base_url="http://at.invalid", username="u", api_key="k", transport=transport)
    with pytest.raises(AfricasTalkingError) as raised:
        client.send_sms(to=[NUMBER], message="hello")
    assert raised.value.kind == "bad_response"


@pytest.mark.parametrize(
    ("mode", "code", "status", "rejected"),
    [
        ("invalid_number", 403, "InvalidPhoneNumber", True),
        ("blacklisted", 406, "UserInBlacklist", True),
        ("insufficient_balance", 405, "InsufficientBalance", False),
    ],
)
def test_a_refused_recipient_is_reported_with_its_status(fake_at, at_client, mode, code, status, rejected):
    fake_at.fail(mode)
    recipient = at_client.send_sms(to=[NUMBER], message="hello").recipient(NUMBER)
    assert recipient is not None
    assert (recipient.status_code, recipient.status) == (code, status)
    assert not recipient.accepted
    assert recipient.number_rejected is rejected
    assert fake_at.messages == []


def test_nothing_listening_is_a_connection_error():
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = AfricasTalkingClient(base_url=f"http://127.0.0.1:{port}", username="u", api_key="k", timeout=0.5)
    with pytest.raises(AfricasTalkingError) as raised:
        client.send_sms(to=[NUMBER], message="hello")
    assert raised.value.kind == "connection"


def test_a_delivery_report_form_is_read_and_classified():
    delivered = DeliveryReport.from_form({"id": "ATXid_1", "status": "Success", "phoneNumber": NUMBER})
    failed = DeliveryReport.from_form({"id": "ATXid_1", "status": "Failed", "failureReason": "UserInBlacklist"})
    buffered = DeliveryReport.from_form({"id": "ATXid_1", "status": "Buffered"})
    assert delivered.delivered and not delivered.undelivered
    assert failed.undelivered and failed.failure_reason == "UserInBlacklist"
    assert not buffered.delivered and not buffered.undelivered
    with pytest.raises(AfricasTalkingError):
        DeliveryReport.from_form({"status": "Success"})
