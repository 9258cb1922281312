"""The land registry over HTTP: fetch one parcel by its UPI and check that the answer makes sense.

The protocol (docs/integrations/land-registry.md): GET {base}/api/v1/parcels/{upi} with the UPI URL-encoded ("/" as
%2F) and the header X-Api-Key: {key}. 200 carries the parcel as JSON; 404 {"error": "parcel_not_found"} means the
registry has no such parcel; 401 or 403 means the key was refused. Every failure surfaces as LandRegistryError
with a kind:

  unreachable       no connection, no answer in time, or a server error (5xx, 429): worth trying again later
  not_found         the registry says it has no parcel with this UPI
  refused           the registry refused our API key (401, 403)
  invalid_response  any other status, a body that is not JSON, or JSON of the wrong shape
"""

import dataclasses
import decimal
import json
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from mita.integrations.responses import excerpt

PARCEL_PATH = "/api/v1/parcels/"
API_KEY_HEADER = "X-Api-Key"


class LandRegistryError(Exception):
    """The land registry could not be used. kind: unreachable, not_found, refused, invalid_response."""

    def __init__(self, message: str, *, kind: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status_code = status_code


@dataclasses.dataclass(frozen=True)
class Parcel:
    """A parcel as the land registry reported it, checked field by field; raw is the JSON object as received."""

    upi: str
    province: str
    district: str
    sector: str
    cell: str
    village: str
    area_m2: Decimal
    land_use: str
    owner_names: tuple[str, ...]
    raw: dict[str, Any]


class LandRegistryClient:
    def __init__(
        self, *, base_url: str, api_key: str, timeout: float = 10.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.transport = transport

    def parcel_url(self, upi: str) -> str:
        return self.base_url + PARCEL_PATH + quote(upi, safe="")

    def parcel(self, upi: str) -> Parcel:
        """The parcel with this UPI; raises LandRegistryError unless the registry answered with a sensible parcel."""
        upi = upi.strip()
        if not upi:
            raise LandRegistryError("no UPI given", kind="not_found")
        url = self.parcel_url(upi)
        headers = {API_KEY_HEADER: self.api_key, "Accept": "application/json"}
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as http:
                response = http.get(url, headers=headers)
        except httpx.TimeoutException as error:
            raise LandRegistryError(
                f"no answer from the land registry within {self.timeout:g}s ({type(error).__name__})",
                kind="unreachable",
            ) from error
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            raise LandRegistryError(
                f"could not reach the land registry at {url}: {error or type(error).__name__}", kind="unreachable"
            ) from error
        _raise_for_status(response, upi)
        body = _json(response)
        try:
            parcel = _parcel(body)
        except (KeyError, TypeError, ValueError, decimal.InvalidOperation) as error:
            raise LandRegistryError(
                f"the land registry answered JSON of an unexpected shape ({error!r}): {excerpt(json.dumps(body))}",
                kind="invalid_response",
                status_code=response.status_code,
            ) from error
        if parcel.upi != upi:
            raise LandRegistryError(
                f"asked the land registry for parcel {upi} and it answered with parcel {parcel.upi}",
                kind="invalid_response",
                status_code=response.status_code,
            )
        return parcel


def _raise_for_status(response: httpx.Response, upi: str) -> None:
    status = response.status_code
    if response.is_success:
        return
    if status == 404:
        # Only the registry's own "not found" means the parcel is unknown; a bare 404 is more likely a wrong base URL.
        try:
            says_not_found = response.json() == {"error": "parcel_not_found"}
        except (ValueError, RecursionError):
            says_not_found = False
        if says_not_found:
            raise LandRegistryError(f"the land registry has no parcel {upi}", kind="not_found", status_code=status)
        raise LandRegistryError(
            "the land registry answered HTTP 404 without saying the parcel is unknown (is the base URL right?): "
            f"{excerpt(response.text)}",
            kind="invalid_response",
            status_code=status,
        )
    if status in (401, 403):
        raise LandRegistryError(
            f"the land registry refused the API key (HTTP {status})", kind="refused", status_code=status
        )
    if status >= 500 or status == 429:
        raise LandRegistryError(
            f"the land registry is not available (HTTP {status}): {excerpt(response.text)}",
            kind="unreachable",
            status_code=status,
        )
    raise LandRegistryError(
        f"the land registry answered HTTP {status}: {excerpt(response.text)}",
        kind="invalid_response",
        status_code=status,
    )


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, RecursionError) as error:
        raise LandRegistryError(
            f"the land registry answered something that is not JSON: {excerpt(response.text)}",
            kind="invalid_response",
            status_code=response.status_code,
        ) from error


def _text(value: Any, field: str, *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"{field} is not a string")
    value = value.strip()
    if required and not value:
        raise ValueError(f"{field} is empty")
    return value


def _object(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"{field} is not an object")
    return value


def _area(value: Any) -> Decimal:
    """Square metres, sent as a JSON number or a decimal string; read as a Decimal from its text (never a float)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError("area_m2 is not a number")
    area = Decimal(str(value).strip())
    if not area.is_finite() or area <= 0 or area >= Decimal("1E10"):
        raise ValueError("area_m2 is not a positive area")
    return area.quantize(Decimal("0.01"))


def _parcel(body: Any) -> Parcel:
    body = _object(body, "the answer")
    location = _object(body["location"], "location")
    owners = body["owners"]
    if not isinstance(owners, list):
        raise TypeError("owners is not a list")
    owner_names = tuple(_text(_object(owner, "an owner").get("name"), "owner name", required=True) for owner in owners)
    return Parcel(
        upi=_text(body["upi"], "upi", required=True),
        province=_text(location.get("province"), "province"),
        district=_text(location["district"], "district", required=True),
        sector=_text(location["sector"], "sector", required=True),
        cell=_text(location["cell"], "cell", required=True),
        village=_text(location.get("village"), "village"),
        area_m2=_area(body["area_m2"]),
        land_use=_text(body.get("land_use"), "land_use"),
        owner_names=owner_names,
        raw=body,
    )
