"""A message the gateway does not take stays in the outbox: retried with backoff, then failed, visibly."""

import datetime

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from mita.core.models import AuditEntry
from mita.notifications.models import OutboxMessage
from mita.notifications.services import backoff, message_queue, message_send, outbox_sweep

NUMBER = "+250788123456"


def _queue_and_commit(capture, operator, to=NUMBER):  # type: ignore[no-untyped-def]
    with capture(execute=True), transaction.atomic():
        message = message_queue(
            channel="sms", to=to, template="notifications.test", context={"name": "Ann"}, operator=operator
        )
    message.refresh_from_db()
    return message


def _make_due(message: OutboxMessage) -> None:
    """Time passes until the message's next attempt."""
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))


def test_backoff_doubles_from_a_minute_up_to_six_hours():
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert backoff(20) == datetime.timedelta(hours=6)


def test_a_gateway_failure_leaves_the_message_waiting_to_retry_after_the_backoff(
    at_gateway, operator_a, django_capture_on_commit_callbacks
):
    # given Africa's Talking is down
    at_gateway.fail("http500", count=-1)
    before = timezone.now()
    # when a message is queued and its transaction commits
    message = _queue_and_commit(django_capture_on_commit_callbacks, operator_a)
    # then it stays in the outbox, waiting to retry a minute later, saying why
    assert message.status == OutboxMessage.Status.RETRYING
    assert message.attempts == 1
    assert before + datetime.timedelta(seconds=60) <= message.next_attempt_at
    assert message.next_attempt_at <= timezone.now() + datetime.timedelta(seconds=60)
    assert "HTTP 500" in message.last_error
    # and it is not tried again before then
    assert message_send(message_id=message.pk) is None
    assert outbox_sweep() == 0
    message.refresh_from_db()
    assert message.attempts == 1


def test_after_the_last_attempt_the_message_is_failed_and_shown_on_the_outbox_page(
    settings, at_gateway, operator_a, admin_a, client_for, django_capture_on_commit_callbacks
):
    settings.MITA_OUTBOX_MAX_ATTEMPTS = 3
    at_gateway.fail("http500", count=-1)
    message = _queue_and_commit(django_capture_on_commit_callbacks, operator_a)
    # when the sweep retries it each time its backoff has passed
    waits = []
    for _attempt in range(2):
        _make_due(message)
        started = timezone.now()
        assert outbox_sweep() == 1
        message.refresh_from_db()
        if message.next_attempt_at:
            waits.append(round((message.next_attempt_at - started).total_seconds() / 60))
    # then the waits grew, and after the third attempt it is failed, not retried again
    assert waits == [2]
    assert message.status == OutboxMessage.Status.FAILED
    assert message.attempts == 3
    assert message.next_attempt_at is None
    _make_due(message)
    assert outbox_sweep() == 0
    # and the operator admin sees it among the failed messages, with the reason and a way to send it again
    page = client_for(admin_a).get(reverse("notifications:outbox_list"), {"status": "failed"}).content.decode()
    assert NUMBER in page
    assert "Failed" in page
    detail = client_for(admin_a).get(reverse("notifications:outbox_detail", args=[message.pk])).content.decode()
    assert "HTTP 500" in detail
    assert 'data-testid="send-again"' in detail


def test_sending_a_failed_message_again_gives_it_a_new_round_of_attempts(
    settings, at_gateway, operator_a, admin_a, client_for, django_capture_on_commit_callbacks
):
    # given a message that failed while the gateway was down
    settings.MITA_OUTBOX_MAX_ATTEMPTS = 1
    at_gateway.fail("http500", count=-1)
    message = _queue_and_commit(django_capture_on_commit_callbacks, operator_a)
    assert message.status == OutboxMessage.Status.FAILED
    # when the gateway is back and the admin presses "Send again"
    at_gateway.fail("none")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(admin_a).post(reverse("notifications:outbox_send_again", args=[message.pk]))
    assert response.status_code == 302
    # then it is sent, and the history says who sent it again
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert message.attempts == 1
    assert [m.to for m in at_gateway.messages] == [NUMBER]
    entry = AuditEntry.objects.get(action="message.retried", target_id=str(message.pk))
    assert entry.actor == admin_a
    assert entry.before["status"] == "failed"


def test_a_message_that_is_not_failed_cannot_be_sent_again(
    at_gateway, operator_a, admin_a, client_for, django_capture_on_commit_callbacks
):
    message = _queue_and_commit(django_capture_on_commit_callbacks, operator_a)
    assert message.status == OutboxMessage.Status.SENT
    client_for(admin_a).post(reverse("notifications:outbox_send_again", args=[message.pk]))
    assert len(at_gateway.messages) == 1
    assert not AuditEntry.objects.filter(action="message.retried").exists()


@pytest.mark.parametrize(
    ("mode", "status_text"), [("invalid_number", "InvalidPhoneNumber"), ("blacklisted", "UserInBlacklist")]
)
def test_a_refused_number_fails_at_once_without_pointless_retries(
    at_gateway, operator_a, django_capture_on_commit_callbacks, mode, status_text
):
    at_gateway.fail(mode)
    message = _queue_and_commit(django_capture_on_commit_callbacks, operator_a)
    assert message.status == OutboxMessage.Status.FAILED
    assert message.attempts == 1
    assert message.next_attempt_at is None
    assert status_text in message.last_error


def test_a_malformed_number_is_refused_by_the_gateway_and_fails_at_once(
    at_gateway, operator_a, django_capture_on_commit_callbacks
):
    message = _queue_and_commit(django_capture_on_commit_callbacks, operator_a, to="0788 123")
    assert message.status == OutboxMessage.Status.FAILED
    assert "InvalidPhoneNumber" in message.last_error


def test_an_empty_account_is_retried_not_failed(at_gateway, operator_a, django_capture_on_commit_callbacks):
    at_gateway.fail("insufficient_balance")
    message = _queue_and_commit(django_capture_on_commit_callbacks, operator_a)
    assert message.status == OutboxMessage.Status.RETRYING
    assert "InsufficientBalance" in message.last_error


def test_a_message_abandoned_while_sending_is_sent_by_the_sweep(at_gateway, operator_a):
    # given one message a worker died sending long ago, and one a worker is sending now
    from .conftest import outbox_message

    abandoned = outbox_message(
        operator=operator_a,
        status=OutboxMessage.Status.SENDING,
        attempts=1,
        next_attempt_at=timezone.now() - datetime.timedelta(minutes=11),
    )
    in_flight = outbox_message(
        operator=operator_a,
        status=OutboxMessage.Status.SENDING,
        attempts=1,
        next_attempt_at=timezone.now() - datetime.timedelta(minutes=1),
    )
    # when the sweep runs
    assert outbox_sweep() == 1
    # then only the abandoned one is sent
    abandoned.refresh_from_db()
    in_flight.refresh_from_db()
    assert abandoned.status == OutboxMessage.Status.SENT
    assert abandoned.attempts == 2
    assert in_flight.status == OutboxMessage.Status.SENDING


def test_an_email_the_mail_server_refuses_waits_to_retry(settings, operator_a, django_capture_on_commit_callbacks):
    import socket

    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 1
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = message_queue(
            channel="email",
            to="ann@example.org",
            template="notifications.test",
            context={"name": "Ann"},
            operator=operator_a,
        )
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.RETRYING
    assert "e-mail not accepted" in message.last_error


def test_a_misspelt_gateway_setting_keeps_the_message_waiting_with_the_reason(
    settings, operator_a, django_capture_on_commit_callbacks
):
    settings.MITA_SMS_GATEWAY = "africastalkng"
    message = _queue_and_commit(django_capture_on_commit_callbacks, operator_a)
    assert message.status == OutboxMessage.Status.RETRYING
    assert "africastalkng" in message.last_error
