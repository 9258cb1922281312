"""The Africa's Talking gateway end to end: real HTTP to the fake on loopback, and each way AT can fail."""

import httpx
import pytest
from django.db import transaction

from mita.notifications.models import OutboxMessage
from mita.notifications.services import message_queue

NUMBER = "+250788123456"


def _send(capture, operator):  # type: ignore[no-untyped-def]
    with capture(execute=True), transaction.atomic():
        message = message_queue(
            channel="sms",
            to=NUMBER,
            template="notifications.test",
            context={"name": "Ann"},
            operator=operator,
            language="en",
        )
    message.refresh_from_db()
    return message


def test_an_sms_goes_to_africas_talking_with_our_account_and_sender_id(
    at_gateway, operator_a, django_capture_on_commit_callbacks
):
    message = _send(django_capture_on_commit_callbacks, operator_a)
    # then the fake API holds the message as AT would, readable over its inspection endpoint
    listed = httpx.get(at_gateway.base_url + "/__messages").json()["messages"]
    assert [(m["to"], m["message"], m["from"], m["username"]) for m in listed] == [
        (NUMBER, "This is a test message from Mita for Ann.", "MITA", "mita-test")
    ]
    # and the outbox records it as sent, under AT's message id
    assert message.status == OutboxMessage.Status.SENT
    assert message.gateway == "africastalking"
    assert message.provider_message_id == listed[0]["id"]
    assert message.sent_at is not None
    assert message.last_error == ""


@pytest.mark.parametrize(
    ("mode", "error_text"),
    [
        ("http500", "HTTP 500"),
        ("timeout", "no answer from Africa's Talking within 0.5s"),
        ("garbage", "not JSON"),
    ],
)
def test_an_unavailable_or_confused_api_leaves_the_message_retrying(
    at_gateway, operator_a, django_capture_on_commit_callbacks, mode, error_text
):
    at_gateway.fail(mode, delay=2.0)
    message = _send(django_capture_on_commit_callbacks, operator_a)
    assert message.status == OutboxMessage.Status.RETRYING
    assert message.next_attempt_at is not None
    assert error_text in message.last_error
    assert message.gateway == "africastalking"
    assert at_gateway.messages == []


def test_a_wrong_api_key_leaves_the_message_retrying_until_it_is_fixed(
    settings, at_gateway, operator_a, django_capture_on_commit_callbacks
):
    settings.MITA_AT_API_KEY = "expired-key"
    message = _send(django_capture_on_commit_callbacks, operator_a)
    assert message.status == OutboxMessage.Status.RETRYING
    assert "HTTP 401" in message.last_error


def test_an_invalid_number_fails_the_message_for_good(at_gateway, operator_a, django_capture_on_commit_callbacks):
    at_gateway.fail("invalid_number")
    message = _send(django_capture_on_commit_callbacks, operator_a)
    assert message.status == OutboxMessage.Status.FAILED
    assert message.next_attempt_at is None
    assert "InvalidPhoneNumber" in message.last_error
    assert "403" in message.last_error


def test_nothing_listening_at_the_base_url_leaves_the_message_retrying(
    settings, at_gateway, operator_a, django_capture_on_commit_callbacks
):
    at_gateway.stop()
    message = _send(django_capture_on_commit_callbacks, operator_a)
    assert message.status == OutboxMessage.Status.RETRYING
    assert "could not reach Africa's Talking" in message.last_error
