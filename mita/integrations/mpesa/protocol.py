"""The shapes Daraja and Safaricom exchange with us: paths, result codes, and the callbacks read field by field.

Safaricom POSTs three kinds of JSON to us (docs/mpesa.md has a sample of each):
  C2B validation and confirmation  {"TransID", "TransAmount", "BillRefNumber", "TransTime", "MSISDN", ...}
  STK push result                  {"Body": {"stkCallback": {"CheckoutRequestID", "ResultCode", ...}}}
and Daraja answers the STK Push Query with {"ResultCode", "ResultDesc", ...}, or refuses it while the push is still
being processed (parse_stk_query tells which).
A body we cannot read raises PayloadError naming the field, so the endpoint can answer 400 and save nothing.
Amounts are read as Decimal: JSON numbers are parsed with parse_float=Decimal, never through a float.
"""

import base64
import dataclasses
import datetime
import json
import re
import secrets
import string
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

OAUTH_PATH = "/oauth/v1/generate"
REGISTER_URL_PATH = "/mpesa/c2b/v1/registerurl"
STK_PUSH_PATH = "/mpesa/stkpush/v1/processrequest"
STK_QUERY_PATH = "/mpesa/stkpushquery/v1/query"

# Daraja's clocks (TransTime, Timestamp, TransactionDate) are East Africa Time.
DARAJA_TIME_ZONE = ZoneInfo("Africa/Nairobi")
TIMESTAMP_FORMAT = "%Y%m%d%H%M%S"

RESPONSE_TYPES = frozenset({"Completed", "Cancelled"})
# Daraja refuses callback URLs holding any of these words, in any case (its Register URL rules).
FORBIDDEN_URL_WORDS = ("m-pesa", "mpesa", "safaricom", "exe", "exec", "cmd", "sql", "query")

# Validation replies: "0" accepts; the C2B000xx codes reject the payment before the customer's money moves.
VALIDATION_ACCEPTED = "0"
VALIDATION_REJECTIONS = {
    "C2B00011": "Invalid MSISDN",
    "C2B00012": "Invalid Account Number",
    "C2B00013": "Invalid Amount",
    "C2B00014": "Invalid KYC Details",
    "C2B00015": "Invalid Shortcode",
    "C2B00016": "Other Error",
}
# STK push result codes worth naming; every code but 0 means the customer paid nothing.
STK_SUCCESS = 0
STK_CANCELLED_BY_USER = 1032
STK_TIMEOUT = 1037
STK_RESULT_DESCRIPTIONS = {
    0: "The service request is processed successfully.",
    1: "The balance is insufficient for the transaction.",
    1001: "Unable to lock subscriber, a transaction is already in process for the current subscriber",
    1019: "Transaction has expired",
    1025: "An error occurred while sending a push request",
    1032: "Request cancelled by user",
    1037: "DS timeout user cannot be reached",
    2001: "The initiator information is invalid.",
    9999: "An error occurred while sending a push request",
}
# While the customer has not answered, the STK Push Query is refused (HTTP 500) with this errorCode and message:
# the push is still pending, not failed.
STK_QUERY_PROCESSING_CODE = "500.001.1001"
STK_QUERY_PROCESSING_MESSAGE = "The transaction is being processed"

TRANS_ID = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)
MAX_REFERENCE = 64
MAX_AMOUNT = Decimal("1e13")
MAX_DEPTH = 16


class PayloadError(ValueError):
    """A callback body we cannot read; field names the part that is wrong ("" for the body as a whole)."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclasses.dataclass(frozen=True)
class C2BNotification:
    """A C2B validation or confirmation as Safaricom sent it; raw is the JSON object as received."""

    trans_id: str
    trans_type: str
    trans_time: datetime.datetime | None
    amount: Decimal
    shortcode: str
    bill_ref_number: str
    msisdn: str
    payer_name: str
    raw: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class StkQueryAnswer:
    """What the STK Push Query says of a push: result_code None while it is being processed, 0 if paid, any other
    code if it failed. It carries neither the amount nor the M-Pesa receipt number."""

    checkout_request_id: str
    merchant_request_id: str
    result_code: int | None
    result_desc: str
    raw: dict[str, Any]

    @property
    def pending(self) -> bool:
        return self.result_code is None

    @property
    def paid(self) -> bool:
        return self.result_code == STK_SUCCESS


@dataclasses.dataclass(frozen=True)
class StkResult:
    """The result of an STK push; receipt, amount, phone and transaction_date only when result_code is 0."""

    merchant_request_id: str
    checkout_request_id: str
    result_code: int
    result_desc: str
    amount: Decimal | None
    receipt: str
    transaction_date: datetime.datetime | None
    phone: str
    raw: dict[str, Any]

    @property
    def paid(self) -> bool:
        return self.result_code == STK_SUCCESS


def loads(body: bytes) -> Any:
    """JSON as Safaricom sends it, numbers with a fraction as Decimal; PayloadError if it is not JSON."""
    try:
        parsed = json.loads(body, parse_float=Decimal, parse_constant=_no_constant)
    except (ValueError, RecursionError) as error:  # not JSON, not UTF-8, or nested past what Python parses
        raise PayloadError(f"the body is not JSON ({str(error)[:100] or type(error).__name__})") from error
    if problem := _unstorable(parsed):
        raise PayloadError(problem)
    return parsed


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _unstorable(value: Any) -> str:
    """Why a parsed body could not be stored as it is ("" if it can): nested too deep, or a NUL character."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"the body is nested more than {MAX_DEPTH} deep"
        if isinstance(item, str) and "\x00" in item:
            return "the body holds a NUL character"  # neither PostgreSQL text nor jsonb can store one
        if isinstance(item, dict):
            stack.extend((part, depth + 1) for pair in item.items() for part in pair)
        elif isinstance(item, list):
            stack.extend((part, depth + 1) for part in item)
    return ""


def json_safe(value: Any) -> Any:
    """A parsed body made storable as JSON again: its Decimal numbers as strings."""
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_safe(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def password(shortcode: str, passkey: str, timestamp: str) -> str:
    """The STK push Password: base64 of shortcode + passkey + timestamp."""
    return base64.b64encode(f"{shortcode}{passkey}{timestamp}".encode()).decode()


def timestamp(moment: datetime.datetime | None = None) -> str:
    """A Daraja timestamp (YYYYMMDDHHMMSS, East Africa Time) for a moment, now by default."""
    moment = moment or datetime.datetime.now(datetime.UTC)
    return moment.astimezone(DARAJA_TIME_ZONE).strftime(TIMESTAMP_FORMAT)


def parse_timestamp(value: Any, field: str) -> datetime.datetime:
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    try:
        if len(text) != 14 or not text.isdigit():
            raise ValueError(text)
        moment = datetime.datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=DARAJA_TIME_ZONE)
        if not 2000 <= moment.year <= 2100:
            raise ValueError(text)
        return moment
    except ValueError as error:
        raise PayloadError(f"{field} is not a time of the form YYYYMMDDHHMMSS", field=field) from error


def forbidden_url_words(url: str) -> list[str]:
    """The words Daraja refuses that a callback URL holds."""
    lowered = url.lower()
    return [word for word in FORBIDDEN_URL_WORDS if word in lowered]


def callback_secret() -> str:
    """A secret for callback URLs: hexadecimal, so that it can never spell a word Daraja refuses."""
    return secrets.token_hex(24)


def transaction_id() -> str:
    """An M-Pesa style transaction or receipt id: ten capital letters and digits."""
    alphabet = string.ascii_uppercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(10))


def _object(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{field or 'the body'} is not a JSON object", field=field)
    return value


def _text(body: dict[str, Any], field: str, *, required: bool = True, limit: int = 200) -> str:
    """A text field; numbers are accepted as their digits (Daraja is not consistent about quoting)."""
    if field not in body or body[field] is None:
        if required:
            raise PayloadError(f"{field} is missing", field=field)
        return ""
    value = body[field]
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise PayloadError(f"{field} is not text", field=field)
    text = str(value).strip()
    if len(text) > limit:
        raise PayloadError(f"{field} is longer than {limit} characters", field=field)
    return text


def parse_amount(value: Any, field: str) -> Decimal:
    """A positive amount from a JSON string or number; never through a float."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise PayloadError(f"{field} is not an amount", field=field)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as error:
        raise PayloadError(f"{field} is not an amount", field=field) from error
    if not amount.is_finite() or amount <= 0 or amount >= MAX_AMOUNT:
        raise PayloadError(f"{field} must be a positive amount", field=field)
    return amount


def parse_c2b(body: Any) -> C2BNotification:
    """A C2B validation or confirmation; PayloadError names the first field that cannot be read."""
    body = _object(body, "")
    trans_id = _text(body, "TransID")
    if not TRANS_ID.fullmatch(trans_id):
        raise PayloadError("TransID must be 1 to 64 letters or digits", field="TransID")
    if "TransAmount" not in body:
        raise PayloadError("TransAmount is missing", field="TransAmount")
    amount = parse_amount(body["TransAmount"], "TransAmount")
    bill_ref = _text(body, "BillRefNumber", limit=MAX_REFERENCE)
    trans_time_text = _text(body, "TransTime", required=False)
    names = (_text(body, name, required=False, limit=100) for name in ("FirstName", "MiddleName", "LastName"))
    return C2BNotification(
        trans_id=trans_id,
        trans_type=_text(body, "TransactionType", required=False),
        trans_time=parse_timestamp(trans_time_text, "TransTime") if trans_time_text else None,
        amount=amount,
        shortcode=_text(body, "BusinessShortCode", required=False),
        bill_ref_number=bill_ref,
        msisdn=_text(body, "MSISDN", required=False),
        payer_name=" ".join(name for name in names if name)[:150],
        raw=body,
    )


def parse_stk_callback(body: Any) -> StkResult:
    """An STK push result; a successful one must carry the amount and the M-Pesa receipt number."""
    envelope = _object(_object(body, "").get("Body"), "Body")
    callback = _object(envelope.get("stkCallback"), "Body.stkCallback")
    checkout_id = _text(callback, "CheckoutRequestID", limit=100)
    if not checkout_id:
        raise PayloadError("CheckoutRequestID is empty", field="CheckoutRequestID")
    code_value = callback.get("ResultCode")
    try:
        if isinstance(code_value, bool) or not isinstance(code_value, int | str):
            raise ValueError(code_value)
        result_code = int(code_value)
        if not -(2**31) <= result_code < 2**31:
            raise ValueError(code_value)
    except ValueError as error:
        raise PayloadError("ResultCode is not a whole number", field="ResultCode") from error
    items: dict[str, Any] = {}
    metadata = callback.get("CallbackMetadata")
    if metadata is not None:
        entries = _object(metadata, "CallbackMetadata").get("Item")
        if not isinstance(entries, list):
            raise PayloadError("CallbackMetadata.Item is not a list", field="CallbackMetadata")
        for entry in entries:
            entry = _object(entry, "CallbackMetadata.Item")
            if isinstance(entry.get("Name"), str) and "Value" in entry:  # Daraja sends some names with no value
                items[entry["Name"]] = entry["Value"]
    amount: Decimal | None = None
    receipt = ""
    transaction_date = None
    if result_code == STK_SUCCESS:
        if "Amount" not in items:
            raise PayloadError("a successful result has no Amount", field="Amount")
        amount = parse_amount(items["Amount"], "Amount")
        receipt = _text(items, "MpesaReceiptNumber", limit=64)
        if not TRANS_ID.fullmatch(receipt):
            raise PayloadError("MpesaReceiptNumber must be 1 to 64 letters or digits", field="MpesaReceiptNumber")
        if items.get("TransactionDate") not in (None, ""):
            transaction_date = parse_timestamp(items["TransactionDate"], "TransactionDate")
    return StkResult(
        merchant_request_id=_text(callback, "MerchantRequestID", required=False, limit=100),
        checkout_request_id=checkout_id,
        result_code=result_code,
        result_desc=_text(callback, "ResultDesc", required=False, limit=255),
        amount=amount,
        receipt=receipt,
        transaction_date=transaction_date,
        phone=_text(items, "PhoneNumber", required=False, limit=64),
        raw=body,
    )


def stk_query_processing(body: Any) -> bool:
    """Whether a refusal of the STK Push Query only says the push is still being processed (not a failure)."""
    if not isinstance(body, dict):
        return False
    message = str(body.get("errorMessage") or "").lower()
    return str(body.get("errorCode") or "") == STK_QUERY_PROCESSING_CODE and "being processed" in message


def parse_stk_query(body: Any) -> StkQueryAnswer:
    """Daraja's answer to the STK Push Query: a result (ResultCode, ResultDesc), or still being processed.

    PayloadError if it is neither (the caller reports that as an answer of the wrong shape)."""
    body = _object(body, "")
    if stk_query_processing(body):
        return StkQueryAnswer(
            checkout_request_id=_text(body, "requestId", required=False, limit=100),
            merchant_request_id="",
            result_code=None,
            result_desc=_text(body, "errorMessage", required=False, limit=255),
            raw=body,
        )
    code_value = body.get("ResultCode")
    try:
        if isinstance(code_value, bool) or not isinstance(code_value, int | str):
            raise ValueError(code_value)
        result_code = int(str(code_value).strip())
        if not -(2**31) <= result_code < 2**31:
            raise ValueError(code_value)
    except ValueError as error:
        raise PayloadError("ResultCode is not a whole number", field="ResultCode") from error
    return StkQueryAnswer(
        checkout_request_id=_text(body, "CheckoutRequestID", required=False, limit=100),
        merchant_request_id=_text(body, "MerchantRequestID", required=False, limit=100),
        result_code=result_code,
        result_desc=_text(body, "ResultDesc", required=False, limit=255),
        raw=body,
    )


# What we answer Safaricom.


def validation_reply(code: str = VALIDATION_ACCEPTED) -> dict[str, str]:
    """{"ResultCode": "0", "ResultDesc": "Accepted"} or a C2B000xx rejection."""
    if code == VALIDATION_ACCEPTED:
        return {"ResultCode": VALIDATION_ACCEPTED, "ResultDesc": "Accepted"}
    if code not in VALIDATION_REJECTIONS:
        raise ValueError(f"unknown validation result code {code!r}")
    return {"ResultCode": code, "ResultDesc": "Rejected"}


def confirmation_reply() -> dict[str, Any]:
    return {"ResultCode": 0, "ResultDesc": "Success"}


# What Safaricom sends (used by the fake, the tests and docs/mpesa.md).


def c2b_payload(
    *,
    trans_id: str,
    amount: Decimal,
    shortcode: str,
    bill_ref_number: str,
    msisdn: str = "2547*****149",
    first_name: str = "John",
    last_name: str = "Doe",
    moment: datetime.datetime | None = None,
    org_account_balance: Decimal = Decimal("0"),
    transaction_type: str = "Pay Bill",
) -> dict[str, str]:
    return {
        "TransactionType": transaction_type,
        "TransID": trans_id,
        "TransTime": timestamp(moment),
        "TransAmount": f"{amount:.2f}",
        "BusinessShortCode": shortcode,
        "BillRefNumber": bill_ref_number,
        "InvoiceNumber": "",
        "OrgAccountBalance": f"{org_account_balance:.2f}",
        "ThirdPartyTransID": "",
        "MSISDN": msisdn,
        "FirstName": first_name,
        "MiddleName": "",
        "LastName": last_name,
    }


def stk_query_reply(
    *, merchant_request_id: str, checkout_request_id: str, result_code: int | None, result_desc: str = ""
) -> tuple[int, dict[str, Any]]:
    """Daraja's answer to an STK Push Query (HTTP status, body): the push's result, or 500 while it is pending."""
    if result_code is None:
        return 500, {
            "requestId": checkout_request_id,
            "errorCode": STK_QUERY_PROCESSING_CODE,
            "errorMessage": STK_QUERY_PROCESSING_MESSAGE,
        }
    return 200, {
        "ResponseCode": "0",
        "ResponseDescription": "The service request has been accepted successsfully",  # sic: Daraja's spelling
        "MerchantRequestID": merchant_request_id,
        "CheckoutRequestID": checkout_request_id,
        "ResultCode": str(result_code),
        "ResultDesc": result_desc or STK_RESULT_DESCRIPTIONS.get(result_code, "The transaction failed."),
    }


def stk_callback_payload(
    *,
    merchant_request_id: str,
    checkout_request_id: str,
    result_code: int,
    amount: Decimal | None = None,
    receipt: str = "",
    phone: str = "",
    moment: datetime.datetime | None = None,
    result_desc: str | None = None,
) -> dict[str, Any]:
    callback: dict[str, Any] = {
        "MerchantRequestID": merchant_request_id,
        "CheckoutRequestID": checkout_request_id,
        "ResultCode": result_code,
        "ResultDesc": result_desc or STK_RESULT_DESCRIPTIONS.get(result_code, "The transaction failed."),
    }
    if result_code == STK_SUCCESS:
        if amount is None:
            raise ValueError("a successful result needs the amount")
        callback["CallbackMetadata"] = {
            "Item": [
                # Daraja sends the amount as a JSON number; a whole one travels as an integer here.
                {"Name": "Amount", "Value": int(amount) if amount == amount.to_integral_value() else str(amount)},
                {"Name": "MpesaReceiptNumber", "Value": receipt},
                {"Name": "Balance"},
                {"Name": "TransactionDate", "Value": int(timestamp(moment))},
                {"Name": "PhoneNumber", "Value": int(phone) if phone.isdigit() else phone},
            ]
        }
    return {"Body": {"stkCallback": callback}}
