"""The licensing system (CLMS) over HTTP: fetch one licence by its number and check that the answer makes sense.

The protocol (docs/clms.md): GET {base}/api/v1/licences/{number} with the number URL-encoded ("/" as %2F) and
the header Authorization: Bearer {token}. 200 carries the licence as JSON; 404 {"error": "not_found"} means there
is no such licence; 401 or 403 means the token was refused. Every failure surfaces as ClmsError with a kind:

  unreachable       no connection, no answer in time, or a server error (5xx, 429): worth trying again later
  not_found         CLMS says it has no licence with this number
  refused           CLMS refused our token (401, 403)
  invalid_response  any other status, a body that is not JSON, or JSON of the wrong shape
"""

import dataclasses
import datetime
import json
import re
from typing import Any
from urllib.parse import quote

import httpx

from mita.integrations.responses import excerpt

LICENCE_PATH = "/api/v1/licences/"
STATUSES = frozenset({"valid", "expired", "revoked", "suspended"})
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


class ClmsError(Exception):
    """CLMS could not be used. kind: unreachable, not_found, refused, invalid_response; status_code if it answered."""

    def __init__(self, message: str, *, kind: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status_code = status_code


@dataclasses.dataclass(frozen=True)
class ClmsDistrict:
    code: str
    name: str


@dataclasses.dataclass(frozen=True)
class ClmsLicence:
    """A licence as CLMS reported it, checked field by field; raw is the JSON object as received."""

    licence_number: str
    holder_name: str
    holder_tin: str
    holder_email: str
    holder_phone: str
    status: str
    issue_date: datetime.date
    expiry_date: datetime.date
    services: tuple[str, ...]
    districts: tuple[ClmsDistrict, ...]
    raw: dict[str, Any]


class ClmsClient:
    def __init__(
        self, *, base_url: str, token: str, timeout: float = 10.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.transport = transport

    def licence_url(self, number: str) -> str:
        return self.base_url + LICENCE_PATH + quote(number, safe="")

    def licence(self, number: str) -> ClmsLicence:
        """The licence with this number; raises ClmsError unless CLMS answered with a licence that makes sense."""
        number = number.strip()
        if not number:
            raise ClmsError("no licence number given", kind="not_found")
        url = self.licence_url(number)
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as http:
                response = http.get(url, headers=headers)
        except httpx.TimeoutException as error:
            raise ClmsError(
                f"no answer from CLMS within {self.timeout:g}s ({type(error).__name__})", kind="unreachable"
            ) from error
        except (httpx.HTTPError, httpx.InvalidURL) as error:  # a malformed base URL cannot be reached either
            raise ClmsError(
                f"could not reach CLMS at {url}: {error or type(error).__name__}", kind="unreachable"
            ) from error
        _raise_for_status(response, number)
        body = _json(response)
        try:
            licence = _licence(body)
        except (KeyError, TypeError, ValueError) as error:
            raise ClmsError(
                f"CLMS answered JSON of an unexpected shape ({error}): {excerpt(json.dumps(body))}",
                kind="invalid_response",
                status_code=response.status_code,
            ) from error
        # CLMS may spell the number in its own case; another licence altogether is an answer to another question.
        if licence.licence_number.casefold() != number.casefold():
            raise ClmsError(
                f"asked CLMS for licence {number} and it answered with licence {licence.licence_number}",
                kind="invalid_response",
                status_code=response.status_code,
            )
        return licence


def _raise_for_status(response: httpx.Response, number: str) -> None:
    status = response.status_code
    if response.is_success:
        return
    if status == 404:
        # Only CLMS's own "not found" means the licence is unknown; a bare 404 is more likely a wrong base URL.
        try:
            says_not_found = response.json() == {"error": "not_found"}
        except (ValueError, RecursionError):
            says_not_found = False
        if says_not_found:
            raise ClmsError(f"CLMS has no licence {number}", kind="not_found", status_code=status)
        raise ClmsError(
            f"CLMS answered HTTP 404 without saying the licence is unknown (is the base URL right?): "
            f"{excerpt(response.text)}",
            kind="invalid_response",
            status_code=status,
        )
    if status in (401, 403):
        raise ClmsError(f"CLMS refused the token (HTTP {status})", kind="refused", status_code=status)
    if status >= 500 or status == 429:
        raise ClmsError(
            f"CLMS is not available (HTTP {status}): {excerpt(response.text)}", kind="unreachable", status_code=status
        )
    raise ClmsError(
        f"CLMS answered HTTP {status}: {excerpt(response.text)}", kind="invalid_response", status_code=status
    )


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, RecursionError) as error:  # not JSON, not UTF-8, or nested past what Python parses
        raise ClmsError(
            f"CLMS answered something that is not JSON: {excerpt(response.text)}",
            kind="invalid_response",
            status_code=response.status_code,
        ) from error


def _text(value: Any, field: str, *, required: bool = False) -> str:
    """A string field; null or absent is "" unless required."""
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"{field} is not a string")
    value = value.strip()
    if required and not value:
        raise ValueError(f"{field} is empty")
    return value


def _date(value: Any, field: str) -> datetime.date:
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        raise ValueError(f"{field} is not a date of the form YYYY-MM-DD")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as error:
        raise ValueError(f"{field} is not a date of the form YYYY-MM-DD") from error


def _object(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"{field} is not an object")
    return value


def _list(value: Any, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"{field} is not a list")
    return value


def _district(value: Any) -> ClmsDistrict:
    entry = _object(value, "a district")
    district = ClmsDistrict(
        code=_text(entry.get("code"), "district code"), name=_text(entry.get("name"), "district name")
    )
    if not district.code and not district.name:
        raise ValueError("a district has neither a code nor a name")
    return district


def _licence(body: Any) -> ClmsLicence:
    body = _object(body, "the answer")
    holder = _object(body["holder"], "holder")
    status = body["status"]
    if status not in STATUSES:
        raise ValueError(f"status {status!r} is not one of {sorted(STATUSES)}")
    issue_date = _date(body["issue_date"], "issue_date")
    expiry_date = _date(body["expiry_date"], "expiry_date")
    if expiry_date < issue_date:
        raise ValueError("expiry_date is before issue_date")
    return ClmsLicence(
        licence_number=_text(body["licence_number"], "licence_number", required=True),
        holder_name=_text(holder["name"], "holder name", required=True),
        holder_tin=_text(holder.get("tin"), "holder tin"),
        holder_email=_text(holder.get("email"), "holder email"),
        holder_phone=_text(holder.get("phone"), "holder phone"),
        status=status,
        issue_date=issue_date,
        expiry_date=expiry_date,
        services=tuple(_text(service, "a service", required=True) for service in _list(body["services"], "services")),
        districts=tuple(_district(entry) for entry in _list(body["districts"], "districts")),
        raw=body,
    )
