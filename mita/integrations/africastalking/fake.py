"""A fake Africa's Talking SMS API on loopback: same protocol, recorded messages, injected failures, delivery reports.

Protocol endpoints (as the real API):
  POST /version1/messaging        form username, to, message, [from]; header apiKey (401 if wrong)
Inspection and control (the fake's own, for tests and the demo):
  GET  /__messages                {"messages": [...]} every message accepted, oldest first
  POST /__fail                    {"mode": "http500"|"timeout"|"garbage"|"invalid_number"|"blacklisted"
                                   |"insufficient_balance"|"none", "count": N, "delay": seconds}
  POST /__deliver                 {"id": ..., "status": "Success"|"Failed"|..., "failureReason": ...,
                                   "callback_url": optional} posts a delivery report the way AT does
  POST /__reset                   forgets messages and failures
"""

import dataclasses
import datetime
import json
import logging
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from mita.core.fakes import LoopbackFake, LoopbackHandler
from mita.integrations.africastalking.client import SEND_PATH

logger = logging.getLogger(__name__)

FAILURE_MODES = frozenset(
    {"http500", "timeout", "garbage", "invalid_number", "blacklisted", "insufficient_balance", "none"}
)
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# Recipient entries AT gives for refused numbers and an empty account.
REFUSALS = {
    "invalid_number": (403, "InvalidPhoneNumber"),
    "blacklisted": (406, "UserInBlacklist"),
    "insufficient_balance": (405, "InsufficientBalance"),
}


@dataclasses.dataclass
class FakeMessage:
    id: str
    username: str
    to: str
    message: str
    sender_id: str
    received_at: str

    def as_dict(self) -> dict[str, str]:
        return {
            "id": self.id,
            "username": self.username,
            "to": self.to,
            "message": self.message,
            "from": self.sender_id,
            "received_at": self.received_at,
        }


class FakeAfricasTalking(LoopbackFake):
    """Serve the fake in a background thread: `with FakeAfricasTalking() as fake: ... fake.base_url ...`."""

    failure_modes = FAILURE_MODES
    thread_name = "fake-africastalking"

    def __init__(
        self,
        *,
        api_key: str = "fake-api-key",
        host: str = "127.0.0.1",
        port: int = 0,
        callback_url: str = "",
        auto_deliver: str = "",
        country_cost: str = "RWF 20.0000",
    ) -> None:
        super().__init__(handler=_handler_for(self), host=host, port=port)
        self.api_key = api_key
        self.callback_url = callback_url
        self.auto_deliver = auto_deliver  # e.g. "Success": report every accepted message at once
        self.cost = country_cost
        self._messages: list[FakeMessage] = []

    # What the tests and the demo use directly.

    @property
    def messages(self) -> list[FakeMessage]:
        with self._lock:
            return list(self._messages)

    def reset(self) -> None:
        with self._lock:
            self._messages.clear()
            self._clear_failures()

    def delivery_report(self, message_id: str, status: str = "Success", *, failure_reason: str = "") -> dict[str, str]:
        """The form AT posts to the callback URL for one message."""
        with self._lock:
            found = next((m for m in self._messages if m.id == message_id), None)
        report = {
            "id": message_id,
            "status": status,
            "phoneNumber": found.to if found else "",
            "networkCode": "63510",  # MTN Rwanda
            "retryCount": "0",
        }
        if failure_reason or status in {"Failed", "Rejected"}:
            report["failureReason"] = failure_reason or "DeliveryFailure"
        return report

    def deliver(
        self, message_id: str, status: str = "Success", *, failure_reason: str = "", callback_url: str = ""
    ) -> int:
        """Post a delivery report to the callback URL as AT does; returns the HTTP status the callback gave."""
        url = callback_url or self.callback_url
        if not url:
            raise ValueError("no callback URL: give one here or when starting the fake")
        form = self.delivery_report(message_id, status, failure_reason=failure_reason)
        response = httpx.post(url, data=form, timeout=10.0)
        return response.status_code

    # The protocol side, called from the handler threads.

    def _accept(self, *, username: str, numbers: list[str], text: str, sender_id: str, refusal: str) -> dict[str, Any]:
        recipients = []
        accepted = []
        for number in numbers:
            if refusal in REFUSALS:
                code, status = REFUSALS[refusal]
            elif not E164.match(number):
                code, status = REFUSALS["invalid_number"]
            else:
                code, status = 101, "Success"
            if code == 101:
                message = FakeMessage(
                    id="ATXid_" + uuid.uuid4().hex,
                    username=username,
                    to=number,
                    message=text,
                    sender_id=sender_id,
                    received_at=datetime.datetime.now(datetime.UTC).isoformat(),
                )
                accepted.append(message)
                recipients.append(
                    {"statusCode": code, "number": number, "status": status, "cost": self.cost, "messageId": message.id}
                )
            else:
                recipients.append(
                    {"statusCode": code, "number": number, "status": status, "cost": "0", "messageId": "None"}
                )
        with self._lock:
            self._messages.extend(accepted)
        if accepted and self.auto_deliver and self.callback_url:
            for message in accepted:
                threading.Thread(target=self._auto_deliver, args=(message.id,), daemon=True).start()
        total = f"Total Cost: {self.cost}" if accepted else "Total Cost: 0"
        return {
            "SMSMessageData": {"Message": f"Sent to {len(accepted)}/{len(numbers)} {total}", "Recipients": recipients}
        }

    def _auto_deliver(self, message_id: str) -> None:
        # A moment later, as a network would; the sender has had time to record the message id.
        if self._stopping.wait(1.0):
            return
        try:
            self.deliver(message_id, self.auto_deliver)
        except httpx.HTTPError as error:
            logger.warning("fake Africa's Talking could not post a delivery report: %s", error)


def _handler_for(fake: FakeAfricasTalking) -> type[BaseHTTPRequestHandler]:
    class Handler(LoopbackHandler):
        fake_label = "fake Africa's Talking"
        server_version = "FakeAfricasTalking/1"

        def _json_body(self) -> dict[str, Any] | None:
            try:
                value = json.loads(self._body() or b"{}")
            except ValueError:
                return None
            return value if isinstance(value, dict) else None

        def do_GET(self) -> None:
            if urlsplit(self.path).path == "/__messages":
                self._reply(200, {"messages": [m.as_dict() for m in fake.messages]})
            else:
                self._reply(404, "Not found", "text/plain")

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            if path == SEND_PATH:
                self._send()
            elif path == "/__fail":
                self._fail_from(fake, self._json_body())
            elif path == "/__deliver":
                self._deliver()
            elif path == "/__reset":
                self._body()
                fake.reset()
                self._reply(200, {"reset": True})
            else:
                self._reply(404, "Not found", "text/plain")

        def _send(self) -> None:
            raw = self._body()
            if self.headers.get("apiKey") != fake.api_key:
                self._reply(401, "The supplied authentication is invalid", "text/plain")
                return
            form = {key: values[0] for key, values in parse_qs(raw.decode("utf-8", "replace")).items()}
            missing = [name for name in ("username", "to", "message") if not form.get(name)]
            if missing:
                self._reply(400, f"Request is missing required form field '{missing[0]}'", "text/plain")
                return
            mode, delay = fake._take_failure()
            if self._play_common_failure(
                fake, mode, delay, garbage=b"<html><body>Bad gateway</body></html>", garbage_status=201
            ):
                return
            numbers = [number.strip() for number in form["to"].split(",") if number.strip()]
            report = fake._accept(
                username=form["username"],
                numbers=numbers,
                text=form["message"],
                sender_id=form.get("from", ""),
                refusal=mode,
            )
            self._reply(201, report)

        def _deliver(self) -> None:
            payload = self._json_body()
            if payload is None or not payload.get("id"):
                self._reply(400, {"error": "give the id of a message, and a status"})
                return
            try:
                status = fake.deliver(
                    str(payload["id"]),
                    str(payload.get("status", "Success")),
                    failure_reason=str(payload.get("failureReason", "")),
                    callback_url=str(payload.get("callback_url", "")),
                )
            except (ValueError, httpx.HTTPError) as error:
                self._reply(502, {"error": str(error)})
                return
            self._reply(200, {"callback_status": status})

    return Handler
