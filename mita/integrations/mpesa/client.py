"""Daraja over HTTP: an OAuth token, C2B URL registration, STK push and its query, each answer checked.

The protocol (docs/mpesa.md):
  GET  {base}/oauth/v1/generate?grant_type=client_credentials   Basic consumer_key:consumer_secret
       -> {"access_token": "...", "expires_in": "3599"}
  POST {base}/mpesa/c2b/v1/registerurl        Bearer token; {"ShortCode", "ResponseType", "ConfirmationURL",
                                              "ValidationURL"} -> {"ResponseCode": "0", "ResponseDescription"}
  POST {base}/mpesa/stkpush/v1/processrequest Bearer token; {"BusinessShortCode", "Password", "Timestamp", ...}
       -> {"MerchantRequestID", "CheckoutRequestID", "ResponseCode": "0", ...}
  POST {base}/mpesa/stkpushquery/v1/query     Bearer token; {"BusinessShortCode", "Password", "Timestamp",
                                              "CheckoutRequestID"} -> {"ResponseCode": "0", "ResultCode", "ResultDesc",
                                              ...}, or HTTP 500 {"errorCode": "500.001.1001", "errorMessage": "The
                                              transaction is being processed"} while the customer has not answered
Daraja reports a refusal as {"requestId", "errorCode", "errorMessage"} with a 4xx or 5xx status. Every failure
surfaces as MpesaError with a kind:

  unreachable       no connection, no answer in time, or a server error (5xx, 429): worth trying again later
  refused           Daraja refused our consumer key and secret, or our token twice in a row (401, 403)
  rejected          Daraja understood the request and said no (its errorCode, or a ResponseCode other than 0)
  invalid_request   we would not send it: Daraja would refuse it (e.g. a forbidden word in a callback URL)
  invalid_response  a body that is not JSON, or JSON of the wrong shape
"""

import dataclasses
import datetime
import threading
import time
from typing import Any

import httpx

from mita.integrations.mpesa.protocol import (
    OAUTH_PATH,
    REGISTER_URL_PATH,
    RESPONSE_TYPES,
    STK_PUSH_PATH,
    STK_QUERY_PATH,
    PayloadError,
    StkQueryAnswer,
    forbidden_url_words,
    parse_stk_query,
    password,
    stk_query_processing,
    timestamp,
)
from mita.integrations.responses import excerpt

# Tokens live an hour; one is shared by the threads of a process and renewed a minute before it expires.
_tokens: dict[tuple[str, str], tuple[str, float]] = {}
_tokens_lock = threading.Lock()
TOKEN_MARGIN_SECONDS = 60.0


class MpesaError(Exception):
    """Daraja could not be used. kind: unreachable, refused, rejected, invalid_request, invalid_response;
    status_code if it answered, error_code as Daraja gave it (errorCode or ResponseCode)."""

    def __init__(self, message: str, *, kind: str, status_code: int | None = None, error_code: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.status_code = status_code
        self.error_code = error_code


@dataclasses.dataclass(frozen=True)
class StkPushAccepted:
    """Daraja took the STK push; the result comes later to the CallBackURL, named by checkout_request_id."""

    merchant_request_id: str
    checkout_request_id: str
    response_description: str
    customer_message: str
    raw: dict[str, Any]


class DarajaClient:
    def __init__(
        self,
        *,
        base_url: str,
        consumer_key: str,
        consumer_secret: str,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.timeout = timeout
        self.transport = transport

    # OAuth

    def access_token(self, *, renew: bool = False) -> str:
        """A bearer token, from this process's cache while it is fresh."""
        cache_key = (self.base_url, self.consumer_key)
        with _tokens_lock:
            cached = _tokens.get(cache_key)
            if cached and not renew and cached[1] > time.monotonic():
                return cached[0]
        response = self._send("GET", OAUTH_PATH, params={"grant_type": "client_credentials"}, auth=True)
        if response.status_code in (400, 401, 403):
            raise MpesaError(
                f"Daraja refused the consumer key and secret (HTTP {response.status_code}): {excerpt(response.text)}",
                kind="refused",
                status_code=response.status_code,
                error_code=_error_code(response),
            )
        _raise_for_status(response)
        body = _object(response)
        token = body.get("access_token")
        try:
            expires_in = float(body.get("expires_in", 3599))
        except (TypeError, ValueError):
            expires_in = -1.0
        if not isinstance(token, str) or not token or expires_in <= 0:
            raise MpesaError(
                f"Daraja answered the token request with an unexpected shape: {excerpt(response.text)}",
                kind="invalid_response",
                status_code=response.status_code,
            )
        with _tokens_lock:
            _tokens[cache_key] = (token, time.monotonic() + max(expires_in - TOKEN_MARGIN_SECONDS, 1.0))
        return token

    # C2B

    def register_urls(
        self, *, shortcode: str, confirmation_url: str, validation_url: str, response_type: str = "Completed"
    ) -> dict[str, Any]:
        """Tell Daraja where to send a shortcode's C2B validations and confirmations.

        response_type says what M-Pesa does when the validation URL does not answer: "Completed" takes the
        payment all the same, "Cancelled" refuses it. Returns Daraja's answer.
        """
        if response_type not in RESPONSE_TYPES:
            raise MpesaError(f"ResponseType must be one of {sorted(RESPONSE_TYPES)}", kind="invalid_request")
        for name, url in (("ConfirmationURL", confirmation_url), ("ValidationURL", validation_url)):
            if words := forbidden_url_words(url):
                raise MpesaError(
                    f"Daraja refuses a {name} holding {', '.join(repr(w) for w in words)}: {url}",
                    kind="invalid_request",
                )
        body = self._call(
            REGISTER_URL_PATH,
            {
                "ShortCode": shortcode,
                "ResponseType": response_type,
                "ConfirmationURL": confirmation_url,
                "ValidationURL": validation_url,
            },
        )
        _require_response_code(body)
        return body

    # STK push (Lipa Na M-Pesa Online)

    def stk_push(
        self,
        *,
        shortcode: str,
        passkey: str,
        amount: int,
        phone: str,
        callback_url: str,
        account_reference: str,
        description: str,
        moment: datetime.datetime | None = None,
    ) -> StkPushAccepted:
        """Ask M-Pesa to prompt the phone's owner to pay `amount` (whole units) to the shortcode's paybill."""
        stamp = timestamp(moment)
        body = self._call(
            STK_PUSH_PATH,
            {
                "BusinessShortCode": shortcode,
                "Password": password(shortcode, passkey, stamp),
                "Timestamp": stamp,
                "TransactionType": "CustomerPayBillOnline",
                "Amount": amount,
                "PartyA": phone,
                "PartyB": shortcode,
                "PhoneNumber": phone,
                "CallBackURL": callback_url,
                "AccountReference": account_reference,
                "TransactionDesc": description,
            },
        )
        _require_response_code(body)
        checkout_id = body.get("CheckoutRequestID")
        if not isinstance(checkout_id, str) or not checkout_id.strip():
            raise MpesaError(
                f"Daraja accepted the STK push without a CheckoutRequestID: {excerpt(str(body))}",
                kind="invalid_response",
            )
        return StkPushAccepted(
            merchant_request_id=str(body.get("MerchantRequestID") or ""),
            checkout_request_id=checkout_id.strip(),
            response_description=str(body.get("ResponseDescription") or ""),
            customer_message=str(body.get("CustomerMessage") or ""),
            raw=body,
        )

    def stk_query(
        self,
        *,
        shortcode: str,
        passkey: str,
        checkout_request_id: str,
        moment: datetime.datetime | None = None,
    ) -> StkQueryAnswer:
        """Ask Daraja how an STK push ended (M-Pesa Express Query): pending, paid (ResultCode 0) or failed.

        While the customer has not answered, Daraja refuses the query with HTTP 500 and errorCode 500.001.1001
        ("The transaction is being processed"): that is returned as a pending answer, not raised."""
        if not checkout_request_id.strip():
            raise MpesaError("an STK push is queried by its CheckoutRequestID", kind="invalid_request")
        stamp = timestamp(moment)
        response = self._post(
            STK_QUERY_PATH,
            {
                "BusinessShortCode": shortcode,
                "Password": password(shortcode, passkey, stamp),
                "Timestamp": stamp,
                "CheckoutRequestID": checkout_request_id,
            },
        )
        processing = False
        if not response.is_success:
            try:
                processing = stk_query_processing(response.json())
            except (ValueError, RecursionError):
                processing = False
            if not processing:
                _raise_for_status(response)
        body = _object(response)
        if not processing:
            _require_response_code(body)
        try:
            answer = parse_stk_query(body)
        except PayloadError as error:
            raise MpesaError(
                f"Daraja answered the STK query with an unexpected shape ({error}): {excerpt(response.text)}",
                kind="invalid_response",
                status_code=response.status_code,
            ) from error
        # A pending answer's requestId is Daraja's own request id, not always the CheckoutRequestID.
        if not answer.pending and answer.checkout_request_id and answer.checkout_request_id != checkout_request_id:
            raise MpesaError(
                f"Daraja answered the STK query for {answer.checkout_request_id}, not {checkout_request_id}",
                kind="invalid_response",
                status_code=response.status_code,
            )
        return answer

    # HTTP

    def _call(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST with a bearer token and read the JSON object of a successful answer."""
        response = self._post(path, payload)
        _raise_for_status(response)
        return _object(response)

    def _post(self, path: str, payload: dict[str, Any]) -> httpx.Response:
        """POST with a bearer token; a token refused once (it may have just expired) is renewed once."""
        response = self._send("POST", path, json=payload, token=self.access_token())
        if response.status_code == 401:
            response = self._send("POST", path, json=payload, token=self.access_token(renew=True))
            if response.status_code == 401:
                raise MpesaError(
                    f"Daraja refused a fresh token: {excerpt(response.text)}",
                    kind="refused",
                    status_code=401,
                    error_code=_error_code(response),
                )
        return response

    def _send(self, method: str, path: str, *, auth: bool = False, token: str = "", **kwargs: Any) -> httpx.Response:
        url = self.base_url + path
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as http:
                return http.request(
                    method,
                    url,
                    headers=headers,
                    auth=(self.consumer_key, self.consumer_secret) if auth else None,
                    **kwargs,
                )
        except httpx.TimeoutException as error:
            raise MpesaError(
                f"no answer from Daraja within {self.timeout:g}s ({type(error).__name__})", kind="unreachable"
            ) from error
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            raise MpesaError(
                f"could not reach Daraja at {url}: {error or type(error).__name__}", kind="unreachable"
            ) from error


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except (ValueError, RecursionError):
        return ""
    return str(body.get("errorCode") or "") if isinstance(body, dict) else ""


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if response.is_success:
        return
    if status >= 500 or status == 429:
        raise MpesaError(
            f"Daraja is not available (HTTP {status}): {excerpt(response.text)}",
            kind="unreachable",
            status_code=status,
            error_code=_error_code(response),
        )
    if status == 403:
        raise MpesaError(
            f"Daraja refused the request (HTTP 403): {excerpt(response.text)}", kind="refused", status_code=403
        )
    if code := _error_code(response):
        raise MpesaError(
            f"Daraja said no (HTTP {status}, {code}): {excerpt(response.text)}",
            kind="rejected",
            status_code=status,
            error_code=code,
        )
    raise MpesaError(
        f"Daraja answered HTTP {status}: {excerpt(response.text)}", kind="invalid_response", status_code=status
    )


def _object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except (ValueError, RecursionError) as error:
        raise MpesaError(
            f"Daraja answered something that is not JSON: {excerpt(response.text)}",
            kind="invalid_response",
            status_code=response.status_code,
        ) from error
    if not isinstance(body, dict):
        raise MpesaError(
            f"Daraja answered JSON that is not an object: {excerpt(response.text)}",
            kind="invalid_response",
            status_code=response.status_code,
        )
    return body


def _require_response_code(body: dict[str, Any]) -> None:
    """Daraja says yes with ResponseCode "0" (some versions "00000000")."""
    code = str(body.get("ResponseCode", "")).strip()
    if code.strip("0") == "" and code:
        return
    raise MpesaError(
        f"Daraja did not accept the request (ResponseCode {code or 'missing'}): "
        f"{body.get('ResponseDescription') or body.get('errorMessage') or ''}".rstrip(": "),
        kind="rejected" if code else "invalid_response",
        error_code=code,
    )
