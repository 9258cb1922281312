"""A fake hosted-checkout gateway (Flutterwave Standard v3) on loopback: checkouts, a checkout page a test or a person
can pay on, webhooks, verification, and failures.

Protocol endpoints (as the real API, see docs/online-payments.md):
  POST /v3/payments                            Bearer secret key; 200 {"status": "success", "data": {"link"}};
                                               400 if the body is wrong, 401 for another key
  GET  /v3/transactions/{id}/verify            200 the transaction; 400 "No transaction was found for this id"
  GET  /v3/transactions/verify_by_reference    ?tx_ref=: the latest transaction of that checkout, or the same 400
  GET  /v3/hosted/pay/{checkout id}            the checkout page (HTML): pay, decline or cancel
  POST /v3/hosted/pay/{checkout id}            outcome=successful|failed|cancelled: makes the transaction (none for
                                               cancelled), sends the webhook, and redirects (303) the browser to
                                               redirect_url?status=...&tx_ref=...&transaction_id=...
The webhook goes to the merchant account's webhook URL (its "dashboard" setting) with the header verif-hash set to
the account's secret hash; body {"event": "charge.completed", "data": <the transaction>, "event.type": ...}. It is
sent once, before the redirect.
Inspection and control (the fake's own, for tests and the demo):
  GET  /__checkouts                            {"checkouts": [...]} every checkout made, oldest first
  GET  /__transactions                         {"transactions": [...]}
  POST /__pay                                  {"tx_ref", "status": "successful"|"failed", "amount", "webhook": true}
                                               the customer pays (or fails to) without a browser
  POST /__webhook                              {"transaction_id", "overrides": {...}, "url", "secret_hash"} send a
                                               transaction's webhook again, changed as a liar would
  POST /__dashboard                            {"secret_key", "webhook_url", "secret_hash"} a merchant's settings
  POST /__fail                                 {"mode": "http500"|"timeout"|"garbage"|"accept_then_timeout"|"none",
                                               "count": N, "delay": seconds} the next N API calls fail
  POST /__reset                                forgets checkouts, transactions and failures
"""

import copy
import dataclasses
import datetime
import html
import json
import logging
import re
import secrets
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx

from mita.core.fakes import LoopbackFake, LoopbackHandler
from mita.integrations.gateway.client import (
    CHARGE_COMPLETED,
    PAYMENTS_PATH,
    SUCCESSFUL,
    VERIFY_BY_REFERENCE_PATH,
    WEBHOOK_HASH_HEADER,
)

logger = logging.getLogger(__name__)

FAILURE_MODES = frozenset({"http500", "timeout", "garbage", "accept_then_timeout", "none"})
DEFAULT_SECRET_KEY = "FLWSECK_TEST-fake-gateway-secret-key"  # noqa: S105 - the fake's own key, the demo's default
HOSTED_PATH = "/v3/hosted/pay/"
VERIFY = re.compile(r"/v3/transactions/([^/]+)/verify")
CURRENCY = re.compile(r"[A-Z]{3}", re.ASCII)
OUTCOMES = ("successful", "failed", "cancelled")
DEFAULT_SESSION_MINUTES = 1440
NOT_FOUND = {"status": "error", "message": "No transaction was found for this id", "data": None}

# Given a checkout, the webhook URL and secret hash of the merchant it belongs to (None: no webhook).
WebhookTarget = Callable[["FakeCheckout"], tuple[str, str] | None]


def json_bytes(body: Any) -> bytes:
    """JSON with Decimals written as JSON numbers, exactly (the gateway sends amounts as numbers)."""
    numbers: dict[str, str] = {}

    def mark(value: Any) -> Any:
        if isinstance(value, Decimal):
            key = f"\x00{len(numbers)}\x00"
            numbers[key] = format(value, "f")
            return key
        if isinstance(value, dict):
            return {name: mark(item) for name, item in value.items()}
        if isinstance(value, list):
            return [mark(item) for item in value]
        return value

    text = json.dumps(mark(body))
    for key, number in numbers.items():
        text = text.replace(json.dumps(key), number)
    return text.encode()


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclasses.dataclass
class FakeCheckout:
    checkout_id: str
    secret_key: str
    tx_ref: str
    amount: Decimal
    currency: str
    redirect_url: str
    customer: dict[str, Any]
    customizations: dict[str, Any]
    meta: dict[str, Any]
    session_minutes: int
    created_at: datetime.datetime
    transaction_ids: list[str] = dataclasses.field(default_factory=list)
    status: str = "open"  # open, paid, cancelled

    def expired(self, now: datetime.datetime | None = None) -> bool:
        now = now or datetime.datetime.now(datetime.UTC)
        return now > self.created_at + datetime.timedelta(minutes=self.session_minutes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "checkout_id": self.checkout_id,
            "tx_ref": self.tx_ref,
            "amount": str(self.amount),
            "currency": self.currency,
            "redirect_url": self.redirect_url,
            "customer": copy.deepcopy(self.customer),
            "customizations": copy.deepcopy(self.customizations),
            "meta": copy.deepcopy(self.meta),
            "session_duration": self.session_minutes,
            "created_at": self.created_at.isoformat(),
            "transactions": list(self.transaction_ids),
            "status": self.status,
        }


@dataclasses.dataclass
class FakeTransaction:
    transaction_id: str
    checkout_id: str
    tx_ref: str
    flw_ref: str
    amount: Decimal
    currency: str
    status: str
    processor_response: str
    payment_type: str
    customer: dict[str, Any]
    created_at: str
    webhooks_sent: int = 0

    def data(self) -> dict[str, Any]:
        """What GET /v3/transactions/{id}/verify answers as data, and what a webhook carries."""
        fee = (self.amount * Decimal("0.014")).quantize(Decimal("0.01"))
        return {
            "id": Decimal(self.transaction_id),
            "tx_ref": self.tx_ref,
            "flw_ref": self.flw_ref,
            "device_fingerprint": "N/A",
            "amount": self.amount,
            "currency": self.currency,
            "charged_amount": self.amount,
            "app_fee": fee,
            "merchant_fee": Decimal("0"),
            "processor_response": self.processor_response,
            "auth_model": "NOAUTH" if self.payment_type != "card" else "PIN",
            "ip": "127.0.0.1",
            "narration": "Fake gateway checkout",
            "status": self.status,
            "payment_type": self.payment_type,
            "created_at": self.created_at,
            "account_id": Decimal("118468"),
            "amount_settled": self.amount - fee if self.status == SUCCESSFUL else Decimal("0"),
            "customer": copy.deepcopy(self.customer),
        }


class FakeFlutterwave(LoopbackFake):
    """Serve the fake in a background thread: `with FakeFlutterwave() as gateway: ... gateway.base_url ...`.

    Each secret key is a merchant account with its own dashboard settings (webhook URL, secret hash); webhook_for,
    when given, decides a checkout's webhook instead (the demo looks it up in Mita's own channel settings).
    """

    failure_modes = FAILURE_MODES
    thread_name = "fake-gateway"

    def __init__(
        self,
        *,
        secret_key: str = DEFAULT_SECRET_KEY,
        webhook_url: str = "",
        secret_hash: str = "",
        webhook_for: WebhookTarget | None = None,
        accept_any_key: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(handler=_handler_for(self), host=host, port=port)
        # Webhooks and verifications arrive in bursts (tests send 50 at once): a longer queue than the default 5.
        self._server.socket.listen(128)
        self.secret_key = secret_key
        self.accept_any_key = accept_any_key
        self.webhook_for = webhook_for
        self._accounts: dict[str, dict[str, str]] = {
            secret_key: {"webhook_url": webhook_url, "secret_hash": secret_hash}
        }
        self._checkouts: dict[str, FakeCheckout] = {}  # by checkout id
        self._transactions: dict[str, FakeTransaction] = {}
        self._next_id = secrets.randbelow(9 * 10**8) + 10**8
        self._next_customer = 2374551

    # What the tests and the demo use directly.

    def dashboard(self, *, webhook_url: str, secret_hash: str, secret_key: str = "") -> None:
        """A merchant sets its webhook URL and secret hash in the gateway's dashboard."""
        with self._lock:
            self._accounts[secret_key or self.secret_key] = {"webhook_url": webhook_url, "secret_hash": secret_hash}

    @property
    def checkouts(self) -> list[FakeCheckout]:
        with self._lock:
            return [copy.deepcopy(checkout) for checkout in self._checkouts.values()]

    def checkout(self, tx_ref: str) -> FakeCheckout:
        with self._lock:
            return copy.deepcopy(self._checkout_by_ref(tx_ref))

    @property
    def transactions(self) -> list[FakeTransaction]:
        with self._lock:
            return [copy.deepcopy(transaction) for transaction in self._transactions.values()]

    def transaction(self, transaction_id: str) -> FakeTransaction:
        with self._lock:
            return copy.deepcopy(self._transactions[str(transaction_id)])

    def reset(self) -> None:
        with self._lock:
            self._checkouts.clear()
            self._transactions.clear()
            self._clear_failures()

    def pay(
        self,
        tx_ref: str,
        status: str = SUCCESSFUL,
        *,
        amount: Decimal | None = None,
        webhook: bool = True,
        payment_type: str = "card",
        again: bool = False,
    ) -> FakeTransaction:
        """The customer pays on the checkout (or the payment fails): a transaction, and its webhook unless told
        not to. `amount` makes the gateway collect another amount than the checkout asked, `again` lets a paid
        checkout be paid a second time (a gateway misbehaving, for tests)."""
        if status not in ("successful", "failed"):
            raise ValueError("a payment attempt is successful or failed")
        with self._lock:
            checkout = self._checkout_by_ref(tx_ref)
            if checkout.status == "paid" and not again:
                raise ValueError("this checkout is paid already")
            transaction = self._transaction_make(checkout, status, amount, payment_type)
            transaction_id = transaction.transaction_id
        if webhook:
            self._webhook_quietly(transaction_id)
        return self.transaction(transaction_id)

    def cancel(self, tx_ref: str) -> str:
        """The customer leaves the checkout: no transaction, no webhook; returns where the browser is sent."""
        with self._lock:
            checkout = self._checkout_by_ref(tx_ref)
            if checkout.status == "open":
                checkout.status = "cancelled"
            return _redirect(checkout, "cancelled", None)

    def redirect_for(self, transaction_id: str) -> str:
        """Where the browser is sent after this transaction: redirect_url?status=&tx_ref=&transaction_id=."""
        with self._lock:
            transaction = self._transactions[str(transaction_id)]
            return _redirect(self._checkouts[transaction.checkout_id], transaction.status, transaction)

    def webhook_body(self, transaction_id: str, **overrides: Any) -> dict[str, Any]:
        """The body of the transaction's webhook; overrides replace fields of its data (amount=..., status=...)."""
        with self._lock:
            transaction = self._transactions[str(transaction_id)]
            data = transaction.data()
            event_type = "CARD_TRANSACTION" if transaction.payment_type == "card" else "MOBILEMONEY_TRANSACTION"
        data.update(copy.deepcopy(overrides))
        return {"event": CHARGE_COMPLETED, "data": data, "event.type": event_type}

    def send_webhook(
        self,
        transaction_id: str,
        *,
        url: str = "",
        secret_hash: str | None = None,
        overrides: dict[str, Any] | None = None,
    ) -> int:
        """POST a transaction's webhook as the gateway does; returns the HTTP status the receiver answered.

        url and secret_hash default to the merchant's dashboard settings; overrides change fields of the data."""
        with self._lock:
            checkout = copy.deepcopy(self._checkouts[self._transactions[str(transaction_id)].checkout_id])
        target = self._webhook_target(checkout)
        target_url = url or (target[0] if target else "")
        target_hash = secret_hash if secret_hash is not None else (target[1] if target else "")
        if not target_url:
            raise ValueError("the merchant has no webhook URL: set it with dashboard(), or give a url")
        with self._lock:
            self._transactions[str(transaction_id)].webhooks_sent += 1
        body = self.webhook_body(transaction_id, **(overrides or {}))
        response = httpx.post(
            target_url,
            content=json_bytes(body),
            headers={"Content-Type": "application/json", WEBHOOK_HASH_HEADER: target_hash},
            timeout=30.0,
        )
        return response.status_code

    # The protocol side, called from the handler threads (with self._lock held where it says so).

    def _checkout_by_ref(self, tx_ref: str) -> FakeCheckout:
        """Call with self._lock held."""
        for checkout in self._checkouts.values():
            if checkout.tx_ref == tx_ref:
                return checkout
        raise KeyError(tx_ref)

    def _key_known(self, key: str) -> bool:
        with self._lock:
            return key in self._accounts or (self.accept_any_key and key.startswith("FLWSECK"))

    def _webhook_target(self, checkout: FakeCheckout) -> tuple[str, str] | None:
        """Where the merchant of a checkout wants its webhooks, and with which secret hash (None: nowhere)."""
        if self.webhook_for is not None:
            return self.webhook_for(checkout)
        with self._lock:
            account = dict(self._accounts.get(checkout.secret_key) or {})
        if not account.get("webhook_url"):
            return None
        return account["webhook_url"], account.get("secret_hash", "")

    def _webhook_quietly(self, transaction_id: str) -> None:
        try:
            self.send_webhook(transaction_id)
        except ValueError:
            logger.info("fake gateway: no webhook URL for transaction %s", transaction_id)
        except httpx.HTTPError as error:
            logger.warning("fake gateway could not send a webhook: %s", error)

    def _store(self, checkout: FakeCheckout) -> bool:
        with self._lock:
            if any(other.tx_ref == checkout.tx_ref for other in self._checkouts.values()):
                return False
            self._checkouts[checkout.checkout_id] = checkout
            return True

    def _transaction_make(
        self, checkout: FakeCheckout, status: str, amount: Decimal | None, payment_type: str
    ) -> FakeTransaction:
        """Call with self._lock held."""
        self._next_id += 1
        self._next_customer += 1
        transaction = FakeTransaction(
            transaction_id=str(self._next_id),
            checkout_id=checkout.checkout_id,
            tx_ref=checkout.tx_ref,
            flw_ref=f"FLW-MOCK-{secrets.token_hex(16)}",
            amount=checkout.amount if amount is None else amount,
            currency=checkout.currency,
            status=status,
            processor_response="Approved" if status == SUCCESSFUL else "Declined by the issuer",
            payment_type=payment_type,
            customer={
                "id": Decimal(self._next_customer),
                "name": checkout.customer.get("name") or "Anonymous customer",
                "phone_number": checkout.customer.get("phonenumber") or "N/A",
                "email": checkout.customer.get("email", ""),
                "created_at": _now(),
            },
            created_at=_now(),
        )
        self._transactions[transaction.transaction_id] = transaction
        checkout.transaction_ids.append(transaction.transaction_id)
        if status == SUCCESSFUL:
            checkout.status = "paid"
        return transaction

    def _verify_body(self, transaction_id: str = "", tx_ref: str = "") -> dict[str, Any] | None:
        with self._lock:
            if transaction_id:
                transaction = self._transactions.get(transaction_id)
            else:
                found = [t for t in self._transactions.values() if t.tx_ref == tx_ref]
                transaction = found[-1] if found else None
            if transaction is None:
                return None
            return {"status": "success", "message": "Transaction fetched successfully", "data": transaction.data()}


def _redirect(checkout: FakeCheckout, status: str, transaction: FakeTransaction | None) -> str:
    params = {"status": status, "tx_ref": checkout.tx_ref}
    if transaction is not None:
        params["transaction_id"] = transaction.transaction_id
    parts = urlsplit(checkout.redirect_url)
    query = "&".join(part for part in (parts.query, urlencode(params)) if part)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _checkout_problem(body: Any) -> str:
    """Why a checkout request would be refused with 400, or "" if it is fine (Flutterwave's words where known)."""
    if not isinstance(body, dict):
        return "Invalid request body"
    if not isinstance(body.get("tx_ref"), str) or not body["tx_ref"].strip():
        return "tx_ref is required"
    amount = body.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, str | int | Decimal):
        return "amount is required"
    try:
        if Decimal(str(amount)) <= 0:
            return "amount must be greater than 0"
    except InvalidOperation:
        return "amount must be a number"
    if not CURRENCY.fullmatch(str(body.get("currency", "NGN"))):
        return "currency is not supported"
    if not isinstance(body.get("redirect_url"), str) or not body["redirect_url"].startswith(("http://", "https://")):
        return "redirect_url is required"
    customer = body.get("customer")
    if not isinstance(customer, dict) or not isinstance(customer.get("email"), str) or "@" not in customer["email"]:
        return "customer.email is required"
    session = body.get("session_duration", DEFAULT_SESSION_MINUTES)
    if isinstance(session, bool) or not isinstance(session, int | Decimal) or not 1 <= session <= 1440:
        return "session_duration must be between 1 and 1440 minutes"
    return ""


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Fake gateway checkout</title>
<style>body{{font-family:sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}}
button{{display:block;width:100%;margin:.5rem 0;padding:.8rem;font-size:1rem}}
.pay{{background:#f5a623;border:0}}.amount{{font-size:2rem}}</style></head>
<body><h1 data-testid="gateway-title">{title}</h1>
<p>{description}</p>
<p class="amount" data-testid="gateway-amount">{amount} {currency}</p>
<p><small>Reference {tx_ref}</small></p>
{body}
<p><small>This is a fake payment gateway for tests and demos: no money moves.</small></p>
</body></html>"""

PAY_FORM = """<form method="post" action="{action}">
<button class="pay" name="outcome" value="successful" data-testid="gateway-pay">Pay {amount} {currency}</button>
<button name="outcome" value="failed" data-testid="gateway-decline">Pay with a card that is declined</button>
<button name="outcome" value="cancelled" data-testid="gateway-cancel">Cancel payment</button>
</form>"""


def _handler_for(fake: FakeFlutterwave) -> type[BaseHTTPRequestHandler]:
    class Handler(LoopbackHandler):
        fake_label = "fake gateway"
        server_version = "FakeFlutterwave/3"

        def _error(self, status: int, message: str) -> None:
            self._reply(status, {"status": "error", "message": message, "data": None})

        def _authorised(self) -> bool:
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Bearer ") and fake._key_known(auth.removeprefix("Bearer ")):
                return True
            self._error(401, "Invalid authorization key")
            return False

        def _failure(self) -> str:
            """Play an injected failure; returns the mode ("none" or "accept_then_timeout" if the caller goes on)."""
            mode, delay = fake._take_failure()
            self._play_common_failure(
                fake, mode, delay, server_error={"status": "error", "message": "Internal server error", "data": None}
            )
            return mode

        # Routing.

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            path = parts.path
            if match := VERIFY.fullmatch(path):
                self._verify(transaction_id=match.group(1))
            elif path.rstrip("/") == VERIFY_BY_REFERENCE_PATH:
                self._verify(tx_ref=(parse_qs(parts.query).get("tx_ref") or [""])[0])
            elif path.startswith(HOSTED_PATH):
                self._page(path[len(HOSTED_PATH) :].strip("/"))
            elif path == "/__checkouts":
                self._reply(200, {"checkouts": [checkout.as_dict() for checkout in fake.checkouts]})
            elif path == "/__transactions":
                self._send_json(
                    200, {"transactions": [t.data() | {"webhooks_sent": t.webhooks_sent} for t in fake.transactions]}
                )
            else:
                self._reply(404, "Not found", "text/plain")

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            if path == PAYMENTS_PATH:
                self._create()
            elif path.startswith(HOSTED_PATH):
                self._answer(path[len(HOSTED_PATH) :].strip("/"))
            elif path == "/__pay":
                self._control_pay()
            elif path == "/__webhook":
                self._control_webhook()
            elif path == "/__dashboard":
                self._control_dashboard()
            elif path == "/__fail":
                self._fail_from(fake, self._json_body())
            elif path == "/__reset":
                self._body()
                fake.reset()
                self._reply(200, {"reset": True})
            else:
                self._reply(404, "Not found", "text/plain")

        def _send_json(self, status: int, body: Any) -> None:
            self._reply(status, json_bytes(body), "application/json")

        # The API.

        def _create(self) -> None:
            raw = self._body()
            if not self._authorised():
                return
            mode = self._failure()
            if mode not in ("none", "accept_then_timeout"):
                return
            try:
                body = json.loads(raw or b"null", parse_float=Decimal, parse_int=Decimal)
            except ValueError:
                body = None
            problem = _checkout_problem(body)
            if problem:
                self._error(400, problem)
                return
            checkout = FakeCheckout(
                checkout_id=secrets.token_hex(10),
                secret_key=self.headers.get("Authorization", "").removeprefix("Bearer "),
                tx_ref=body["tx_ref"].strip(),
                amount=Decimal(str(body["amount"])),
                currency=str(body.get("currency", "NGN")),
                redirect_url=body["redirect_url"],
                customer=body["customer"],
                customizations=body.get("customizations") if isinstance(body.get("customizations"), dict) else {},
                meta=body.get("meta") if isinstance(body.get("meta"), dict) else {},
                session_minutes=int(body.get("session_duration", DEFAULT_SESSION_MINUTES)),
                created_at=datetime.datetime.now(datetime.UTC),
            )
            if not fake._store(checkout):
                # The fake's choice: a reference is used for one checkout only.
                self._error(400, "A checkout with this tx_ref exists already")
                return
            if mode == "accept_then_timeout":
                # The gateway made the checkout, but the answer never reaches the caller.
                fake._stopping.wait(fake._failure_delay)
                self._reply(504, "Gateway Timeout", "text/plain")
                return
            link = f"{fake.base_url}{HOSTED_PATH}{checkout.checkout_id}"
            self._reply(200, {"status": "success", "message": "Hosted Link", "data": {"link": link}})

        def _verify(self, *, transaction_id: str = "", tx_ref: str = "") -> None:
            if not self._authorised():
                return
            mode = self._failure()
            if mode == "accept_then_timeout":  # nothing to accept: it just times out
                fake._stopping.wait(fake._failure_delay)
                self._reply(504, "Gateway Timeout", "text/plain")
                return
            if mode != "none":
                return
            body = fake._verify_body(transaction_id=transaction_id, tx_ref=tx_ref)
            if body is None:
                self._reply(400, NOT_FOUND)
                return
            self._send_json(200, body)

        # The customer's side: the checkout page.

        def _checkout_for_page(self, checkout_id: str) -> FakeCheckout | None:
            with fake._lock:
                checkout = fake._checkouts.get(checkout_id)
                return copy.deepcopy(checkout) if checkout else None

        def _page(self, checkout_id: str) -> None:
            checkout = self._checkout_for_page(checkout_id)
            if checkout is None:
                self._reply(404, "<h1>This payment link is not valid</h1>", "text/html")
                return
            fields = {
                "title": html.escape(str(checkout.customizations.get("title") or "Checkout")),
                "description": html.escape(str(checkout.customizations.get("description") or "")),
                "amount": html.escape(format(checkout.amount, "f")),
                "currency": html.escape(checkout.currency),
                "tx_ref": html.escape(checkout.tx_ref),
            }
            if checkout.status == "paid":
                body = '<p data-testid="gateway-closed">This payment has been made.</p>'
            elif checkout.expired():
                body = '<p data-testid="gateway-closed">This checkout has expired.</p>'
            else:
                body = PAY_FORM.format(action=html.escape(HOSTED_PATH + checkout.checkout_id), **fields)
            self._reply(200, PAGE.format(body=body, **fields), "text/html; charset=utf-8")

        def _answer(self, checkout_id: str) -> None:
            outcome = (parse_qs(self._body().decode(errors="replace")).get("outcome") or [""])[0]
            checkout = self._checkout_for_page(checkout_id)
            if checkout is None or outcome not in OUTCOMES:
                self._reply(400, "<h1>Choose pay, decline or cancel</h1>", "text/html")
                return
            if checkout.status == "paid" or checkout.expired():
                self._page(checkout_id)
                return
            if outcome == "cancelled":
                location = fake.cancel(checkout.tx_ref)
            else:
                transaction = fake.pay(checkout.tx_ref, outcome)
                location = fake.redirect_for(transaction.transaction_id)
            self.send_response(303)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        # The fake's own controls.

        def _control_pay(self) -> None:
            payload = self._json_body()
            if not isinstance(payload, dict) or not payload.get("tx_ref"):
                self._reply(400, {"error": "give the tx_ref of a checkout, and a status"})
                return
            try:
                amount = Decimal(str(payload["amount"])) if payload.get("amount") is not None else None
                transaction = fake.pay(
                    str(payload["tx_ref"]),
                    str(payload.get("status", SUCCESSFUL)),
                    amount=amount,
                    webhook=bool(payload.get("webhook", True)),
                )
            except KeyError:
                self._reply(404, {"error": "no such checkout"})
                return
            except (ValueError, InvalidOperation) as error:
                self._reply(400, {"error": str(error)})
                return
            self._reply(
                200,
                {
                    "transaction_id": transaction.transaction_id,
                    "redirect": fake.redirect_for(transaction.transaction_id),
                },
            )

        def _control_webhook(self) -> None:
            payload = self._json_body()
            if not isinstance(payload, dict) or not payload.get("transaction_id"):
                self._reply(400, {"error": "give the transaction_id of a transaction"})
                return
            overrides = payload.get("overrides") if isinstance(payload.get("overrides"), dict) else {}
            secret_hash = payload.get("secret_hash")
            try:
                status = fake.send_webhook(
                    str(payload["transaction_id"]),
                    url=str(payload.get("url", "")),
                    secret_hash=str(secret_hash) if secret_hash is not None else None,
                    overrides=overrides,
                )
            except KeyError:
                self._reply(404, {"error": "no such transaction"})
                return
            except (ValueError, httpx.HTTPError) as error:
                self._reply(502, {"error": str(error)})
                return
            self._reply(200, {"webhook_status": status})

        def _control_dashboard(self) -> None:
            payload = self._json_body()
            if not isinstance(payload, dict) or not isinstance(payload.get("webhook_url"), str):
                self._reply(400, {"error": "give webhook_url and secret_hash (and secret_key for another merchant)"})
                return
            fake.dashboard(
                webhook_url=payload["webhook_url"],
                secret_hash=str(payload.get("secret_hash", "")),
                secret_key=str(payload.get("secret_key", "")),
            )
            self._reply(200, {"saved": True})

    return Handler
