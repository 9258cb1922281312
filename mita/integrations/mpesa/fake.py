"""A fake Daraja on loopback: token, C2B URL registration, STK push and its query as the real one, and Safaricom's
side too: it POSTs C2B validations and confirmations to the registered URLs and STK results to each push's CallBackURL
(unless told to drop them, as a lost callback).

Protocol endpoints (as the real Daraja, see docs/mpesa.md):
  GET  /oauth/v1/generate?grant_type=client_credentials   Basic consumer key:secret (400 if wrong)
  POST /mpesa/c2b/v1/registerurl          Bearer token (401 if unknown); stores the shortcode's URLs
  POST /mpesa/stkpush/v1/processrequest   Bearer token; checks every field and the Password against the
                                          shortcode's passkey; the result is POSTed to CallBackURL later
  POST /mpesa/stkpushquery/v1/query       Bearer token; checks the Password; answers the push's stored result
                                          ({"ResultCode": "0"|"1032"|...}), or HTTP 500 errorCode 500.001.1001 "The
                                          transaction is being processed" while the customer has not answered
Inspection and control (the fake's own, for tests and the demo):
  GET  /__state                   {"registrations": [...], "stk_pushes": [...], "c2b": [...]}
  POST /__c2b                     {"ShortCode", "BillRefNumber", "Amount", "MSISDN"?, "TransID"?}: a customer pays
                                  the paybill; the fake validates and confirms as Safaricom does, returns what happened
  POST /__stk/complete            {"CheckoutRequestID", "ResultCode": 0|1032|..., "MpesaReceiptNumber"?,
                                  "Deliver"?: false}: the customer answers the prompt; the result is stored (the
                                  query answers it) and POSTed to the push's CallBackURL unless "Deliver" is false
                                  or the fake drops STK callbacks
  POST /__fail                    {"mode": "http500"|"timeout"|"garbage"|"token_expired"|"none", "count": N,
                                  "delay": seconds} the next N protocol requests fail (N < 0: until told otherwise)
  POST /__reset                   forgets registrations, pushes, payments and failures
"""

import base64
import binascii
import dataclasses
import itertools
import json
import logging
import re
import secrets
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from mita.core.fakes import LoopbackFake, LoopbackHandler
from mita.integrations.mpesa.protocol import (
    OAUTH_PATH,
    REGISTER_URL_PATH,
    RESPONSE_TYPES,
    STK_PUSH_PATH,
    STK_QUERY_PATH,
    STK_SUCCESS,
    VALIDATION_ACCEPTED,
    PayloadError,
    c2b_payload,
    forbidden_url_words,
    parse_amount,
    password,
    stk_callback_payload,
    stk_query_reply,
    transaction_id,
)

logger = logging.getLogger(__name__)

FAILURE_MODES = frozenset({"http500", "timeout", "garbage", "token_expired", "none"})
# Safaricom's public sandbox pair; the fake knows it so that a demo configured for the sandbox works here too.
SANDBOX_SHORTCODE = "174379"
SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"  # Safaricom publishes it
KENYAN_MSISDN = re.compile(r"2547\d{8}|2541\d{8}", re.ASCII)
STAMP = re.compile(r"\d{14}", re.ASCII)
TOKEN_SECONDS = 3599


@dataclasses.dataclass(frozen=True)
class Registration:
    shortcode: str
    confirmation_url: str
    validation_url: str
    response_type: str


@dataclasses.dataclass
class FakeStkPush:
    merchant_request_id: str
    checkout_request_id: str
    shortcode: str
    amount: Decimal
    phone: str
    callback_url: str
    account_reference: str
    description: str
    result_code: int | None = None
    result_desc: str = ""
    receipt: str = ""
    queries: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "amount": str(self.amount)}


@dataclasses.dataclass(frozen=True)
class Delivery:
    """What our endpoint answered a callback: status 0 if it could not be reached."""

    status: int
    body: Any


# What stk_complete returns when the result callback is not sent (a callback Safaricom lost).
DROPPED = Delivery(0, "not delivered: the fake dropped the STK result callback")


@dataclasses.dataclass(frozen=True)
class C2BOutcome:
    """A customer's paybill payment as the fake played it: completed or refused, and what each URL answered."""

    payload: dict[str, Any]
    validation: Delivery | None
    confirmation: Delivery | None
    completed: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "payload": self.payload,
            "validation": dataclasses.asdict(self.validation) if self.validation else None,
            "confirmation": dataclasses.asdict(self.confirmation) if self.confirmation else None,
            "completed": self.completed,
        }


class FakeDaraja(LoopbackFake):
    """Serve the fake in a background thread: `with FakeDaraja() as daraja: ... daraja.base_url ...`."""

    failure_modes = FAILURE_MODES
    thread_name = "fake-daraja"

    def __init__(
        self,
        *,
        consumer_key: str = "fake-consumer-key",
        consumer_secret: str = "fake-consumer-secret",  # noqa: S107 - the fake's own, the default of the settings
        passkeys: dict[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        stk_result: int | None = None,
        stk_delay: float = 0.5,
        external_validation: bool = True,
        callback_timeout: float = 10.0,
        stk_callbacks: bool = True,
    ) -> None:
        super().__init__(handler=_handler_for(self), host=host, port=port)
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.passkeys = {SANDBOX_SHORTCODE: SANDBOX_PASSKEY, **(passkeys or {})}
        self.stk_result = stk_result  # answer every push by itself after stk_delay seconds (None: wait to be told)
        self.stk_delay = stk_delay
        self.external_validation = external_validation  # Safaricom validates only where the shortcode asked for it
        self.callback_timeout = callback_timeout
        # False plays Safaricom losing every STK result callback: the result is only known to the query.
        self.stk_callbacks = stk_callbacks
        self._tokens: set[str] = set()
        self._registrations: dict[str, Registration] = {}
        self._pushes: dict[str, FakeStkPush] = {}
        self._c2b: list[C2BOutcome] = []
        self._balances: dict[str, Decimal] = {}
        self._serial = itertools.count(1)

    # What the tests and the demo use directly.

    @property
    def registrations(self) -> dict[str, Registration]:
        with self._lock:
            return dict(self._registrations)

    @property
    def stk_pushes(self) -> list[FakeStkPush]:
        with self._lock:
            return [dataclasses.replace(push) for push in self._pushes.values()]

    @property
    def c2b_payments(self) -> list[C2BOutcome]:
        with self._lock:
            return list(self._c2b)

    def reset(self) -> None:
        with self._lock:
            self._tokens.clear()
            self._registrations.clear()
            self._pushes.clear()
            self._c2b.clear()
            self._balances.clear()
            self._clear_failures()

    def register(self, shortcode: str, *, confirmation_url: str, validation_url: str, response_type: str) -> None:
        with self._lock:
            self._registrations[shortcode] = Registration(shortcode, confirmation_url, validation_url, response_type)

    def c2b_payload(
        self, *, shortcode: str, bill_ref_number: str, amount: Decimal | str, msisdn: str = "", trans_id: str = ""
    ) -> dict[str, str]:
        """The body Safaricom sends for a customer paying `amount` to the paybill with this account number."""
        amount = Decimal(amount)
        with self._lock:
            balance = self._balances.get(shortcode, Decimal("0")) + amount
        return c2b_payload(
            trans_id=trans_id or transaction_id(),
            amount=amount,
            shortcode=shortcode,
            bill_ref_number=bill_ref_number,
            msisdn=msisdn or "2547*****149",
            org_account_balance=balance,
        )

    def c2b_pay(
        self,
        *,
        shortcode: str,
        bill_ref_number: str = "",
        amount: Decimal | str | None = None,
        msisdn: str = "",
        trans_id: str = "",
        payload: dict[str, Any] | None = None,
    ) -> C2BOutcome:
        """A customer pays the paybill, played as Safaricom does: the validation URL may refuse the payment (or,
        unreachable, ResponseType decides); a completed payment is then POSTed to the confirmation URL.
        Give the amount and account number, or a whole payload (as c2b_payload makes it)."""
        registration = self.registrations.get(shortcode)
        if registration is None:
            raise ValueError(f"no URLs are registered for shortcode {shortcode}")
        if payload is None:
            if amount is None:
                raise ValueError("give the amount paid, or a whole payload")
            payload = self.c2b_payload(
                shortcode=shortcode, bill_ref_number=bill_ref_number, amount=amount, msisdn=msisdn, trans_id=trans_id
            )
        validation = None
        completed = True
        if self.external_validation and registration.validation_url:
            validation = self.post(registration.validation_url, payload)
            answer = validation.body.get("ResultCode") if isinstance(validation.body, dict) else None
            if validation.status == 200 and answer is not None:
                completed = str(answer) == VALIDATION_ACCEPTED
            else:  # no usable answer: the shortcode's ResponseType decides
                completed = registration.response_type == "Completed"
        confirmation = self.post(registration.confirmation_url, payload) if completed else None
        outcome = C2BOutcome(payload=payload, validation=validation, confirmation=confirmation, completed=completed)
        with self._lock:
            self._c2b.append(outcome)
            if completed:
                self._balances[shortcode] = self._balances.get(shortcode, Decimal("0")) + Decimal(
                    str(payload.get("TransAmount", "0"))
                )
        return outcome

    def send_confirmation(self, shortcode: str, payload: dict[str, Any]) -> Delivery:
        """POST one confirmation body as it is (a replay, or one a test changed) to the registered URL."""
        return self.post(self.registrations[shortcode].confirmation_url, payload)

    def send_validation(self, shortcode: str, payload: dict[str, Any]) -> Delivery:
        return self.post(self.registrations[shortcode].validation_url, payload)

    def stk_callback_payload(
        self, checkout_request_id: str, result_code: int = STK_SUCCESS, *, receipt: str = ""
    ) -> dict[str, Any]:
        """The body Safaricom sends to the CallBackURL when the customer answers (or ignores) the prompt."""
        with self._lock:
            push = self._pushes[checkout_request_id]
            if result_code == STK_SUCCESS and not receipt:
                receipt = push.receipt or transaction_id()
            return stk_callback_payload(
                merchant_request_id=push.merchant_request_id,
                checkout_request_id=push.checkout_request_id,
                result_code=result_code,
                amount=push.amount,
                receipt=receipt,
                phone=push.phone,
            )

    def stk_complete(
        self,
        checkout_request_id: str,
        result_code: int = STK_SUCCESS,
        *,
        receipt: str = "",
        deliver: bool | None = None,
    ) -> Delivery:
        """The customer answers the prompt: the result is stored (the query answers it from now on) and POSTed to
        the push's CallBackURL, unless deliver is False (None: as the fake's stk_callbacks says): a lost callback."""
        payload = self.stk_callback_payload(checkout_request_id, result_code, receipt=receipt)
        with self._lock:
            push = self._pushes[checkout_request_id]
            push.result_code = result_code
            push.result_desc = payload["Body"]["stkCallback"]["ResultDesc"]
            items = payload["Body"]["stkCallback"].get("CallbackMetadata", {}).get("Item", [])
            push.receipt = next((i["Value"] for i in items if i["Name"] == "MpesaReceiptNumber"), "")
            url = push.callback_url
            deliver = self.stk_callbacks if deliver is None else deliver
        if not deliver:
            return DROPPED
        return self.post(url, payload)

    def stk_query_answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """What Daraja answers an STK Push Query (status, body): the push's stored result, or still processing."""
        with self._lock:
            push = self._pushes.get(str(body.get("CheckoutRequestID") or ""))
            if push is None or push.shortcode != str(body.get("BusinessShortCode")):
                return 400, _bad_request("Invalid CheckoutRequestID")
            push.queries += 1
            return stk_query_reply(
                merchant_request_id=push.merchant_request_id,
                checkout_request_id=push.checkout_request_id,
                result_code=push.result_code,
                result_desc=push.result_desc,
            )

    def post(self, url: str, payload: dict[str, Any]) -> Delivery:
        """POST JSON to one of our endpoints as Safaricom does; status 0 if it could not be reached."""
        try:
            response = httpx.post(url, json=payload, timeout=self.callback_timeout)
        except httpx.HTTPError as error:
            logger.info("fake Daraja: could not reach %s: %s", url, error)
            return Delivery(0, str(error))
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text
        return Delivery(response.status_code, body)

    # The protocol side, called from the handler threads.

    def _token_issue(self) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens.add(token)
        return token

    def _token_valid(self, header: str) -> bool:
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        with self._lock:
            return token in self._tokens

    def _tokens_expire(self) -> None:
        with self._lock:
            self._tokens.clear()

    def _stk_accept(self, request: dict[str, Any]) -> dict[str, str]:
        serial = next(self._serial)
        push = FakeStkPush(
            merchant_request_id=f"{secrets.randbelow(90000) + 10000}-{serial:08d}-1",
            checkout_request_id=f"ws_CO_{serial:06d}{secrets.token_hex(6)}",
            shortcode=str(request["BusinessShortCode"]),
            amount=Decimal(str(request["Amount"])),
            phone=str(request["PhoneNumber"]),
            callback_url=str(request["CallBackURL"]),
            account_reference=str(request["AccountReference"]),
            description=str(request["TransactionDesc"]),
        )
        with self._lock:
            self._pushes[push.checkout_request_id] = push
        if self.stk_result is not None:
            threading.Thread(
                target=self._stk_answer_later, args=(push.checkout_request_id, self.stk_result), daemon=True
            ).start()
        return {
            "MerchantRequestID": push.merchant_request_id,
            "CheckoutRequestID": push.checkout_request_id,
            "ResponseCode": "0",
            "ResponseDescription": "Success. Request accepted for processing",
            "CustomerMessage": "Success. Request accepted for processing",
        }

    def _stk_answer_later(self, checkout_request_id: str, result_code: int) -> None:
        if self._stopping.wait(self.stk_delay):
            return
        delivery = self.stk_complete(checkout_request_id, result_code)
        logger.info("fake Daraja: STK result %s for %s answered %s", result_code, checkout_request_id, delivery.status)


def _bad_request(message: str) -> dict[str, str]:
    return {"requestId": secrets.token_hex(8), "errorCode": "400.002.02", "errorMessage": f"Bad Request - {message}"}


def _stk_problem(fake: FakeDaraja, body: Any) -> str:
    """What Daraja would refuse in an STK push request; "" if nothing."""
    if not isinstance(body, dict):
        return "Invalid request body"
    for field in ("BusinessShortCode", "Password", "Timestamp", "TransactionType", "Amount", "PartyA", "PartyB"):
        if body.get(field) in (None, ""):
            return f"Invalid {field}"
    for field in ("PhoneNumber", "CallBackURL", "AccountReference", "TransactionDesc"):
        if body.get(field) in (None, ""):
            return f"Invalid {field}"
    shortcode = str(body["BusinessShortCode"])
    passkey = fake.passkeys.get(shortcode)
    if passkey is None:
        return "Invalid BusinessShortCode"
    stamp = str(body["Timestamp"])
    if not STAMP.fullmatch(stamp):
        return "Invalid Timestamp"
    if body["Password"] != password(shortcode, passkey, stamp):
        return "Invalid Password (wrong passkey or timestamp)"
    if body["TransactionType"] not in ("CustomerPayBillOnline", "CustomerBuyGoodsOnline"):
        return "Invalid TransactionType"
    amount = body["Amount"]
    if isinstance(amount, bool) or not (
        (isinstance(amount, int) and amount > 0) or (isinstance(amount, str) and amount.isdigit() and int(amount) > 0)
    ):
        return "Invalid Amount (a positive whole number)"
    for field in ("PartyA", "PhoneNumber"):
        if not KENYAN_MSISDN.fullmatch(str(body[field])):
            return f"Invalid {field} (2547XXXXXXXX or 2541XXXXXXXX)"
    if str(body["PartyB"]) != shortcode:
        return "Invalid PartyB"
    if not str(body["CallBackURL"]).startswith(("http://", "https://")):
        return "Invalid CallBackURL"
    if len(str(body["AccountReference"])) > 12:
        return "Invalid AccountReference (12 characters at most)"
    if len(str(body["TransactionDesc"])) > 13:
        return "Invalid TransactionDesc (13 characters at most)"
    return ""


def _stk_query_problem(fake: FakeDaraja, body: Any) -> str:
    """What Daraja would refuse in an STK Push Query request; "" if nothing."""
    if not isinstance(body, dict):
        return "Invalid request body"
    for field in ("BusinessShortCode", "Password", "Timestamp", "CheckoutRequestID"):
        if body.get(field) in (None, ""):
            return f"Invalid {field}"
    shortcode = str(body["BusinessShortCode"])
    passkey = fake.passkeys.get(shortcode)
    if passkey is None:
        return "Invalid BusinessShortCode"
    stamp = str(body["Timestamp"])
    if not STAMP.fullmatch(stamp):
        return "Invalid Timestamp"
    if body["Password"] != password(shortcode, passkey, stamp):
        return "Invalid Password (wrong passkey or timestamp)"
    return ""


def _register_problem(body: Any) -> str:
    if not isinstance(body, dict):
        return "Invalid request body"
    if not str(body.get("ShortCode") or "").strip():
        return "Invalid ShortCode"
    if body.get("ResponseType") not in RESPONSE_TYPES:
        return "Invalid ResponseType (Completed or Cancelled, in sentence case)"
    for field in ("ConfirmationURL", "ValidationURL"):
        url = body.get(field)
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return f"Invalid {field}"
        if forbidden_url_words(url):
            return f"Invalid {field} (it holds a forbidden word: {', '.join(forbidden_url_words(url))})"
    return ""


def _handler_for(fake: FakeDaraja) -> type[BaseHTTPRequestHandler]:
    class Handler(LoopbackHandler):
        fake_label = "fake Daraja"
        server_version = "FakeDaraja/1"

        def _json_body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                return json.loads(raw or b"null")
            except ValueError:
                return None

        def _failed(self, *, api: bool) -> bool:
            """Play an injected failure for this protocol request; True if one was played."""
            with fake._lock:
                if fake._failure_mode == "token_expired" and not api:
                    return False  # a token request is not a call with a token
            mode, delay = fake._take_failure()
            if mode == "none":
                return False
            if self._play_common_failure(
                fake,
                mode,
                delay,
                server_error={"requestId": "", "errorCode": "500.003.02", "errorMessage": "System is busy"},
                garbage=b"<html><body>Service temporarily unavailable</body></html>",
            ):
                return True
            if mode == "token_expired":
                fake._tokens_expire()
                self._invalid_token()
            return True

        def _invalid_token(self) -> None:
            self._reply(401, {"requestId": "", "errorCode": "404.001.03", "errorMessage": "Invalid Access Token"})

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == OAUTH_PATH:
                self._oauth(parse_qs(parts.query))
            elif parts.path == "/__state":
                self._reply(
                    200,
                    {
                        "registrations": [dataclasses.asdict(r) for r in fake.registrations.values()],
                        "stk_pushes": [push.as_dict() for push in fake.stk_pushes],
                        "c2b": [outcome.as_dict() for outcome in fake.c2b_payments],
                    },
                )
            else:
                self._reply(404, {"errorCode": "404.001.01", "errorMessage": "Resource not found"})

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            body = self._json_body()
            if path in (REGISTER_URL_PATH, STK_PUSH_PATH, STK_QUERY_PATH):
                if not fake._token_valid(self.headers.get("Authorization", "")):
                    self._invalid_token()
                elif self._failed(api=True):
                    pass
                elif path == REGISTER_URL_PATH:
                    self._register(body)
                elif path == STK_PUSH_PATH:
                    self._stk_push(body)
                else:
                    self._stk_query(body)
            elif path == "/__c2b":
                self._c2b(body)
            elif path == "/__stk/complete":
                self._stk_complete(body)
            elif path == "/__fail":
                self._fail_from(fake, body)
            elif path == "/__reset":
                fake.reset()
                self._reply(200, {"reset": True})
            else:
                self._reply(404, {"errorCode": "404.001.01", "errorMessage": "Resource not found"})

        def _oauth(self, query: dict[str, list[str]]) -> None:
            if self._failed(api=False):
                return
            if query.get("grant_type") != ["client_credentials"]:
                self._reply(400, {"errorCode": "400.008.02", "errorMessage": "Invalid grant type passed"})
                return
            header = self.headers.get("Authorization", "")
            try:
                key, _, secret = base64.b64decode(header.removeprefix("Basic "), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                key, secret = "", ""
            if not header.startswith("Basic ") or (key, secret) != (fake.consumer_key, fake.consumer_secret):
                self._reply(400, {"errorCode": "400.008.01", "errorMessage": "Invalid Authentication passed"})
                return
            self._reply(200, {"access_token": fake._token_issue(), "expires_in": str(TOKEN_SECONDS)})

        def _register(self, body: Any) -> None:
            if problem := _register_problem(body):
                self._reply(400, _bad_request(problem))
                return
            fake.register(
                str(body["ShortCode"]).strip(),
                confirmation_url=body["ConfirmationURL"],
                validation_url=body["ValidationURL"],
                response_type=body["ResponseType"],
            )
            self._reply(
                200,
                {
                    "OriginatorCoversationID": secrets.token_hex(8),  # sic: Daraja's own spelling
                    "ResponseCode": "0",
                    "ResponseDescription": "Success",
                },
            )

        def _stk_push(self, body: Any) -> None:
            if problem := _stk_problem(fake, body):
                self._reply(400, _bad_request(problem))
                return
            self._reply(200, fake._stk_accept(body))

        def _stk_query(self, body: Any) -> None:
            if problem := _stk_query_problem(fake, body):
                self._reply(400, _bad_request(problem))
                return
            self._reply(*fake.stk_query_answer(body))

        def _c2b(self, body: Any) -> None:
            if not isinstance(body, dict):
                self._reply(400, {"error": "send a JSON object"})
                return
            shortcode = str(body.get("ShortCode") or "")
            if shortcode not in fake.registrations:
                self._reply(400, {"error": f"no URLs are registered for shortcode {shortcode!r}"})
                return
            try:
                amount = parse_amount(body.get("Amount"), "Amount")
            except PayloadError as error:
                self._reply(400, {"error": str(error)})
                return
            outcome = fake.c2b_pay(
                shortcode=shortcode,
                bill_ref_number=str(body.get("BillRefNumber") or ""),
                amount=amount,
                msisdn=str(body.get("MSISDN") or ""),
                trans_id=str(body.get("TransID") or ""),
            )
            self._reply(200, outcome.as_dict())

        def _stk_complete(self, body: Any) -> None:
            checkout_id = body.get("CheckoutRequestID") if isinstance(body, dict) else None
            if not any(push.checkout_request_id == checkout_id for push in fake.stk_pushes):
                self._reply(404, {"error": f"no STK push {checkout_id!r}"})
                return
            try:
                result_code = int(body.get("ResultCode", STK_SUCCESS))
            except (TypeError, ValueError):
                self._reply(400, {"error": "ResultCode must be a whole number"})
                return
            deliver = body.get("Deliver")
            if deliver is not None and not isinstance(deliver, bool):
                self._reply(400, {"error": "Deliver must be true or false"})
                return
            delivery = fake.stk_complete(
                str(checkout_id), result_code, receipt=str(body.get("MpesaReceiptNumber") or ""), deliver=deliver
            )
            self._reply(200, {"callback": dataclasses.asdict(delivery)})

    return Handler
