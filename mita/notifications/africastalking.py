"""The SMS gateway through Africa's Talking: the domain's Gateway interface over the integration's client."""

from collections.abc import Mapping

from django.conf import settings

from mita.integrations.africastalking.client import AfricasTalkingClient, AfricasTalkingError, DeliveryReport
from mita.notifications import services
from mita.notifications.gateways import GatewayError, SendResult
from mita.notifications.models import OutboxMessage

GATEWAY_NAME = "africastalking"


def client_from_settings() -> AfricasTalkingClient:
    return AfricasTalkingClient(
        base_url=settings.MITA_AT_BASE_URL,
        username=settings.MITA_AT_USERNAME,
        api_key=settings.MITA_AT_API_KEY,
        sender_id=settings.MITA_AT_SENDER_ID,
        timeout=float(getattr(settings, "MITA_AT_TIMEOUT_SECONDS", 10.0)),
    )


class AfricasTalkingGateway:
    name = GATEWAY_NAME

    def __init__(self, client: AfricasTalkingClient | None = None) -> None:
        self.client = client or client_from_settings()

    def send(self, message: OutboxMessage) -> SendResult:
        try:
            report = self.client.send_sms(to=[message.to], message=message.body)
        except AfricasTalkingError as error:
            # Timeouts, outages, a wrong API key, an unreadable answer: all worth another try later.
            raise GatewayError(str(error)) from error
        recipient = report.recipient(message.to)
        if recipient is None:
            raise GatewayError(f"Africa's Talking accepted no recipient: {report.summary or 'no reason given'}")
        if recipient.accepted:
            return SendResult(status=OutboxMessage.Status.SENT, provider_message_id=recipient.message_id)
        raise GatewayError(
            f"Africa's Talking refused the message for {recipient.number}: {recipient.status} "
            f"(status code {recipient.status_code})",
            permanent=recipient.number_rejected,
        )


def delivery_outcome(report: DeliveryReport) -> str:
    """The outbox status a delivery report leads to: delivered, failed, or still sent (on its way)."""
    if report.delivered:
        return OutboxMessage.Status.DELIVERED
    if report.undelivered:
        return OutboxMessage.Status.FAILED
    return OutboxMessage.Status.SENT


def delivery_report_apply(*, form: Mapping[str, str]) -> int:
    """Record one delivery report posted by AT; returns how many outbox messages it named (0: unknown id).

    Raises AfricasTalkingError if the form is not a delivery report.
    """
    report = DeliveryReport.from_form(form)
    updated = services.message_delivery_record(
        gateway=GATEWAY_NAME,
        provider_message_id=report.message_id,
        outcome=delivery_outcome(report),
        provider_status=report.status,
        reason=report.failure_reason,
    )
    return len(updated)
