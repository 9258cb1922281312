"""Onboarding an operator from its licence, operator prefixes, grace periods, and the operator's logo."""

import datetime
import re
import unicodedata
import xml.etree.ElementTree as ElementTree
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.accounts.roles import Role
from mita.accounts.services import user_invite
from mita.core.audit import audit_record, snapshot
from mita.core.errors import Conflict, DomainError
from mita.registry.licensing import LicenceRecord, LicensingError, LicensingSystem, licensing_system
from mita.registry.models import Boundary, GracePeriod, Licence, Operator, OperatorPrefix
from mita.registry.services.licences import licence_upsert_from_record


class RegistryError(DomainError):
    pass


# Prefixes ------------------------------------------------------------------------------------------------

_STOP_WORDS = {"LTD", "LIMITED", "CO", "COMPANY", "SARL", "PLC", "THE", "AND", "OF", "DE", "DU", "LA", "LE", "ET"}


def _prefix_candidates(name: str) -> list[str]:
    """Readable candidates from a name: initials, then the first letters of the first word, then numbered."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().upper()
    words = [w for w in re.findall(r"[A-Z0-9]+", ascii_name) if w not in _STOP_WORDS] or ["OP"]
    initials = "".join(word[0] for word in words)[:4]
    candidates = []
    if len(initials) >= 3:
        candidates.append(initials)
    first = words[0]
    candidates += [first[:3], (first + "X" * 3)[:3], (initials + first)[:3], first[:4]]
    base = (initials if len(initials) >= 2 else first)[:3]
    candidates += [f"{base}{n}" for n in range(2, 100)]
    seen: list[str] = []
    for candidate in candidates:
        if len(candidate) >= 2 and candidate not in seen:
            seen.append(candidate)
    return seen


def operator_prefix_reserve(*, name: str) -> str:
    """Issue a short, unique, readable prefix that no operator ever had (prefixes are never reused)."""
    for candidate in _prefix_candidates(name):
        try:
            with transaction.atomic():
                OperatorPrefix.objects.create(prefix=candidate)
        except IntegrityError:
            continue
        return candidate
    raise RegistryError(_("No free prefix could be made from this name."), code="prefix_exhausted")


# Onboarding ----------------------------------------------------------------------------------------------


def licence_fetch(*, number: str, system: LicensingSystem | None = None) -> LicenceRecord:
    """Ask the licensing system for a licence; its errors become clear domain errors (nothing is saved)."""
    number = number.strip()
    if not number:
        raise RegistryError(
            _("Enter the licence number."),
            code="licence_number_required",
            fields={"licence_number": [_("Enter the licence number.")]},
        )
    try:
        return (system or licensing_system()).fetch(number)
    except LicensingError as error:
        status = 404 if error.code == "not_found" else 502
        raise RegistryError(
            str(error), code=f"licensing_{error.code}", status=status, fields={"licence_number": [str(error)]}
        ) from error


def grace_covering(*, licence: Licence, day: datetime.date) -> GracePeriod | None:
    return licence.grace_periods.filter(starts_on__lte=day, ends_on__gte=day).first()


def _refuse_unless_onboardable(*, licence: Licence, today: datetime.date) -> None:
    if licence.operator_id is not None:
        raise Conflict(
            _("Licence %(number)s is already held by %(operator)s.")
            % {"number": licence.number, "operator": licence.operator},
            code="licence_already_onboarded",
            fields={"licence_number": [_("Already onboarded.")]},
        )
    if not licence.is_valid_on(today) and grace_covering(licence=licence, day=today) is None:
        raise RegistryError(
            _(
                "Licence %(number)s is %(status)s (expiry %(expiry)s). Onboarding needs a valid licence, "
                "or a grace period granted by the regulator that covers today."
            )
            % {
                "number": licence.number,
                "status": licence.get_status_display().lower(),
                "expiry": licence.expires_on.isoformat(),
            },
            code="licence_not_valid",
            fields={"licence_number": [_("This licence is not valid and no grace period covers today.")]},
        )


def operator_onboard(
    *,
    licence_number: str,
    kind: str,
    utility: str,
    currency: str,
    country_code: str,
    acting_user: Any,
    name: str = "",
    districts: list[Boundary] | None = None,
    language: str = "en",
    system: LicensingSystem | None = None,
) -> Operator:
    """Onboard an operator from its licence: operator, prefix, licence, admin and invitation exist together or not at all.

    Refused unless the licence is valid today or a grace period granted on it covers today.
    """
    record = licence_fetch(number=licence_number, system=system)  # outside any transaction: a network call
    today = timezone.localdate()
    with transaction.atomic():  # kept even if onboarding is refused: the regulator may grant a grace period on it
        licence = licence_upsert_from_record(record=record, acting_user=acting_user)
    _refuse_unless_onboardable(licence=licence, today=today)
    if not record.phone:
        raise RegistryError(
            _(
                "The licence has no phone number, so the operator's admin cannot be invited. "
                "Ask the licensing office to add one."
            ),
            code="licence_without_phone",
        )
    with transaction.atomic():
        licence = Licence.objects.select_for_update().get(pk=licence.pk)
        _refuse_unless_onboardable(licence=licence, today=today)
        operator_name = name.strip() or record.holder_name
        operator = Operator.objects.create(
            name=operator_name,
            kind=kind,
            utility=utility,
            prefix=operator_prefix_reserve(name=operator_name),
            country_code=country_code,
            currency=currency,
            phone=record.phone,
            email=record.email,
        )
        OperatorPrefix.objects.filter(prefix=operator.prefix).update(operator=operator)
        operator.districts.set(districts if districts is not None else licence.districts.all())
        licence.operator = operator
        licence.save(update_fields=["operator"])
        audit_record(
            actor=acting_user,
            action="operator.onboarded",
            target=operator,
            after={
                **snapshot(operator, ["name", "kind", "utility", "prefix", "currency"]),
                "licence": licence.number,
                "districts": [d.name for d in operator.districts.all()],
            },
        )
        user_invite(
            phone=record.phone,
            name=_("Administrator, %(holder)s") % {"holder": record.holder_name},
            email=record.email,
            language=language,
            role=Role.OPERATOR_ADMIN,
            organisation=operator,
            acting_user=acting_user,
            operator=operator,
        )
    return operator


# Grace periods -------------------------------------------------------------------------------------------


@transaction.atomic
def grace_period_grant(
    *, licence: Licence, starts_on: datetime.date, ends_on: datetime.date, reason: str, acting_user: Any
) -> GracePeriod:
    """Let the holder of a licence that is not valid (or is about to lapse) operate until ends_on."""
    errors: dict[str, list[str]] = {}
    if ends_on < starts_on:
        errors["ends_on"] = [_("The end must be on or after the start.")]
    if not reason.strip():
        errors["reason"] = [_("Say why the grace period is granted.")]
    if licence.is_valid_on(ends_on):
        errors["ends_on"] = [
            _("The licence is valid until %(expiry)s: a grace period is for a licence that is not valid.")
            % {"expiry": licence.expires_on.isoformat()}
        ]
    if errors:
        raise RegistryError(
            _("The grace period was not granted: %(problems)s")
            % {"problems": " ".join(m for ms in errors.values() for m in ms)},
            code="grace_invalid",
            fields=errors,
        )
    grace = GracePeriod.objects.create(
        licence=licence, starts_on=starts_on, ends_on=ends_on, reason=reason.strip(), granted_by=acting_user
    )
    audit_record(
        actor=acting_user,
        action="grace_period.granted",
        target=grace,
        operator=licence.operator_id,
        after=snapshot(grace, ["starts_on", "ends_on", "reason"]) | {"licence": licence.number},
    )
    return grace


# Logos ---------------------------------------------------------------------------------------------------

_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"


def _logo_kind(content: bytes) -> str | None:
    """What the bytes really are (png, jpeg, svg), whatever the file's name says; None if none of them."""
    if content.startswith(_PNG):
        return "png"
    if content.startswith(_JPEG):
        return "jpeg"
    head = content[:2048].lstrip().lower()
    if head.startswith(b"<?xml") or head.startswith(b"<svg"):
        if b"<!doctype" in content.lower() or b"<!entity" in content.lower():
            return None  # no DTDs: they are how XML bombs and external entities get in
        try:
            root = ElementTree.fromstring(content)  # noqa: S314 - DTDs and entities refused just above
        except ElementTree.ParseError:
            return None
        if not root.tag.endswith("svg"):
            return None
        for element in root.iter():
            if element.tag.split("}")[-1].lower() in {"script", "foreignobject"}:
                return None
            if any(attribute.lower().startswith("on") for attribute in element.attrib):
                return None
            if any("javascript:" in value.lower() for value in element.attrib.values()):
                return None
        return "svg"
    return None


@transaction.atomic
def operator_logo_set(*, operator: Operator, upload: UploadedFile, acting_user: Any) -> Operator:
    """Replace the operator's logo with a PNG, JPEG or SVG (checked by content, scripts refused, size-limited)."""
    limit = settings.MITA_LOGO_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise RegistryError(
            _("The logo is too large: at most %(kb)d KB.") % {"kb": limit // 1024},
            code="logo_too_large",
            fields={"logo": [_("At most %(kb)d KB.") % {"kb": limit // 1024}]},
        )
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise RegistryError(
            _("The logo is too large: at most %(kb)d KB.") % {"kb": limit // 1024},
            code="logo_too_large",
            fields={"logo": [_("At most %(kb)d KB.") % {"kb": limit // 1024}]},
        )
    kind = _logo_kind(content)
    if kind is None:
        message = _("The logo must be a PNG, JPEG or SVG image (an SVG without scripts).")
        raise RegistryError(message, code="logo_invalid", fields={"logo": [message]})
    from django.core.files.base import ContentFile

    extension = {"png": "png", "jpeg": "jpg", "svg": "svg"}[kind]
    operator.logo.save(
        f"{operator.prefix.lower()}-{timezone.now():%Y%m%d%H%M%S}.{extension}", ContentFile(content), save=False
    )
    operator.save(update_fields=["logo"])
    audit_record(actor=acting_user, action="operator.logo_changed", target=operator, after={"logo": operator.logo.name})
    return operator
