"""A hosted-checkout payment gateway over HTTP, modelled on Flutterwave Standard (API v3).

The protocol (docs/online-payments.md, https://developer.flutterwave.com/docs/flutterwave-standard-1):
  POST {base}/v3/payments                       Bearer secret key; body tx_ref (ours, unique), amount, currency,
       redirect_url, customer {email, phonenumber, name}, customizations {title, description}, session_duration,
       meta. 200 {"status": "success", "message": "Hosted Link", "data": {"link": <the checkout page>}}
  GET  {base}/v3/transactions/{id}/verify       the transaction as the gateway knows it:
       200 {"status": "success", "data": {"id", "tx_ref", "flw_ref", "amount", "currency", "charged_amount",
       "status": "successful"|"failed"|"pending", "processor_response", "customer": {...}, ...}}
       400 {"status": "error", "message": "No transaction was found for this id", "data": null}
  GET  {base}/v3/transactions/verify_by_reference?tx_ref=...   the same, found by our reference
  The webhook: POST to the URL set in the merchant's dashboard, header `verif-hash: <the secret hash set there>`,
       body {"event": "charge.completed", "data": {...the verify answer's data...}}. Only a hint: verify it.
  The redirect: the customer's browser comes back to redirect_url?status=successful|failed|cancelled&tx_ref=...
       &transaction_id=... (no transaction_id when cancelled). Only a hint too.
Every failure surfaces as GatewayError with a kind:

  unreachable       no connection, no answer in time, or a server error (5xx, 429): worth trying again later
  refused           the gateway refused our secret key (401, 403)
  rejected          the gateway refused the request itself (400): not worth repeating as it is
  not_found         the gateway has no such transaction ("No transaction was found ...")
  invalid_response  any other status, a body that is not JSON, or JSON of the wrong shape
"""

import dataclasses
import hmac
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import httpx

from mita.integrations.responses import excerpt

PAYMENTS_PATH = "/v3/payments"
VERIFY_PATH = "/v3/transactions/{id}/verify"
VERIFY_BY_REFERENCE_PATH = "/v3/transactions/verify_by_reference"
WEBHOOK_HASH_HEADER = "verif-hash"
CHARGE_COMPLETED = "charge.completed"

SUCCESSFUL = "successful"
PENDING = "pending"
# Flutterwave's transactions end "successful" or "failed"; "cancelled" is what the redirect says when the customer
# left the checkout, and some payment types report it on the transaction too. Both are final failures.
FAILED_STATUSES = frozenset({"failed", "cancelled"})
STATUSES = FAILED_STATUSES | {SUCCESSFUL, PENDING}
NOT_FOUND_MESSAGE = re.compile(r"no transaction (was )?found", re.IGNORECASE)
CURRENCY = re.compile(r"[A-Z]{3}", re.ASCII)
# tx_ref: Flutterwave takes any unique string; Mita's are short, URL-safe and never need quoting.
REFERENCE = re.compile(r"[A-Za-z0-9_.:-]{1,100}", re.ASCII)
TRANSACTION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)
MAX_SESSION_MINUTES = 1440


class GatewayError(Exception):
    """The gateway could not be used; kind is one of the module's kinds, status_code the HTTP status if it
    answered."""

    def __init__(self, message: str, *, kind: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status_code = status_code


@dataclasses.dataclass(frozen=True)
class Checkout:
    """A hosted checkout made for one payment: the page the customer pays on, and its id at the gateway (the last
    part of Flutterwave's hosted link; shown to staff, never used to verify anything)."""

    url: str
    gateway_id: str


@dataclasses.dataclass(frozen=True)
class Transaction:
    """A transaction as the gateway reports it (the verify answer, or a webhook's data); raw is the JSON received."""

    transaction_id: str
    reference: str
    status: str
    amount: Decimal
    currency: str
    gateway_reference: str
    charged_amount: Decimal | None
    processor_response: str
    payment_type: str
    customer_phone: str
    raw: dict[str, Any]

    @property
    def is_successful(self) -> bool:
        return self.status == SUCCESSFUL

    @property
    def is_failed(self) -> bool:
        return self.status in FAILED_STATUSES

    @property
    def is_pending(self) -> bool:
        return self.status == PENDING


@dataclasses.dataclass(frozen=True)
class WebhookEvent:
    """What a webhook claims: which transaction (id) of which checkout (tx_ref) it is about. Nothing else in it is
    to be trusted; amount and status are kept only for the logs."""

    event: str
    transaction_id: str
    reference: str
    status: str
    amount: Decimal | None
    currency: str
    raw: dict[str, Any]


def amount_text(amount: Decimal) -> str:
    """An amount as the checkout request carries it: a string of digits, with a decimal point only for cents."""
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise ValueError("a gateway amount is a positive Decimal")
    if amount == amount.to_integral_value():
        return str(int(amount))
    return format(amount.normalize(), "f")


def verif_hash_matches(received: str | None, secret_hash: str) -> bool:
    """Whether a webhook's verif-hash header is the secret hash (compared in constant time; an empty secret hash
    matches nothing)."""
    if not secret_hash or received is None:
        return False
    return hmac.compare_digest(received.encode(), secret_hash.encode())


class FlutterwaveClient:
    """Flutterwave Standard: a hosted checkout per payment, and the verification of its transactions."""

    def __init__(
        self,
        *,
        base_url: str,
        secret_key: str,
        timeout: float = 10.0,
        placeholder_email_domain: str = "customers.mita.invalid",
        session_minutes: int | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """session_minutes: how long a checkout page takes payments, unless a checkout says otherwise (None: the
        gateway's default)."""
        self.base_url = base_url.rstrip("/")
        self.secret_key = secret_key
        self.timeout = timeout
        self.placeholder_email_domain = placeholder_email_domain
        self.session_minutes = session_minutes
        self.transport = transport

    def checkout_create(
        self,
        *,
        reference: str,
        amount: Decimal,
        currency: str,
        customer_phone: str,
        redirect_url: str,
        title: str = "",
        description: str = "",
        customer_name: str = "",
        customer_email: str = "",
        session_minutes: int | None = None,
        meta: dict[str, str] | None = None,
    ) -> Checkout:
        """Make the hosted checkout page for one payment; the customer is sent to Checkout.url to pay.

        Flutterwave wants the customer's e-mail: without one, the phone's digits at placeholder_email_domain stand
        in for it (Mita knows its customers by phone)."""
        if not REFERENCE.fullmatch(reference or ""):
            raise ValueError("a reference is 1 to 100 letters, digits and _ . : -")
        if not CURRENCY.fullmatch(currency or ""):
            raise ValueError("a currency is an ISO 4217 code such as RWF")
        if not redirect_url.startswith(("http://", "https://")):
            raise ValueError("the redirect URL is an absolute http(s) URL")
        if session_minutes is None:
            session_minutes = self.session_minutes
        if session_minutes is not None and not 1 <= session_minutes <= MAX_SESSION_MINUTES:
            raise ValueError(f"a checkout session lasts 1 to {MAX_SESSION_MINUTES} minutes")
        digits = "".join(character for character in customer_phone if character.isdigit())
        customer: dict[str, str] = {
            "email": customer_email or f"{digits or 'customer'}@{self.placeholder_email_domain}",
            "phonenumber": customer_phone,
        }
        if customer_name:
            customer["name"] = customer_name
        body: dict[str, Any] = {
            "tx_ref": reference,
            "amount": amount_text(amount),
            "currency": currency,
            "redirect_url": redirect_url,
            "customer": customer,
            "customizations": {"title": title, "description": description},
        }
        if session_minutes is not None:
            body["session_duration"] = session_minutes
        if meta:
            body["meta"] = meta
        response = self._send("POST", self.base_url + PAYMENTS_PATH, content=json.dumps(body))
        if response.status_code != 200:
            raise _status_error(response, "creating the checkout")
        data = _success_data(response, "creating the checkout")
        link = data.get("link") if isinstance(data, dict) else None
        if not isinstance(link, str) or not link.startswith(("http://", "https://")):
            raise GatewayError(
                f"the gateway answered the checkout without a link: {excerpt(response.text)}",
                kind="invalid_response",
                status_code=response.status_code,
            )
        return Checkout(url=link, gateway_id=urlsplit(link).path.rstrip("/").rsplit("/", 1)[-1])

    def transaction_verify(self, transaction_id: str) -> Transaction:
        """The transaction with this id, as the gateway knows it; GatewayError(kind="not_found") if it has none."""
        transaction_id = str(transaction_id).strip()
        if not TRANSACTION_ID.fullmatch(transaction_id):
            raise ValueError(f"a transaction id is letters and digits, not {transaction_id!r}")
        response = self._send("GET", self.base_url + VERIFY_PATH.format(id=transaction_id))
        transaction = self._transaction(response, "verifying a transaction")
        if transaction.transaction_id != transaction_id:
            raise GatewayError(
                f"asked for transaction {transaction_id}, the gateway answered with {transaction.transaction_id}",
                kind="invalid_response",
                status_code=response.status_code,
            )
        return transaction

    def transaction_verify_by_reference(self, reference: str) -> Transaction:
        """The transaction made on the checkout with this reference (tx_ref); GatewayError(kind="not_found") if the
        customer has not paid, or even tried, yet."""
        if not REFERENCE.fullmatch(reference or ""):
            raise ValueError("a reference is 1 to 100 letters, digits and _ . : -")
        response = self._send("GET", self.base_url + VERIFY_BY_REFERENCE_PATH, params={"tx_ref": reference})
        transaction = self._transaction(response, "verifying a transaction by its reference")
        if transaction.reference != reference:
            raise GatewayError(
                f"asked for reference {reference}, the gateway answered with {transaction.reference}",
                kind="invalid_response",
                status_code=response.status_code,
            )
        return transaction

    # HTTP.

    def _transaction(self, response: httpx.Response, doing: str) -> Transaction:
        if response.status_code != 200:
            raise _status_error(response, doing)
        data = _success_data(response, doing)
        try:
            return parse_transaction(data)
        except (KeyError, TypeError, ValueError) as error:
            raise GatewayError(
                f"the gateway answered JSON of an unexpected shape {doing} ({error}): {excerpt(response.text)}",
                kind="invalid_response",
                status_code=response.status_code,
            ) from error

    def _send(
        self, method: str, url: str, *, content: str | None = None, params: dict[str, str] | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.secret_key}", "Accept": "application/json"}
        if content is not None:
            headers["Content-Type"] = "application/json"
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as http:
                return http.request(method, url, headers=headers, content=content, params=params)
        except httpx.TimeoutException as error:
            raise GatewayError(
                f"no answer from the payment gateway within {self.timeout:g}s ({type(error).__name__})",
                kind="unreachable",
            ) from error
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            raise GatewayError(
                f"could not reach the payment gateway at {url}: {error or type(error).__name__}", kind="unreachable"
            ) from error


# Reading what the gateway sends ----------------------------------------------------------------------------------


def loads(raw: bytes | str) -> Any:
    """JSON with every number read as a Decimal (money never passes through a float); ValueError if it is not JSON."""
    try:
        return json.loads(raw, parse_float=Decimal, parse_int=Decimal, parse_constant=_no_constant)
    except RecursionError as error:
        raise ValueError("the JSON is nested too deeply") from error


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def parse_transaction(data: Any) -> Transaction:
    """A transaction from the gateway's JSON (the verify answer's data, or a webhook's); raises KeyError,
    TypeError or ValueError if the JSON is not of that shape."""
    if not isinstance(data, dict):
        raise TypeError("the transaction is not an object")
    status = _text(data.get("status"), "status", required=True).lower()
    if status not in STATUSES:
        raise ValueError(f"status {status!r} is not one of {sorted(STATUSES)}")
    customer = data.get("customer") or {}
    if not isinstance(customer, dict):
        raise TypeError("customer is not an object")
    charged = data.get("charged_amount")
    return Transaction(
        transaction_id=_identifier(data.get("id"), "id"),
        reference=_text(data.get("tx_ref"), "tx_ref", required=True),
        status=status,
        amount=_amount(data.get("amount"), "amount"),
        currency=_text(data.get("currency"), "currency", required=True).upper(),
        gateway_reference=_text(data.get("flw_ref"), "flw_ref"),
        charged_amount=None if charged is None else _amount(charged, "charged_amount", positive=False),
        processor_response=_text(data.get("processor_response"), "processor_response"),
        payment_type=_text(data.get("payment_type"), "payment_type"),
        customer_phone=_text(customer.get("phone_number"), "customer phone_number"),
        raw=data,
    )


def parse_webhook(body: Any) -> WebhookEvent:
    """The claims of a webhook body; ValueError if it names no transaction and no checkout."""
    if not isinstance(body, dict):
        raise ValueError("the body is not a JSON object")
    data = body.get("data")
    if not isinstance(data, dict):
        raise ValueError("the body has no data object")
    try:
        transaction_id = _identifier(data.get("id"), "data.id") if data.get("id") not in (None, "") else ""
        reference = _text(data.get("tx_ref"), "data.tx_ref")
        event = _text(body.get("event") or body.get("type"), "event")
        status = _text(data.get("status"), "data.status").lower()
        currency = _text(data.get("currency"), "data.currency").upper()
    except (TypeError, ValueError) as error:
        raise ValueError(str(error)) from None
    if not transaction_id and not reference:
        raise ValueError("the body names neither a transaction (data.id) nor a checkout (data.tx_ref)")
    if transaction_id and not TRANSACTION_ID.fullmatch(transaction_id):
        raise ValueError("data.id is not a transaction id")
    if reference and not REFERENCE.fullmatch(reference):
        raise ValueError("data.tx_ref is not a reference")
    try:
        amount: Decimal | None = _amount(data.get("amount"), "data.amount", positive=False)
    except (TypeError, ValueError):
        amount = None  # only logged: a webhook's amount is never used
    return WebhookEvent(
        event=event,
        transaction_id=transaction_id,
        reference=reference,
        status=status,
        amount=amount,
        currency=currency,
        raw=body,
    )


def _identifier(value: Any, field: str) -> str:
    if isinstance(value, bool):
        raise TypeError(f"{field} is not an id")
    if isinstance(value, Decimal | int) and value == int(value) and value > 0:
        return str(int(value))
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise ValueError(f"{field} is missing or not an id")


def _amount(value: Any, field: str, *, positive: bool = True) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise TypeError(f"{field} is not a number")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as error:
        raise ValueError(f"{field} {value!r} is not a number") from error
    if not amount.is_finite() or amount < 0 or (positive and amount == 0):
        raise ValueError(f"{field} {value!r} is not a positive number")
    return amount


def _text(value: Any, field: str, *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise TypeError(f"{field} is not a string")
    value = value.strip()
    if required and not value:
        raise ValueError(f"{field} is empty")
    return value


def _json(response: httpx.Response) -> Any:
    try:
        return loads(response.content)
    except ValueError as error:
        raise GatewayError(
            f"the payment gateway answered something that is not JSON: {excerpt(response.text)}",
            kind="invalid_response",
            status_code=response.status_code,
        ) from error


def _success_data(response: httpx.Response, doing: str) -> Any:
    body = _json(response)
    if not isinstance(body, dict) or body.get("status") != "success":
        message = body.get("message") if isinstance(body, dict) else None
        raise GatewayError(
            f"the payment gateway did not say success {doing}: {message or excerpt(response.text)}",
            kind="invalid_response",
            status_code=response.status_code,
        )
    return body.get("data")


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except (ValueError, RecursionError):
        return ""
    message = body.get("message") if isinstance(body, dict) else None
    return message if isinstance(message, str) else ""


def _status_error(response: httpx.Response, doing: str) -> GatewayError:
    status = response.status_code
    message = _message(response)
    detail = message or excerpt(response.text)
    if status in (400, 404) and NOT_FOUND_MESSAGE.search(message):
        return GatewayError(
            f"the payment gateway has no such transaction: {message}", kind="not_found", status_code=status
        )
    if status in (401, 403):
        return GatewayError(
            f"the payment gateway refused our secret key {doing} (HTTP {status}): {detail}",
            kind="refused",
            status_code=status,
        )
    if status == 400:
        return GatewayError(
            f"the payment gateway refused the request {doing} (HTTP 400): {detail}", kind="rejected", status_code=status
        )
    if status >= 500 or status == 429:
        return GatewayError(
            f"the payment gateway is not available {doing} (HTTP {status}): {detail}",
            kind="unreachable",
            status_code=status,
        )
    return GatewayError(
        f"the payment gateway answered HTTP {status} {doing}: {detail}", kind="invalid_response", status_code=status
    )
