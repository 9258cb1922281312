"""Phone numbers in E.164, the login identifier."""

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def normalize_phone(raw: str, region: str | None = None) -> str:
    """Parse a phone number as typed (local or international) and return it in E.164, or raise ValidationError."""
    raw = (raw or "").strip()
    if not raw:
        raise ValidationError(_("Enter a phone number."), code="phone_required")
    try:
        number = phonenumbers.parse(raw, region or settings.MITA_DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            _("“%(phone)s” is not a phone number. Write it like +250788123456."),
            code="phone_invalid",
            params={"phone": raw},
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("“%(phone)s” is not a valid phone number. Check the country code and the digits."),
            code="phone_invalid",
            params={"phone": raw},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
