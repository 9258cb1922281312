"""A message is written with the business action that causes it and sent only once that action commits."""

import pytest
from django.db import transaction

from mita.notifications.models import OutboxMessage
from mita.notifications.services import message_queue

NUMBER = "+250788123456"


class BusinessActionFailed(Exception):
    pass


def test_a_message_queued_in_a_transaction_that_rolls_back_is_never_sent(
    at_gateway, operator_a, django_capture_on_commit_callbacks
):
    # given a business action that queues an SMS and then fails
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(BusinessActionFailed),
        transaction.atomic(),
    ):
        message_queue(
            channel="sms", to=NUMBER, template="notifications.test", context={"name": "Ann"}, operator=operator_a
        )
        raise BusinessActionFailed
    # then the message went with the transaction: not in the outbox, nothing to run after commit, nothing sent
    assert not OutboxMessage.objects.exists()
    assert callbacks == []
    assert at_gateway.messages == []


def test_a_message_queued_in_a_committed_transaction_is_sent_after_the_commit(
    at_gateway, operator_a, django_capture_on_commit_callbacks
):
    # given a business action that queues an SMS
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            message = message_queue(
                channel="sms", to=NUMBER, template="notifications.test", context={"name": "Ann"}, operator=operator_a
            )
            # while its transaction is open, nothing has left
            assert at_gateway.messages == []
        assert at_gateway.messages == []
    # then once it commits, the worker sends it through the gateway
    assert len(callbacks) == 1
    [sent] = at_gateway.messages
    assert (sent.to, sent.message) == (NUMBER, "This is a test message from Mita for Ann.")
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert message.attempts == 1
    assert message.provider_message_id == sent.id


def test_with_the_default_gateway_a_committed_message_is_kept_readable_in_the_outbox(
    settings, operator_a, django_capture_on_commit_callbacks
):
    settings.MITA_SMS_GATEWAY = "outbox"
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = message_queue(
            channel="sms", to=NUMBER, template="notifications.test", context={"name": "Ann"}, operator=operator_a
        )
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.KEPT
    assert message.gateway == "outbox"
    assert message.body == "This is a test message from Mita for Ann."


def test_an_email_is_sent_through_django_mail_after_commit(mailoutbox, operator_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = message_queue(
            channel="email",
            to="ann@example.org",
            template="notifications.test",
            context={"name": "Ann"},
            operator=operator_a,
        )
        assert mailoutbox == []
    [mail] = mailoutbox
    assert (mail.to, mail.subject, mail.body) == (
        ["ann@example.org"],
        "Mita test message",
        "This is a test message from Mita for Ann.",
    )
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT


def test_a_message_whose_after_commit_send_was_lost_is_sent_by_the_sweep(at_gateway, operator_a):
    from mita.notifications.services import outbox_sweep

    # given a committed message whose enqueue never happened (the web process died just after the commit)
    message = message_queue(
        channel="sms", to=NUMBER, template="notifications.test", context={"name": "Ann"}, operator=operator_a
    )
    assert at_gateway.messages == []  # the test's transaction never commits, so on_commit did not run
    # when the periodic sweep runs
    assert outbox_sweep() == 1
    # then it is sent, once
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert len(at_gateway.messages) == 1
    assert outbox_sweep() == 0
    assert len(at_gateway.messages) == 1
