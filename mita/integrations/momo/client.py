"""MTN MoMo Collection over HTTP: an access token, request-to-pay, and the status of a request.

The protocol (docs/momo.md, https://momodeveloper.mtn.com/api-documentation):
  POST {base}/collection/token/                          Basic api user:api key, Ocp-Apim-Subscription-Key
       200 {"access_token": ..., "token_type": "access_token", "expires_in": 3600}
  POST {base}/collection/v1_0/requesttopay               Bearer token, X-Reference-Id (a UUID we make),
       X-Target-Environment, optional X-Callback-Url; body amount, currency, externalId, payer, payerMessage,
       payeeNote. 202 accepted; 409 the reference id was used before
  GET  {base}/collection/v1_0/requesttopay/{referenceId}
       200 {"amount", "currency", "financialTransactionId", "externalId", "payer", "status", "reason"}; 404 unknown
Every failure surfaces as MomoError with a kind:

  unreachable       no connection, no answer in time, or a server error (5xx, 429): worth trying again later
  refused           MTN refused our subscription key, API user or key (401, 403)
  rejected          MTN refused the request itself (400): a wrong number, amount or currency; not worth repeating
  duplicate         the reference id was used before (409): the first request with it is the one that counts
  not_found         MTN has no request with this reference id (404 RESOURCE_NOT_FOUND)
  invalid_response  any other status, a body that is not JSON, or JSON of the wrong shape
"""

import dataclasses
import json
import re
import threading
import time
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from mita.integrations.responses import excerpt

TOKEN_PATH = "/collection/token/"  # noqa: S105 - a path, not a password
REQUEST_TO_PAY_PATH = "/collection/v1_0/requesttopay"

SUCCESSFUL = "SUCCESSFUL"
# FAILED is what the API documents; the sandbox and some markets also answer REJECTED and TIMEOUT, both final.
FAILED_STATUSES = frozenset({"FAILED", "REJECTED", "TIMEOUT"})
# ONGOING is the sandbox's word for a request the payer has not answered yet.
PENDING_STATUSES = frozenset({"PENDING", "ONGOING"})
STATUSES = FAILED_STATUSES | PENDING_STATUSES | {SUCCESSFUL}

MSISDN = re.compile(r"\d{8,15}", re.ASCII)
# Renew the token this long before MTN says it expires, so that it never expires in flight.
TOKEN_MARGIN_SECONDS = 60


class MomoError(Exception):
    """MoMo could not be used; kind is one of the module's kinds, status_code the HTTP status if MTN answered,
    code MTN's own error code (e.g. RESOURCE_ALREADY_EXIST) when it gave one."""

    def __init__(self, message: str, *, kind: str, status_code: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.status_code = status_code
        self.code = code


@dataclasses.dataclass(frozen=True)
class MomoStatus:
    """A request-to-pay as MTN reports it (the GET answer, and the body of a callback); raw is the JSON received."""

    status: str
    amount: Decimal
    currency: str
    external_id: str
    financial_transaction_id: str
    payer_party_id_type: str
    payer_party_id: str
    reason_code: str
    reason_message: str
    raw: dict[str, Any]

    @property
    def is_successful(self) -> bool:
        return self.status == SUCCESSFUL

    @property
    def is_failed(self) -> bool:
        return self.status in FAILED_STATUSES

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING_STATUSES


def new_reference_id() -> str:
    """A fresh X-Reference-Id: MTN wants a UUID (version 4), made by us before the first send."""
    return str(uuid.uuid4())


def amount_text(amount: Decimal) -> str:
    """An amount as MTN wants it: a string of digits, with a decimal point only when there are cents."""
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise ValueError("a MoMo amount is a positive Decimal")
    if amount == amount.to_integral_value():
        return str(int(amount))
    return format(amount.normalize(), "f")


class MomoClient:
    def __init__(
        self,
        *,
        base_url: str,
        subscription_key: str,
        api_user: str,
        api_key: str,
        target_environment: str = "sandbox",
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.subscription_key = subscription_key
        self.api_user = api_user
        self.api_key = api_key
        self.target_environment = target_environment
        self.timeout = timeout
        self.transport = transport
        self._token_lock = threading.Lock()
        self._token = ""
        self._token_expires = 0.0  # time.monotonic() after which the token is not used

    # Tokens.

    def access_token(self, *, http: httpx.Client | None = None, renew: bool = False) -> str:
        """A bearer token for the Collection API, fetched on first use and again shortly before it expires."""
        with self._token_lock:
            if not renew and self._token and time.monotonic() < self._token_expires:
                return self._token
            if http is None:
                with self._http() as own:
                    token, expires_in = self._fetch_token(own)
            else:
                token, expires_in = self._fetch_token(http)
            self._token = token
            self._token_expires = time.monotonic() + max(0, expires_in - TOKEN_MARGIN_SECONDS)
            return token

    def _fetch_token(self, http: httpx.Client) -> tuple[str, int]:
        response = self._send(
            http,
            "POST",
            self.base_url + TOKEN_PATH,
            headers={"Ocp-Apim-Subscription-Key": self.subscription_key},
            auth=(self.api_user, self.api_key),
        )
        if response.status_code != 200:
            raise _status_error(response, "asking for an access token")
        body = _json(response)
        token = body.get("access_token") if isinstance(body, dict) else None
        expires_in = body.get("expires_in", 3600) if isinstance(body, dict) else None
        if not isinstance(token, str) or not token or not isinstance(expires_in, int) or isinstance(expires_in, bool):
            raise MomoError(
                f"MoMo answered the token request with JSON of an unexpected shape: {excerpt(response.text)}",
                kind="invalid_response",
                status_code=response.status_code,
            )
        return token, expires_in

    # Collection.

    def request_to_pay(
        self,
        *,
        reference_id: str,
        amount: Decimal,
        currency: str,
        external_id: str,
        payer_msisdn: str,
        payer_message: str = "",
        payee_note: str = "",
        callback_url: str = "",
    ) -> None:
        """Ask the payer to approve a payment on their phone; returns once MTN accepted the request (202).

        Nothing is paid yet: the outcome comes later, by callback or by request_to_pay_status(reference_id).
        """
        _check_reference_id(reference_id)
        if not MSISDN.fullmatch(payer_msisdn):
            raise ValueError("the payer's MSISDN is 8 to 15 digits with the country code and no +")
        body = {
            "amount": amount_text(amount),
            "currency": currency,
            "externalId": external_id,
            "payer": {"partyIdType": "MSISDN", "partyId": payer_msisdn},
            "payerMessage": payer_message,
            "payeeNote": payee_note,
        }
        headers = {"X-Reference-Id": reference_id, "Content-Type": "application/json"}
        if callback_url:
            headers["X-Callback-Url"] = callback_url
        response = self._api("POST", self.base_url + REQUEST_TO_PAY_PATH, headers=headers, content=json.dumps(body))
        if response.status_code == 202:
            return
        if response.status_code == 409:
            raise MomoError(
                f"MoMo already has a request with reference id {reference_id}",
                kind="duplicate",
                status_code=409,
                code=_error_code(response),
            )
        raise _status_error(response, "sending the request to pay")

    def request_to_pay_status(self, reference_id: str) -> MomoStatus:
        """Where a request-to-pay stands, as MTN knows it; raises MomoError(kind="not_found") if MTN has none."""
        _check_reference_id(reference_id)
        response = self._api("GET", f"{self.base_url}{REQUEST_TO_PAY_PATH}/{reference_id}")
        if response.status_code == 404:
            # Only MTN's own "not found" means the request is unknown; a bare 404 is more likely a wrong base URL.
            if _error_code(response) == "RESOURCE_NOT_FOUND":
                raise MomoError(
                    f"MoMo has no request with reference id {reference_id}",
                    kind="not_found",
                    status_code=404,
                    code="RESOURCE_NOT_FOUND",
                )
            raise MomoError(
                f"MoMo answered HTTP 404 without saying the request is unknown (is the base URL right?): "
                f"{excerpt(response.text)}",
                kind="invalid_response",
                status_code=404,
            )
        if response.status_code != 200:
            raise _status_error(response, "asking for the status of a request to pay")
        body = _json(response)
        try:
            return parse_status(body)
        except (KeyError, TypeError, ValueError) as error:
            raise MomoError(
                f"MoMo answered JSON of an unexpected shape ({error}): {excerpt(response.text)}",
                kind="invalid_response",
                status_code=response.status_code,
            ) from error

    # HTTP.

    def _http(self) -> httpx.Client:
        return httpx.Client(timeout=self.timeout, transport=self.transport)

    def _api(
        self, method: str, url: str, *, headers: dict[str, str] | None = None, content: str = ""
    ) -> httpx.Response:
        """One call to the Collection API with a bearer token; a refused token is renewed and the call made again
        once (MTN may end a token early)."""
        with self._http() as http:
            renew = False
            for _attempt in range(2):
                token = self.access_token(http=http, renew=renew)
                response = self._send(
                    http,
                    method,
                    url,
                    headers={
                        **(headers or {}),
                        "Authorization": f"Bearer {token}",
                        "X-Target-Environment": self.target_environment,
                        "Ocp-Apim-Subscription-Key": self.subscription_key,
                    },
                    content=content.encode() if content else None,
                )
                if response.status_code != 401:
                    return response
                renew = True
            return response

    def _send(
        self,
        http: httpx.Client,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        auth: tuple[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        try:
            return http.request(method, url, headers=headers, auth=auth, content=content)
        except httpx.TimeoutException as error:
            raise MomoError(
                f"no answer from MoMo within {self.timeout:g}s ({type(error).__name__})", kind="unreachable"
            ) from error
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            raise MomoError(
                f"could not reach MoMo at {url}: {error or type(error).__name__}", kind="unreachable"
            ) from error


def parse_status(body: Any) -> MomoStatus:
    """A request-to-pay's status from MTN's JSON (the GET answer or a callback); raises KeyError, TypeError or
    ValueError if the JSON is not of that shape."""
    if not isinstance(body, dict):
        raise TypeError("the answer is not an object")
    status = body["status"]
    if status not in STATUSES:
        raise ValueError(f"status {status!r} is not one of {sorted(STATUSES)}")
    payer = body.get("payer") or {}
    if not isinstance(payer, dict):
        raise TypeError("payer is not an object")
    reason_code, reason_message = _reason(body.get("reason"))
    return MomoStatus(
        status=status,
        amount=_amount(body["amount"]),
        currency=_text(body["currency"], "currency", required=True),
        external_id=_text(body.get("externalId"), "externalId"),
        financial_transaction_id=_text(body.get("financialTransactionId"), "financialTransactionId"),
        payer_party_id_type=_text(payer.get("partyIdType"), "payer partyIdType"),
        payer_party_id=_text(payer.get("partyId"), "payer partyId"),
        reason_code=reason_code,
        reason_message=reason_message,
        raw=body,
    )


def _check_reference_id(reference_id: str) -> None:
    try:
        uuid.UUID(reference_id)
    except (ValueError, TypeError, AttributeError) as error:
        raise ValueError(f"a MoMo reference id is a UUID, not {reference_id!r}") from error


def _amount(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TypeError("amount is not a number or a string of digits")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as error:
        raise ValueError(f"amount {value!r} is not a number") from error
    if not amount.is_finite() or amount <= 0:
        raise ValueError(f"amount {value!r} is not a positive number")
    return amount


def _text(value: Any, field: str, *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):  # MTN sends some ids as numbers
        value = str(value)
    if not isinstance(value, str):
        raise TypeError(f"{field} is not a string")
    value = value.strip()
    if required and not value:
        raise ValueError(f"{field} is empty")
    return value


def _reason(value: Any) -> tuple[str, str]:
    """MTN gives the reason of a failure as {"code": ..., "message": ...}, and in older versions as a bare code."""
    if value is None or value == "":
        return "", ""
    if isinstance(value, str):
        return value.strip(), ""
    if isinstance(value, dict):
        return _text(value.get("code"), "reason code"), _text(value.get("message"), "reason message")
    raise TypeError("reason is neither an object nor a string")


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, RecursionError) as error:
        raise MomoError(
            f"MoMo answered something that is not JSON: {excerpt(response.text)}",
            kind="invalid_response",
            status_code=response.status_code,
        ) from error


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except (ValueError, RecursionError):
        return ""
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) else ""


def _status_error(response: httpx.Response, doing: str) -> MomoError:
    status = response.status_code
    code = _error_code(response)
    detail = excerpt(response.text)
    if status in (401, 403):
        return MomoError(
            f"MoMo refused our credentials {doing} (HTTP {status}): {detail}", kind="refused", status_code=status
        )
    if status == 400:
        return MomoError(
            f"MoMo refused the request {doing} (HTTP 400): {detail}", kind="rejected", status_code=status, code=code
        )
    if status >= 500 or status == 429:
        return MomoError(
            f"MoMo is not available {doing} (HTTP {status}): {detail}", kind="unreachable", status_code=status
        )
    return MomoError(f"MoMo answered HTTP {status} {doing}: {detail}", kind="invalid_response", status_code=status)
