"""Queue messages in the business transaction; send them after commit; never lose one."""

import datetime
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation

from mita.notifications.catalogue import template_get
from mita.notifications.gateways import GatewayError, gateway_for
from mita.notifications.models import OutboxMessage

logger = logging.getLogger(__name__)

# Backoff between attempts: 1, 2, 4, 8 ... minutes, at most 6 hours.
BACKOFF_BASE_SECONDS = 60
BACKOFF_MAX_SECONDS = 6 * 60 * 60
# A message left "sending" this long (a worker died mid-send) is tried again.
STALE_SENDING = datetime.timedelta(minutes=10)


def render(*, template: str, context: dict[str, Any], language: str) -> tuple[str, str]:
    message_template = template_get(template)
    with translation.override(language):
        subject = str(message_template.subject) % context
        body = str(message_template.body) % context
    return subject, body


def message_queue(
    *,
    channel: str,
    to: str,
    template: str,
    context: dict[str, Any],
    language: str = "en",
    operator: Any = None,
) -> OutboxMessage:
    """Write a message to the outbox in the caller's transaction; it is sent once that transaction commits."""
    subject, body = render(template=template, context=context, language=language)
    message = OutboxMessage.objects.create(
        operator=operator, channel=channel, to=to, template=template, language=language, subject=subject, body=body
    )
    transaction.on_commit(lambda: _enqueue(message.pk))
    return message


def _enqueue(message_id: int) -> None:
    from mita.notifications.tasks import outbox_send

    outbox_send.enqueue(message_id=message_id)


def backoff(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


def _claim(message_id: int) -> OutboxMessage | None:
    """Mark a due message as sending, so that only one worker sends it."""
    now = timezone.now()
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id)
            .filter(
                Q(status__in=[OutboxMessage.Status.QUEUED, OutboxMessage.Status.RETRYING])
                & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
                | Q(status=OutboxMessage.Status.SENDING, next_attempt_at__lte=now - STALE_SENDING)
            )
            .first()
        )
        if message is None:
            return None
        message.status = OutboxMessage.Status.SENDING
        message.attempts += 1
        message.next_attempt_at = now
        message.save(update_fields=["status", "attempts", "next_attempt_at"])
        return message


def message_send(*, message_id: int) -> OutboxMessage | None:
    """Try to send one message now; on failure schedule a retry with backoff, and after the last, mark it failed."""
    message = _claim(message_id)
    if message is None:
        return None
    gateway = gateway_for(message.channel)
    try:
        result = gateway.send(message)
    except GatewayError as error:
        message.last_error = str(error)[:2000]
        if message.attempts >= settings.MITA_OUTBOX_MAX_ATTEMPTS:
            message.status = OutboxMessage.Status.FAILED
            message.next_attempt_at = None
        else:
            message.status = OutboxMessage.Status.RETRYING
            message.next_attempt_at = timezone.now() + backoff(message.attempts)
        message.save(update_fields=["status", "last_error", "next_attempt_at"])
        logger.warning("message %s not sent (attempt %s): %s", message.pk, message.attempts, error)
        if message.status == OutboxMessage.Status.RETRYING:
            transaction.on_commit(lambda: _enqueue_later(message))
        return message
    message.status = result.status
    message.gateway = gateway.name
    message.provider_message_id = result.provider_message_id
    message.sent_at = timezone.now()
    message.next_attempt_at = None
    message.last_error = ""
    message.save(
        update_fields=["status", "gateway", "provider_message_id", "sent_at", "next_attempt_at", "last_error"]
    )
    return message


def _enqueue_later(message: OutboxMessage) -> None:
    from mita.notifications.tasks import outbox_send

    try:
        outbox_send.using(run_after=message.next_attempt_at).enqueue(message_id=message.pk)
    except Exception:  # a backend that cannot defer: the periodic sweep picks it up
        logger.debug("could not defer message %s; the sweep will retry it", message.pk)


def outbox_due_ids(*, now: datetime.datetime | None = None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    due = (
        Q(status__in=[OutboxMessage.Status.QUEUED, OutboxMessage.Status.RETRYING])
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    ) | Q(status=OutboxMessage.Status.SENDING, next_attempt_at__lte=now - STALE_SENDING)
    return list(OutboxMessage.objects.filter(due).order_by("pk").values_list("pk", flat=True)[:limit])


def outbox_sweep() -> int:
    """Send every due message (retries, and any whose after-commit enqueue was lost). Returns how many were tried."""
    tried = 0
    for message_id in outbox_due_ids():
        if message_send(message_id=message_id) is not None:
            tried += 1
    return tried


def message_retry(*, message: OutboxMessage, acting_user: Any) -> OutboxMessage:
    """Put a failed message back in the queue (from the outbox page)."""
    from mita.core.audit import audit_record

    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        message.status = OutboxMessage.Status.QUEUED
        message.next_attempt_at = None
        message.save(update_fields=["status", "next_attempt_at"])
        audit_record(actor=acting_user, action="message.retried", target=message)
        transaction.on_commit(lambda: _enqueue(message.pk))
    return message
