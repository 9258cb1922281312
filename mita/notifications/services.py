"""Queue messages in the business transaction; send them after commit; never lose one."""

import datetime
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from mita.core.audit import audit_record
from mita.core.errors import Conflict
from mita.notifications.catalogue import template_get
from mita.notifications.gateways import GatewayError, gateway_for
from mita.notifications.models import OutboxMessage

logger = logging.getLogger(__name__)

# Backoff between attempts: 1, 2, 4, 8 ... minutes, at most 6 hours.
BACKOFF_BASE_SECONDS = 60
BACKOFF_MAX_SECONDS = 6 * 60 * 60
# A message left "sending" this long (a worker died mid-send) is tried again.
STALE_SENDING = datetime.timedelta(minutes=10)
LAST_ERROR_LENGTH = 2000


def _language_supported(language: str) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    return language if language in codes else settings.LANGUAGE_CODE


def render(*, template: str, context: dict[str, Any], language: str) -> tuple[str, str]:
    """The subject and body of a catalogue template in a language, its placeholders filled from context."""
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
    """Write a message to the outbox in the caller's transaction; it is sent once that transaction commits.

    If the transaction rolls back, the message goes with it and is never sent.
    """
    language = _language_supported(language)
    subject, body = render(template=template, context=context, language=language)
    message = OutboxMessage.objects.create(
        operator=operator,
        channel=channel,
        to=to,
        template=template,
        language=language,
        subject=subject,
        body=body,
        sensitive=template_get(template).sensitive,
    )
    # robust: the business action has committed; a failed enqueue must not fail it (the sweep sends the message).
    transaction.on_commit(lambda: _enqueue(message.pk), robust=True)
    return message


def _enqueue(message_id: int) -> None:
    from mita.notifications.tasks import outbox_send

    outbox_send.enqueue(message_id=message_id)


def backoff(attempts: int) -> datetime.timedelta:
    """How long to wait after the given number of failed attempts."""
    return datetime.timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


def _due(now: datetime.datetime) -> Q:
    waiting = Q(status__in=[OutboxMessage.Status.QUEUED, OutboxMessage.Status.RETRYING]) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    abandoned = Q(status=OutboxMessage.Status.SENDING, next_attempt_at__lte=now - STALE_SENDING)
    return waiting | abandoned


def _claim(message_id: int) -> OutboxMessage | None:
    """Mark a due message as sending, so that only one worker sends it.

    One conditional UPDATE: of concurrent workers (processes, machines) exactly one changes the row, on
    PostgreSQL and SQLite alike.
    """
    now = timezone.now()
    claimed = OutboxMessage.objects.filter(_due(now), pk=message_id).update(
        status=OutboxMessage.Status.SENDING, attempts=F("attempts") + 1, next_attempt_at=now
    )
    if not claimed:
        return None
    return OutboxMessage.objects.get(pk=message_id)


def message_send(*, message_id: int) -> OutboxMessage | None:
    """Try to send one message now; on failure schedule a retry with backoff, and after the last, mark it failed.

    Returns None if the message was not due (already sent, or another worker has it).
    """
    message = _claim(message_id)
    if message is None:
        return None
    gateway_name = ""
    try:
        gateway = gateway_for(message.channel)
        gateway_name = gateway.name
        result = gateway.send(message)
    except GatewayError as error:
        return _send_failed(message, gateway=gateway_name, error=str(error), permanent=error.permanent)
    except Exception as error:  # a bug or an unforeseen library error: the message must not sit in "sending"
        logger.exception("message %s: unexpected error while sending", message.pk)
        return _send_failed(message, gateway=gateway_name, error=f"{type(error).__name__}: {error}", permanent=False)
    message.status = result.status
    message.gateway = gateway.name
    message.provider_message_id = result.provider_message_id
    message.provider_status = ""
    message.sent_at = timezone.now()
    message.next_attempt_at = None
    message.last_error = ""
    message.save(
        update_fields=[
            "status",
            "gateway",
            "provider_message_id",
            "provider_status",
            "sent_at",
            "next_attempt_at",
            "last_error",
        ]
    )
    return message


def _send_failed(message: OutboxMessage, *, gateway: str, error: str, permanent: bool) -> OutboxMessage:
    message.last_error = error[:LAST_ERROR_LENGTH]
    message.gateway = gateway or message.gateway
    if permanent or message.attempts >= settings.MITA_OUTBOX_MAX_ATTEMPTS:
        message.status = OutboxMessage.Status.FAILED
        message.next_attempt_at = None
    else:
        message.status = OutboxMessage.Status.RETRYING
        message.next_attempt_at = timezone.now() + backoff(message.attempts)
    message.save(update_fields=["status", "gateway", "last_error", "next_attempt_at"])
    logger.warning("message %s not sent (attempt %s, %s): %s", message.pk, message.attempts, message.status, error)
    if message.status == OutboxMessage.Status.RETRYING:
        transaction.on_commit(lambda: _enqueue_later(message), robust=True)
    return message


def _enqueue_later(message: OutboxMessage) -> None:
    """Ask the task backend to try again at next_attempt_at; one that cannot defer leaves it to the sweep."""
    from mita.notifications.tasks import outbox_send

    if outbox_send.get_backend().supports_defer:
        outbox_send.using(run_after=message.next_attempt_at).enqueue(message_id=message.pk)


def outbox_due_ids(*, now: datetime.datetime | None = None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    return list(OutboxMessage.objects.filter(_due(now)).order_by("pk").values_list("pk", flat=True)[:limit])


def outbox_sweep() -> int:
    """Send every due message (retries, and any whose after-commit enqueue was lost). Returns how many were tried."""
    tried = 0
    for message_id in outbox_due_ids():
        if message_send(message_id=message_id) is not None:
            tried += 1
    return tried


def message_retry(*, message: OutboxMessage, acting_user: Any) -> OutboxMessage:
    """Put a failed message back in the queue (the outbox page's "Send again"), with a fresh round of attempts."""
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        if not message.can_be_sent_again:
            raise Conflict(_("Only a failed message can be sent again."), code="message_not_failed")
        before = {"status": message.status, "attempts": message.attempts, "last_error": message.last_error}
        message.status = OutboxMessage.Status.QUEUED
        message.attempts = 0
        message.next_attempt_at = None
        message.save(update_fields=["status", "attempts", "next_attempt_at"])
        audit_record(
            actor=acting_user,
            action="message.retried",
            target=message,
            before=before,
            after={"status": message.status, "attempts": 0},
        )
        transaction.on_commit(lambda: _enqueue(message.pk), robust=True)
    return message


@transaction.atomic
def message_delivery_record(
    *, gateway: str, provider_message_id: str, outcome: str, provider_status: str, reason: str = ""
) -> list[OutboxMessage]:
    """Apply a provider's delivery report to the messages it names; the same report twice changes nothing.

    outcome is DELIVERED, FAILED, or SENT (still on its way). Delivered is final; a failure only ends a
    message that was sent (not one already delivered, nor one that someone has put back in the queue).
    """
    messages = list(
        OutboxMessage.objects.select_for_update()
        .filter(gateway=gateway, provider_message_id=provider_message_id)
        .exclude(provider_message_id="")
        .order_by("pk")
    )
    now = timezone.now()
    for message in messages:
        if message.status == OutboxMessage.Status.DELIVERED:
            continue
        if outcome == OutboxMessage.Status.DELIVERED:
            message.status = OutboxMessage.Status.DELIVERED
            message.delivered_at = now
            message.next_attempt_at = None
            message.last_error = ""
        elif message.status != OutboxMessage.Status.SENT:
            continue
        elif outcome == OutboxMessage.Status.FAILED:
            message.status = OutboxMessage.Status.FAILED
            message.last_error = f"Not delivered: {provider_status}" + (f" ({reason})" if reason else "")
        elif message.provider_status == provider_status:
            continue
        message.provider_status = provider_status[:32]
        message.save(update_fields=["status", "delivered_at", "next_attempt_at", "last_error", "provider_status"])
    return messages
