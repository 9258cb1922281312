"""Writes about licences: keep the copy of a licence the licensing system (CLMS) reports, and re-sync them daily."""

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.core.audit import audit_record, snapshot
from mita.core.errors import Conflict
from mita.registry.licensing import LicenceRecord, LicensingError, LicensingSystem, licensing_system
from mita.registry.models import Boundary, Licence, LicenceEvent, Operator

logger = logging.getLogger(__name__)

# What a licence holds as CLMS reports it; "districts" is compared as the sorted boundary codes.
RECORD_FIELDS = ["number", "holder_name", "tin", "email", "phone", "status", "issued_on", "expires_on", "services"]
# A change in one of these is a licence event (the history the regulator reads), not only an audit entry.
EVENT_FIELDS = ["status", "issued_on", "expires_on"]


def licence_districts(*, record: LicenceRecord) -> tuple[list[Boundary], list[str]]:
    """The districts a licence names, matched by code first and then by name; and the ones nobody could match."""
    districts = Boundary.objects.districts()
    by_code = {
        district.code: district for district in districts.filter(code__in=[c for c in record.district_codes if c])
    }
    matched: dict[int, Boundary] = {}
    unmatched: list[str] = []
    for code, name in zip(record.district_codes, record.district_names, strict=True):
        district = by_code.get(code) if code else None
        if district is None and name:
            # Two districts of one name (in different provinces) cannot be told apart by name: no match.
            same_name = list(districts.filter(name__iexact=name)[:2])
            district = same_name[0] if len(same_name) == 1 else None
        if district is None:
            unmatched.append(f"{code} {name}".strip())
        else:
            matched[district.pk] = district
    return list(matched.values()), unmatched


def _state(licence: Licence, district_codes: list[str]) -> dict[str, Any]:
    return {**snapshot(licence, RECORD_FIELDS), "districts": sorted(district_codes)}


def _locked(number: str) -> Licence | None:
    # Matched without regard to case: CLMS may spell a number its own way, and it is still the same licence.
    return Licence.objects.select_for_update().filter(number__iexact=number).order_by("pk").first()


@transaction.atomic
def _licence_apply(
    *, record: LicenceRecord, operator: Operator | None = None, acting_user: Any = None
) -> tuple[Licence, bool]:
    """Create or update the licence from the record; returns it, and whether anything it holds changed."""
    districts, unmatched = licence_districts(record=record)
    if unmatched:
        logger.warning("licence %s names districts Mita does not know: %s", record.number, ", ".join(unmatched))
    fields: dict[str, Any] = {
        "number": record.number,
        "holder_name": record.holder_name,
        "tin": record.tin,
        "email": record.email,
        "phone": record.phone,
        "status": record.status,
        "issued_on": record.issued_on,
        "expires_on": record.expires_on,
        "services": sorted(set(record.services)),  # a set in CLMS's order of the day: sorted, so no false change
        "fetched_at": timezone.now(),
        "source": record.raw,
    }
    before: dict[str, Any] = {}
    created = False
    licence = _locked(record.number)
    if licence is None:
        try:
            with transaction.atomic():
                licence = Licence.objects.create(**fields)
            created = True
        except IntegrityError:
            # Created by a concurrent fetch of the same number since we looked: update that one instead.
            licence = _locked(record.number)
            if licence is None:
                raise
    if not created:
        before = _state(licence, list(licence.districts.values_list("code", flat=True)))
    if operator is not None and licence.operator_id not in (None, operator.pk):
        raise Conflict(
            _("Licence %(number)s already belongs to %(operator)s.")
            % {"number": licence.number, "operator": licence.operator},
            code="licence_taken",
        )
    old_status, old_operator_id = licence.status, licence.operator_id
    for name, value in fields.items():
        setattr(licence, name, value)
    if operator is not None:
        licence.operator = operator
    licence.save()
    licence.districts.set(districts)
    after = _state(licence, [district.code for district in districts])

    changed = {name for name in after if before.get(name) != after[name]}
    detail: dict[str, Any] = {"unmatched_districts": unmatched} if unmatched else {}
    if created:
        LicenceEvent.objects.create(
            licence=licence, old_status="", new_status=licence.status, detail={"first_seen": True}
        )
        audit_record(actor=acting_user, action="licence.fetched", target=licence, after=after, detail=detail)
    elif changed:
        if changed & set(EVENT_FIELDS):
            LicenceEvent.objects.create(
                licence=licence,
                old_status=old_status,
                new_status=licence.status,
                detail={"changes": {name: [before[name], after[name]] for name in sorted(changed & set(EVENT_FIELDS))}},
            )
        audit_record(
            actor=acting_user,
            action="licence.updated",
            target=licence,
            before={name: before[name] for name in sorted(changed)},
            after={name: after[name] for name in sorted(changed)},
            detail=detail,
        )
    if operator is not None and old_operator_id != operator.pk:
        audit_record(actor=acting_user, action="licence.attached", target=licence, detail={"operator": operator.pk})
    return licence, created or bool(changed)


def licence_upsert_from_record(
    *, record: LicenceRecord, operator: Operator | None = None, acting_user: Any = None
) -> Licence:
    """Keep the licensing system's copy of a licence: create it, or update every field and the districts.

    A licence seen for the first time, or whose status or dates changed, gets a LicenceEvent; every change is
    audited. With an operator, the licence is attached to it (Conflict if another operator holds it already).
    """
    licence, _changed = _licence_apply(record=record, operator=operator, acting_user=acting_user)
    return licence


def _licence_sync(*, licence: Licence, system: LicensingSystem) -> tuple[Licence, bool]:
    # The fetch is outside any transaction: no row is locked while the licensing system takes its time,
    # and when it fails nothing has been written, so the licence keeps the data of its last good sync.
    record = system.fetch(licence.number)
    return _licence_apply(record=record)


def licence_sync(*, licence: Licence, system: LicensingSystem | None = None) -> Licence:
    """Fetch the licence again and keep what the licensing system now says.

    Raises LicensingError (with a message for the user) if the system could not answer; the licence is untouched.
    """
    synced, _changed = _licence_sync(licence=licence, system=system or licensing_system())
    return synced


def licences_sync_all(*, system: LicensingSystem | None = None) -> dict[str, int]:
    """Re-sync every licence attached to an operator; one that fails does not stop the others.

    Returns how many were synced, how many of those changed, and how many failed (each failure is logged).
    """
    system = system or licensing_system()
    counts = {"synced": 0, "changed": 0, "failed": 0}
    for licence in Licence.objects.filter(operator__isnull=False).order_by("pk"):
        try:
            _synced, changed = _licence_sync(licence=licence, system=system)
        except LicensingError as error:
            counts["failed"] += 1
            logger.warning("licence %s not synced (%s): %s", licence.number, error.code, error)
            continue
        except Exception:
            # A daily job over every licence: one licence's surprise must not cost the others their sync.
            counts["failed"] += 1
            logger.exception("licence %s not synced", licence.number)
            continue
        counts["synced"] += 1
        counts["changed"] += int(changed)
    logger.info("licences synced: %(synced)d, changed: %(changed)d, failed: %(failed)d", counts)
    return counts
