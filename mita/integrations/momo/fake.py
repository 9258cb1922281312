"""A fake MTN MoMo Collection API on loopback: tokens, request-to-pay, its status and callbacks, with failures.

Protocol endpoints (as the real API, see docs/momo.md):
  POST /collection/token/                       Basic api user:api key, Ocp-Apim-Subscription-Key; 200 a token
  POST /collection/v1_0/requesttopay            Bearer token, X-Reference-Id (a UUID), X-Target-Environment,
                                                Ocp-Apim-Subscription-Key, optional X-Callback-Url; 202, 409 if the
                                                reference id was used, 400 if the body is wrong
  GET  /collection/v1_0/requesttopay/{id}       200 the request's status; 404 RESOURCE_NOT_FOUND
A request stays PENDING until settled: by the test or demo (settle), or by itself after `settle_delay` seconds when
`auto_settle` is on, with the outcome MTN's sandbox gives for the payer's number (SANDBOX_OUTCOMES; any other
number pays). Settling sends one callback to the request's X-Callback-Url, as MTN does: the body of the GET, by
POST, never repeated.
Inspection and control (the fake's own, for tests and the demo):
  GET  /__requests                              {"requests": [...]} every request received, oldest first
  POST /__settle                                {"referenceId", "status": "SUCCESSFUL"|"FAILED"|..., "reason":
                                                {"code", "message"}, "callback": true} settle a pending request
  POST /__callback                              {"referenceId", "overrides": {...}, "url": optional} send the
                                                callback of a request again, with fields changed as a liar would
  POST /__fail                                  {"mode": "http500"|"timeout"|"garbage"|"accept_then_timeout"|"none",
                                                "count": N, "delay": seconds} the next N Collection calls fail
  POST /__reset                                 forgets requests, tokens and failures
"""

import base64
import copy
import dataclasses
import datetime
import json
import logging
import re
import secrets
import threading
import time
import uuid
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

import httpx

from mita.core.fakes import LoopbackFake, LoopbackHandler
from mita.integrations.momo.client import FAILED_STATUSES, REQUEST_TO_PAY_PATH, SUCCESSFUL, TOKEN_PATH

logger = logging.getLogger(__name__)

FAILURE_MODES = frozenset({"http500", "timeout", "garbage", "accept_then_timeout", "none"})
# MTN's sandbox decides a request's fate by the payer's number; the fake does the same when it settles by itself.
SANDBOX_OUTCOMES: dict[str, tuple[str, str, str]] = {
    "46733123450": ("FAILED", "INTERNAL_PROCESSING_ERROR", "An internal error caused the operation to fail."),
    "46733123451": ("REJECTED", "APPROVAL_REJECTED", "The payer rejected the request."),
    "46733123452": ("TIMEOUT", "EXPIRED", "The payer did not answer in time."),
    "46733123453": ("ONGOING", "", ""),
    "46733123454": ("PENDING", "", ""),
}
CURRENCY = re.compile(r"[A-Z]{3}", re.ASCII)
MSISDN = re.compile(r"\d{8,15}", re.ASCII)


@dataclasses.dataclass
class FakeRequest:
    reference_id: str
    amount: str
    currency: str
    external_id: str
    payer: dict[str, Any]
    payer_message: str
    payee_note: str
    callback_url: str
    target_environment: str
    received_at: str
    status: str = "PENDING"
    reason: dict[str, str] | None = None
    financial_transaction_id: str = ""
    callbacks_sent: int = 0

    def status_body(self) -> dict[str, Any]:
        """What GET /requesttopay/{id} answers, and what a callback carries."""
        body: dict[str, Any] = {
            "amount": self.amount,
            "currency": self.currency,
            "externalId": self.external_id,
            "payer": copy.deepcopy(self.payer),
            "payerMessage": self.payer_message,
            "payeeNote": self.payee_note,
            "status": self.status,
        }
        if self.financial_transaction_id:
            body["financialTransactionId"] = self.financial_transaction_id
        if self.reason:
            body["reason"] = dict(self.reason)
        return body

    def as_dict(self) -> dict[str, Any]:
        return {
            "referenceId": self.reference_id,
            "callbackUrl": self.callback_url,
            "targetEnvironment": self.target_environment,
            "receivedAt": self.received_at,
            "callbacksSent": self.callbacks_sent,
            **self.status_body(),
        }


class FakeMomo(LoopbackFake):
    """Serve the fake in a background thread: `with FakeMomo() as momo: ... momo.base_url ...`."""

    failure_modes = FAILURE_MODES
    thread_name = "fake-momo"

    def __init__(
        self,
        *,
        subscription_key: str = "fake-momo-subscription-key",
        api_user: str = "fake-momo-api-user",
        api_key: str = "fake-momo-api-key",  # the fake's own key, the default of MITA_MOMO_API_KEY
        target_environment: str = "sandbox",
        host: str = "127.0.0.1",
        port: int = 0,
        auto_settle: bool = False,
        settle_delay: float = 1.0,
        token_lifetime: int = 3600,
    ) -> None:
        super().__init__(handler=_handler_for(self), host=host, port=port)
        # Callbacks and pollers arrive in bursts (tests send 50 at once): a longer queue than the server's default 5
        # keeps the kernel from dropping connections that would then wait a second to be retried.
        self._server.socket.listen(128)
        self.subscription_key = subscription_key
        self.api_user = api_user
        self.api_key = api_key
        self.target_environment = target_environment
        self.auto_settle = auto_settle
        self.settle_delay = settle_delay
        self.token_lifetime = token_lifetime
        self._requests: dict[str, FakeRequest] = {}
        self._tokens: dict[str, float] = {}  # token -> time.monotonic() it expires
        self.tokens_issued = 0

    # What the tests and the demo use directly.

    @property
    def requests(self) -> list[FakeRequest]:
        with self._lock:
            return [copy.deepcopy(request) for request in self._requests.values()]

    def request(self, reference_id: str) -> FakeRequest:
        with self._lock:
            return copy.deepcopy(self._requests[reference_id])

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._tokens.clear()
            self.tokens_issued = 0
            self._clear_failures()

    def expire_tokens(self) -> None:
        """End every token now, as MTN may before expires_in: the next call with one is a 401."""
        with self._lock:
            self._tokens.clear()

    def settle(
        self,
        reference_id: str,
        status: str = SUCCESSFUL,
        *,
        reason_code: str = "",
        reason_message: str = "",
        callback: bool = True,
        financial_transaction_id: str = "",
    ) -> int | None:
        """The payer answers: the request becomes SUCCESSFUL (with a financial transaction id, new unless given) or
        fails with a reason. Sends the callback if the request gave a URL and `callback`; returns the status it got
        (None: none sent)."""
        with self._lock:
            request = self._requests[reference_id]
            request.status = status
            if status == SUCCESSFUL:
                request.financial_transaction_id = (
                    financial_transaction_id
                    or request.financial_transaction_id
                    or str(secrets.randbelow(9 * 10**9) + 10**9)
                )
                request.reason = None
            elif status in FAILED_STATUSES:
                request.reason = {"code": reason_code or "APPROVAL_REJECTED", "message": reason_message or status}
            url = request.callback_url
        if not callback or not url:
            return None
        return self.send_callback(reference_id)

    def callback_body(self, reference_id: str, **overrides: Any) -> dict[str, Any]:
        with self._lock:
            body = self._requests[reference_id].status_body()
        body.update(copy.deepcopy(overrides))
        return body

    def send_callback(
        self, reference_id: str, *, url: str = "", method: str = "POST", overrides: dict[str, Any] | None = None
    ) -> int:
        """Send one callback for a request as MTN does (its status JSON, no reference id in it); returns the
        HTTP status the receiver answered. `overrides` change fields of the body, to play a lying sender."""
        with self._lock:
            request = self._requests[reference_id]
            target = url or request.callback_url
            request.callbacks_sent += 1
        if not target:
            raise ValueError("the request gave no X-Callback-Url: give a url")
        body = self.callback_body(reference_id, **(overrides or {}))
        response = httpx.request(method, target, json=body, timeout=30.0)
        return response.status_code

    # The protocol side, called from the handler threads.

    def _issue_token(self) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = time.monotonic() + self.token_lifetime
            self.tokens_issued += 1
        return token

    def _token_valid(self, token: str) -> bool:
        with self._lock:
            expires = self._tokens.get(token)
            return expires is not None and time.monotonic() < expires

    def _store(self, request: FakeRequest) -> bool:
        """Keep a new request; False if its reference id was used before."""
        with self._lock:
            if request.reference_id in self._requests:
                return False
            self._requests[request.reference_id] = request
        if self.auto_settle:
            threading.Thread(target=self._auto_settle, args=(request.reference_id,), daemon=True).start()
        return True

    def _status_body(self, reference_id: str) -> dict[str, Any] | None:
        with self._lock:
            request = self._requests.get(reference_id)
            return request.status_body() if request else None

    def _auto_settle(self, reference_id: str) -> None:
        # A moment later, as a payer answering the prompt on their phone.
        if self._stopping.wait(self.settle_delay):
            return
        with self._lock:
            request = self._requests.get(reference_id)
            if request is None:  # forgotten by a reset
                return
            party_id = str(request.payer.get("partyId", ""))
        status, code, message = SANDBOX_OUTCOMES.get(party_id, (SUCCESSFUL, "", ""))
        if status not in FAILED_STATUSES | {SUCCESSFUL}:
            return  # stays pending for ever, as the sandbox's ONGOING and PENDING numbers do
        try:
            self.settle(reference_id, status, reason_code=code, reason_message=message)
        except httpx.HTTPError as error:
            logger.warning("fake MoMo could not send a callback: %s", error)


def _request_error(body: Any) -> str:
    """Why a request-to-pay body would be refused with 400, or "" if it is fine."""
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    try:
        amount = Decimal(str(body.get("amount", "")))
    except InvalidOperation:
        return "amount is not a number"
    if not isinstance(body.get("amount"), str) or not amount.is_finite() or amount <= 0:
        return "amount must be a positive number in a string"
    if not isinstance(body.get("currency"), str) or not CURRENCY.fullmatch(body["currency"]):
        return "currency must be an ISO 4217 code"
    payer = body.get("payer")
    if not isinstance(payer, dict) or payer.get("partyIdType") != "MSISDN":
        return "payer must be {partyIdType: MSISDN, partyId}"
    if not isinstance(payer.get("partyId"), str) or not MSISDN.fullmatch(payer["partyId"]):
        return "payer partyId must be an MSISDN (digits only)"
    for field in ("externalId", "payerMessage", "payeeNote"):
        if not isinstance(body.get(field, ""), str):
            return f"{field} must be a string"
    return ""


def _handler_for(fake: FakeMomo) -> type[BaseHTTPRequestHandler]:
    class Handler(LoopbackHandler):
        fake_label = "fake MoMo"
        server_version = "FakeMomo/1"

        # Authentication, as MTN's API gateway answers it.

        def _subscription_ok(self) -> bool:
            if self.headers.get("Ocp-Apim-Subscription-Key") == fake.subscription_key:
                return True
            self._reply(
                401,
                {
                    "statusCode": 401,
                    "message": "Access denied due to invalid subscription key. "
                    "Make sure to provide a valid key for an active subscription.",
                },
            )
            return False

        def _bearer_ok(self) -> bool:
            if not self._subscription_ok():
                return False
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Bearer ") and fake._token_valid(auth.removeprefix("Bearer ")):
                return True
            self._reply(401, {"statusCode": 401, "message": "Access denied due to invalid or expired token."})
            return False

        def _environment_ok(self) -> bool:
            if self.headers.get("X-Target-Environment") == fake.target_environment:
                return True
            self._reply(
                400, {"code": "INVALID_TARGET_ENVIRONMENT", "message": "X-Target-Environment is missing or wrong."}
            )
            return False

        # Routing.

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            prefix = REQUEST_TO_PAY_PATH + "/"
            if path.startswith(prefix):
                self._status(path[len(prefix) :])
            elif path == "/__requests":
                self._reply(200, {"requests": [request.as_dict() for request in fake.requests]})
            else:
                self._reply(404, "Not found", "text/plain")

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            if path == TOKEN_PATH:
                self._token()
            elif path == REQUEST_TO_PAY_PATH:
                self._request_to_pay()
            elif path == "/__settle":
                self._settle()
            elif path == "/__callback":
                self._callback()
            elif path == "/__fail":
                self._fail_from(fake, self._json_body())
            elif path == "/__reset":
                self._body()
                fake.reset()
                self._reply(200, {"reset": True})
            else:
                self._reply(404, "Not found", "text/plain")

        # The protocol.

        def _token(self) -> None:
            self._body()
            if not self._subscription_ok():
                return
            expected = base64.b64encode(f"{fake.api_user}:{fake.api_key}".encode()).decode()
            if self.headers.get("Authorization") != f"Basic {expected}":
                self._reply(401, {"error": "login_failed", "error_description": "Invalid API user or API key."})
                return
            token = fake._issue_token()
            self._reply(200, {"access_token": token, "token_type": "access_token", "expires_in": fake.token_lifetime})

        def _failure(self) -> str:
            """Play an injected failure; returns the mode ("none" or "accept_then_timeout" if the caller goes on)."""
            mode, delay = fake._take_failure()
            self._play_common_failure(
                fake,
                mode,
                delay,
                server_error={"code": "INTERNAL_PROCESSING_ERROR", "message": "An internal error occurred."},
            )
            return mode

        def _request_to_pay(self) -> None:
            raw = self._body()
            if not self._bearer_ok() or not self._environment_ok():
                return
            mode = self._failure()
            if mode not in ("none", "accept_then_timeout"):
                return
            reference_id = self.headers.get("X-Reference-Id", "")
            try:
                uuid.UUID(reference_id)
            except ValueError:
                self._reply(400, {"code": "INVALID_REFERENCE_ID", "message": "X-Reference-Id must be a UUID."})
                return
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                body = None
            problem = _request_error(body)
            if problem:
                self._reply(400, {"code": "INVALID_PARAMETER", "message": problem})
                return
            request = FakeRequest(
                reference_id=reference_id,
                amount=body["amount"],
                currency=body["currency"],
                external_id=body.get("externalId", ""),
                payer=body["payer"],
                payer_message=body.get("payerMessage", ""),
                payee_note=body.get("payeeNote", ""),
                callback_url=self.headers.get("X-Callback-Url", ""),
                target_environment=self.headers.get("X-Target-Environment", ""),
                received_at=datetime.datetime.now(datetime.UTC).isoformat(),
            )
            if not fake._store(request):
                self._reply(
                    409,
                    {
                        "code": "RESOURCE_ALREADY_EXIST",
                        "message": "Duplicated reference id. Creation of resource failed.",
                    },
                )
                return
            if mode == "accept_then_timeout":
                # MTN took the request, but the answer never reaches the caller.
                fake._stopping.wait(fake._failure_delay)
                self._reply(504, "Gateway Timeout", "text/plain")
                return
            self._reply(202)

        def _status(self, reference_id: str) -> None:
            if not self._bearer_ok() or not self._environment_ok():
                return
            mode = self._failure()
            if mode == "accept_then_timeout":  # a status request has nothing to accept: it just times out
                fake._stopping.wait(fake._failure_delay)
                self._reply(504, "Gateway Timeout", "text/plain")
                return
            if mode != "none":
                return
            body = fake._status_body(reference_id)
            if body is None:
                self._reply(404, {"code": "RESOURCE_NOT_FOUND", "message": "Requested resource was not found."})
                return
            self._reply(200, body)

        # The fake's own controls.

        def _settle(self) -> None:
            payload = self._json_body()
            if not isinstance(payload, dict) or not payload.get("referenceId"):
                self._reply(400, {"error": "give the referenceId of a request, and a status"})
                return
            reason = payload.get("reason")
            if not isinstance(reason, dict):
                reason = {}
            try:
                callback_status = fake.settle(
                    str(payload["referenceId"]),
                    str(payload.get("status", SUCCESSFUL)),
                    reason_code=str(reason.get("code", "")),
                    reason_message=str(reason.get("message", "")),
                    callback=bool(payload.get("callback", True)),
                )
            except KeyError:
                self._reply(404, {"error": "no such request"})
                return
            except httpx.HTTPError as error:
                self._reply(502, {"error": f"settled, but the callback failed: {error}"})
                return
            self._reply(200, {"settled": payload["referenceId"], "callback_status": callback_status})

        def _callback(self) -> None:
            payload = self._json_body()
            if not isinstance(payload, dict) or not payload.get("referenceId"):
                self._reply(400, {"error": "give the referenceId of a request"})
                return
            overrides = payload.get("overrides") if isinstance(payload.get("overrides"), dict) else {}
            try:
                status = fake.send_callback(
                    str(payload["referenceId"]), url=str(payload.get("url", "")), overrides=overrides
                )
            except KeyError:
                self._reply(404, {"error": "no such request"})
                return
            except (ValueError, httpx.HTTPError) as error:
                self._reply(502, {"error": str(error)})
                return
            self._reply(200, {"callback_status": status})

    return Handler
