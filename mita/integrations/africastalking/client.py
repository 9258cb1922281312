"""Africa's Talking bulk SMS over HTTP: send a message, read which recipients it was accepted for.

The protocol (https://developers.africastalking.com/docs/sms/sending/bulk): POST {base}/version1/messaging,
form fields username, to (comma-separated E.164 numbers), message and optional from; headers apiKey and
Accept: application/json. A 2xx answer carries {"SMSMessageData": {"Message": ..., "Recipients": [...]}},
one recipient per number with its own statusCode. Every failure surfaces as AfricasTalkingError.
"""

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from mita.integrations.responses import excerpt

SEND_PATH = "/version1/messaging"

# Recipient status codes: the message is on its way.
ACCEPTED_CODES = frozenset({100, 101, 102})  # Processed, Sent, Queued
# The number itself is refused; sending the same message to it again will not help.
NUMBER_REJECTED_CODES = frozenset(
    {
        403,  # InvalidPhoneNumber
        404,  # UnsupportedNumberType
        406,  # UserInBlacklist
        409,  # DoNotDisturbRejection
    }
)
# Every other code is an error worth retrying later: 401 RiskHold, 402 InvalidSenderId,
# 405 InsufficientBalance, 407 CouldNotRoute, 500 InternalServerError, 501 GatewayError, 502 RejectedByGateway.

# Delivery report statuses (the callback AT posts to us) that end a message's journey.
DELIVERED_STATUSES = frozenset({"Success"})
UNDELIVERED_STATUSES = frozenset({"Failed", "Rejected", "AbsentSubscriber", "Expired"})


class AfricasTalkingError(Exception):
    """The API could not be used: no answer in time, no connection, a non-2xx status, or an unreadable body.

    kind is one of "timeout", "connection", "http", "bad_response"; status_code is the HTTP status if any.
    """

    def __init__(self, message: str, *, kind: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status_code = status_code


@dataclasses.dataclass(frozen=True)
class Recipient:
    number: str
    status_code: int
    status: str
    message_id: str
    cost: str

    @property
    def accepted(self) -> bool:
        return self.status_code in ACCEPTED_CODES

    @property
    def number_rejected(self) -> bool:
        return self.status_code in NUMBER_REJECTED_CODES


@dataclasses.dataclass(frozen=True)
class SendReport:
    summary: str  # SMSMessageData.Message, e.g. "Sent to 1/1 Total Cost: RWF 20.0000"
    recipients: tuple[Recipient, ...]

    def recipient(self, number: str) -> Recipient | None:
        """The recipient entry for a number; with one number sent, the only entry whatever its spelling."""
        for recipient in self.recipients:
            if recipient.number == number:
                return recipient
        return self.recipients[0] if len(self.recipients) == 1 else None


@dataclasses.dataclass(frozen=True)
class DeliveryReport:
    """What AT posts to the delivery-report callback URL (form-encoded)."""

    message_id: str
    status: str  # Sent, Submitted, Buffered, Rejected, Success, Failed, AbsentSubscriber, ...
    phone_number: str
    network_code: str
    failure_reason: str
    retry_count: str

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> "DeliveryReport":
        message_id = (form.get("id") or "").strip()
        status = (form.get("status") or "").strip()
        if not message_id or not status:
            raise AfricasTalkingError("a delivery report needs an id and a status", kind="bad_response")
        return cls(
            message_id=message_id,
            status=status,
            phone_number=(form.get("phoneNumber") or "").strip(),
            network_code=(form.get("networkCode") or "").strip(),
            failure_reason=(form.get("failureReason") or "").strip(),
            retry_count=(form.get("retryCount") or "").strip(),
        )

    @property
    def delivered(self) -> bool:
        return self.status in DELIVERED_STATUSES

    @property
    def undelivered(self) -> bool:
        return self.status in UNDELIVERED_STATUSES


class AfricasTalkingClient:
    def __init__(
        self,
        *,
        base_url: str,
        username: str,
        api_key: str,
        sender_id: str = "",
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.api_key = api_key
        self.sender_id = sender_id
        self.timeout = timeout
        self.transport = transport

    def send_sms(self, *, to: Sequence[str], message: str) -> SendReport:
        """Send one text to some numbers; raises AfricasTalkingError unless AT answered with a readable report."""
        form = {"username": self.username, "to": ",".join(to), "message": message}
        if self.sender_id:
            form["from"] = self.sender_id
        headers = {"apiKey": self.api_key, "Accept": "application/json"}
        url = self.base_url + SEND_PATH
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as http:
                response = http.post(url, data=form, headers=headers)
        except httpx.TimeoutException as error:
            raise AfricasTalkingError(
                f"no answer from Africa's Talking within {self.timeout:g}s ({type(error).__name__})", kind="timeout"
            ) from error
        except httpx.HTTPError as error:
            raise AfricasTalkingError(
                f"could not reach Africa's Talking at {url}: {error or type(error).__name__}", kind="connection"
            ) from error
        if not response.is_success:
            raise AfricasTalkingError(
                f"Africa's Talking answered HTTP {response.status_code}: {excerpt(response.text)}",
                kind="http",
                status_code=response.status_code,
            )
        return _send_report(response)


def _send_report(response: httpx.Response) -> SendReport:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise AfricasTalkingError(
            f"Africa's Talking answered something that is not JSON: {excerpt(response.text)}",
            kind="bad_response",
            status_code=response.status_code,
        ) from error
    try:
        data = body["SMSMessageData"]
        summary = str(data.get("Message", ""))
        recipients = tuple(_recipient(entry) for entry in data["Recipients"])
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise AfricasTalkingError(
            f"Africa's Talking answered JSON of an unexpected shape: {excerpt(json.dumps(body))}",
            kind="bad_response",
            status_code=response.status_code,
        ) from error
    return SendReport(summary=summary, recipients=recipients)


def _recipient(entry: Any) -> Recipient:
    if not isinstance(entry, dict):
        raise TypeError("a recipient is not an object")
    return Recipient(
        number=str(entry["number"]),
        status_code=int(entry["statusCode"]),
        status=str(entry.get("status", "")),
        message_id=str(entry.get("messageId", "")),
        cost=str(entry.get("cost", "")),
    )
