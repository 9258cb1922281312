"""The licensing system as the registry sees it: fetch a licence by number. The CLMS client sits behind this."""

import dataclasses
import datetime
from typing import Any, Protocol


@dataclasses.dataclass(frozen=True)
class LicenceRecord:
    """A licence as the licensing system reports it."""

    number: str
    holder_name: str
    tin: str
    email: str
    phone: str
    status: str  # one of Licence.Status
    issued_on: datetime.date
    expires_on: datetime.date
    services: list[str]
    district_codes: list[str]
    district_names: list[str]
    raw: dict[str, Any]


class LicensingError(Exception):
    """The licensing system could not answer usefully. `code`: unreachable, not_found, invalid_response, refused."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


class LicensingSystem(Protocol):
    def fetch(self, number: str) -> LicenceRecord:
        """The licence with this number, or LicensingError."""
        ...


def licensing_system() -> LicensingSystem:
    """The configured licensing system: the CLMS HTTP client (the fake CLMS in the demo and the tests)."""
    from mita.registry.clms import ClmsLicensingSystem

    return ClmsLicensingSystem()
