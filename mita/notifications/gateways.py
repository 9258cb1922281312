"""The interface Mita sends messages through, and the gateways behind it (chosen by settings)."""

import dataclasses
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMessage

from mita.notifications.models import OutboxMessage


class GatewayError(Exception):
    """The gateway did not take the message: retried with backoff, unless permanent (e.g. the number is refused)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclasses.dataclass(frozen=True)
class SendResult:
    status: str
    provider_message_id: str = ""


class Gateway(Protocol):
    name: str

    def send(self, message: OutboxMessage) -> SendResult: ...


class OutboxOnlyGateway:
    """Keeps messages in the outbox, readable in the UI: the default, needing nothing from outside."""

    name = "outbox"

    def send(self, message: OutboxMessage) -> SendResult:
        return SendResult(status=OutboxMessage.Status.KEPT)


class EmailGateway:
    name = "email"

    def send(self, message: OutboxMessage) -> SendResult:
        try:
            EmailMessage(subject=message.subject, body=message.body, to=[message.to]).send(fail_silently=False)
        except Exception as error:  # SMTP and socket errors alike: retry later
            raise GatewayError(f"e-mail not accepted: {error}") from error
        return SendResult(status=OutboxMessage.Status.SENT)


def gateway_for(channel: str) -> Gateway:
    """E-mail goes through Django's mail backend; SMS through MITA_SMS_GATEWAY ("outbox" keeps it in the outbox)."""
    if channel == OutboxMessage.Channel.EMAIL:
        return EmailGateway()
    if settings.MITA_SMS_GATEWAY == "africastalking":
        from mita.notifications.africastalking import AfricasTalkingGateway

        return AfricasTalkingGateway()
    if settings.MITA_SMS_GATEWAY == "outbox":
        return OutboxOnlyGateway()
    # A misspelt setting must not pass for "keep in the outbox": the message waits, showing this error.
    raise GatewayError(f"MITA_SMS_GATEWAY={settings.MITA_SMS_GATEWAY!r} is not a gateway; use outbox or africastalking")
