"""The licensing system through CLMS: the registry's LicensingSystem interface over the integration's HTTP client."""

import logging

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext as _

from mita.integrations.clms.client import ClmsClient, ClmsError, ClmsLicence
from mita.registry.licensing import LicenceRecord, LicensingError
from mita.registry.models import Licence

logger = logging.getLogger(__name__)


def client_from_settings() -> ClmsClient:
    return ClmsClient(
        base_url=settings.MITA_CLMS_BASE_URL,
        token=settings.MITA_CLMS_TOKEN,
        timeout=float(getattr(settings, "MITA_CLMS_TIMEOUT_SECONDS", 10.0)),
    )


def error_message(kind: str, number: str) -> str:
    """What a person reading the page is told: what happened, and what to do about it."""
    if kind == "not_found":
        return _("The licensing system has no licence numbered %(number)s. Check the number; nothing was changed.") % {
            "number": number
        }
    if kind == "refused":
        return _(
            "The licensing system refused Mita's access token; ask the system administrator to check the CLMS "
            "settings. Nothing was changed."
        )
    if kind == "invalid_response":
        return _(
            "The licensing system gave an answer Mita cannot read; try again later, and tell the system "
            "administrator if it keeps happening. Nothing was changed."
        )
    return _("The licensing system did not answer; try again later. Nothing was changed.")


class ClmsLicensingSystem:
    """Fetches licences from CLMS; the settings are read at each call, so a changed setting takes effect at once."""

    def __init__(self, client: ClmsClient | None = None) -> None:
        self.client = client

    def fetch(self, number: str) -> LicenceRecord:
        client = self.client or client_from_settings()
        try:
            return licence_record(client.licence(number))
        except ClmsError as error:
            logger.warning("CLMS: licence %s: %s (%s)", number, error, error.kind)
            raise LicensingError(error_message(error.kind, number.strip()), code=error.kind) from error


def licence_record(licence: ClmsLicence) -> LicenceRecord:
    """The registry's record of a licence CLMS reported; values that would not fit a Licence row are refused."""
    record = LicenceRecord(
        number=licence.licence_number,
        holder_name=licence.holder_name,
        tin=licence.holder_tin,
        email=licence.holder_email,
        phone=_e164(licence.holder_phone),
        status=licence.status,
        issued_on=licence.issue_date,
        expires_on=licence.expiry_date,
        services=list(licence.services),
        district_codes=[district.code for district in licence.districts],
        district_names=[district.name for district in licence.districts],
        raw=licence.raw,
    )
    for field, value in (
        ("number", record.number),
        ("holder_name", record.holder_name),
        ("tin", record.tin),
        ("email", record.email),
        ("phone", record.phone),
    ):
        max_length = getattr(Licence._meta.get_field(field), "max_length", None)
        if max_length is not None and len(value) > max_length:
            raise ClmsError(f"CLMS sent a {field} longer than {max_length} characters", kind="invalid_response")
    return record


def _e164(phone: str) -> str:
    """The phone number in E.164 if it is a valid international number; otherwise as CLMS wrote it."""
    try:
        parsed = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return phone
    if not phonenumbers.is_valid_number(parsed):
        return phone
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
