"""The land registry as the customers app sees it: look a parcel up by its UPI. The HTTP client sits behind this.

A UPI (Rwanda's Unique Parcel Identifier) reads province/district/sector/cell/parcel, e.g. 1/02/03/04/1234:
one digit for the province (1-5), two each for district, sector and cell, and the parcel's number (1-6 digits).
"""

import dataclasses
import datetime
import logging
import re
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.utils.translation import gettext as _

from mita.core.errors import DomainError

logger = logging.getLogger(__name__)

UPI_FORMAT = re.compile(r"[1-5]/\d{2}/\d{2}/\d{2}/\d{1,6}", re.ASCII)


@dataclasses.dataclass(frozen=True)
class ParcelRecord:
    """A parcel as the land registry reports it, in the words a connection keeps."""

    upi: str
    village: str
    cell: str
    sector: str
    district: str
    area_m2: Decimal
    land_use: str
    owner_name: str  # as the registry writes it; several owners are joined with "; "
    looked_up_at: datetime.datetime


class ParcelError(DomainError):
    """The parcel could not be looked up: a malformed UPI, an unknown one, or the registry unusable.
    `code`: upi_invalid, parcel_not_found, registry_unreachable, registry_refused, registry_invalid_response."""


class LandRegistry(Protocol):
    def lookup(self, upi: str) -> ParcelRecord:
        """The parcel with this (well-formed) UPI, or ParcelError."""
        ...


def upi_clean(raw: str) -> str:
    """The UPI as stored: spaces dropped; refused with a clear message unless it has the five parts."""
    upi = "".join((raw or "").split())
    if not UPI_FORMAT.fullmatch(upi):
        message = _(
            "A UPI has five parts separated by slashes: province (1 digit, 1-5), district, sector and cell "
            "(2 digits each) and the parcel number, e.g. 1/02/03/04/1234."
        )
        raise ParcelError(message, code="upi_invalid", fields={"parcel_upi": [message]})
    return upi


_registry: LandRegistry | None = None


def land_registry() -> LandRegistry:
    """The configured land registry: the HTTP client (the fake land registry in the demo and the tests), unless a
    test set another with land_registry_set()."""
    if _registry is not None:
        return _registry
    return HttpLandRegistry()


def land_registry_set(registry: LandRegistry | None) -> None:
    global _registry
    _registry = registry


def parcel_lookup(raw_upi: str) -> ParcelRecord:
    """Check the UPI's format, then ask the land registry for its parcel."""
    return land_registry().lookup(upi_clean(raw_upi))


def _error_message(kind: str, upi: str) -> tuple[str, str]:
    if kind == "not_found":
        return "parcel_not_found", _(
            "The land registry has no parcel with UPI %(upi)s. Check the UPI on the land title; nothing else changed."
        ) % {"upi": upi}
    if kind == "refused":
        return "registry_refused", _(
            "The land registry refused Mita's API key; ask the system administrator to check the land registry "
            "settings. Nothing else changed."
        )
    if kind == "invalid_response":
        return "registry_invalid_response", _(
            "The land registry gave an answer Mita cannot read; try again later, and tell the system administrator "
            "if it keeps happening. Nothing else changed."
        )
    return "registry_unreachable", _("The land registry did not answer; try the look-up again later.")


class HttpLandRegistry:
    """Looks parcels up over HTTP. Without a base URL and key, the settings are read at each call, so a changed
    setting takes effect at once."""

    def __init__(self, *, base_url: str = "", api_key: str = "") -> None:
        self.base_url = base_url
        self.api_key = api_key

    def lookup(self, upi: str) -> ParcelRecord:
        from django.utils import timezone

        from mita.integrations.landregistry.client import LandRegistryClient, LandRegistryError

        client = LandRegistryClient(
            base_url=self.base_url or settings.MITA_LAND_REGISTRY_BASE_URL,
            api_key=self.api_key or settings.MITA_LAND_REGISTRY_API_KEY,
            timeout=float(settings.MITA_LAND_REGISTRY_TIMEOUT_SECONDS),
        )
        try:
            parcel = client.parcel(upi)
        except LandRegistryError as error:
            logger.warning("land registry: parcel %s: %s (%s)", upi, error, error.kind)
            code, message = _error_message(error.kind, upi)
            status = 400 if error.kind == "not_found" else 503
            raise ParcelError(message, code=code, fields={"parcel_upi": [message]}, status=status) from error
        return ParcelRecord(
            upi=parcel.upi,
            village=parcel.village[:120],
            cell=parcel.cell[:120],
            sector=parcel.sector[:120],
            district=parcel.district[:120],
            area_m2=parcel.area_m2,
            land_use=parcel.land_use[:60],
            owner_name="; ".join(parcel.owner_names)[:300],
            looked_up_at=timezone.now(),
        )
