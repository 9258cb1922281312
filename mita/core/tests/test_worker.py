"""The real worker: tasks enqueued in the database backend are run by `mita worker`."""

import pytest
from django.core.management import call_command
from django.db import transaction

from mita.notifications.models import OutboxMessage
from mita.notifications.services import message_queue

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_a_message_queued_by_a_committed_action(settings, operator_a):
    # given the database task backend, as in production
    settings.TASKS = DATABASE_TASKS
    # when an action commits with a message in the outbox
    with transaction.atomic():
        message = message_queue(
            channel="sms",
            to="+250788123456",
            template="notifications.test",
            context={"name": "Ann"},
            operator=operator_a,
        )
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.QUEUED  # nothing is sent inside the web request
    # and the worker runs
    call_command("worker", "--batch", "--no-startup-delay", "--interval", "0.1")
    # then the message has gone through the gateway (the default keeps it in the outbox)
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.KEPT
    assert message.attempts == 1
