"""Entering readings one connection at a time (the reading page, POST /api/v1/readings) and in batches (smart meters,
the field app): each goes through readings_record, the one path that records readings, and is audited.

A form or a single API call is all or nothing (a refused register refuses the whole entry); a batch answers per item.
"""

import dataclasses
import datetime
import uuid
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.core.audit import audit_record_many
from mita.metering.errors import MeteringError
from mita.metering.models import Reading
from mita.metering.readings import ReadingInput, RowResult, readings_record

PHOTO_MAX_BYTES_DEFAULT = 5 * 1024 * 1024
# A device's clock and time zone may run a little ahead of ours; beyond this a date in the future is a mistake that
# would make every later reading look older than the last one counted.
FUTURE_TOLERANCE = datetime.timedelta(days=1)
# What the bytes of a photo start with (never what its name says): JPEG, PNG, WebP.
_PHOTO_KINDS = ((b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"))
# Refusals that name something of another operator or nothing at all: a 404 in the API.
NOT_FOUND_CODES = frozenset({"not_found", "meter_unknown"})


def photo_max_bytes() -> int:
    return int(getattr(settings, "MITA_READING_PHOTO_MAX_BYTES", PHOTO_MAX_BYTES_DEFAULT))


def photo_check(upload: Any, *, field: str = "photo") -> tuple[bytes, str]:
    """The photo's bytes and extension if it is a JPEG, PNG or WebP image of at most 5 MB (judged by its bytes)."""
    limit = photo_max_bytes()
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        message = _("The photo is larger than %(limit)s MB: take it at a lower resolution.") % {
            "limit": limit // (1024 * 1024)
        }
        raise MeteringError(message, code="photo_too_large", fields={field: [message]})
    if hasattr(upload, "seek"):
        upload.seek(0)
    content = upload.read(limit + 1)
    if len(content) > limit:
        message = _("The photo is larger than %(limit)s MB: take it at a lower resolution.") % {
            "limit": limit // (1024 * 1024)
        }
        raise MeteringError(message, code="photo_too_large", fields={field: [message]})
    extension = photo_kind(content)
    if extension is None:
        message = _("The photo must be a JPEG, PNG or WebP image.")
        raise MeteringError(message, code="photo_type", fields={field: [message]})
    return content, extension


def photo_kind(content: bytes) -> str | None:
    for magic, extension in _PHOTO_KINDS:
        if content.startswith(magic):
            return extension
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "webp"
    return None


def in_the_future(read_on: datetime.date, *, tolerance: datetime.timedelta = FUTURE_TOLERANCE) -> bool:
    return read_on > timezone.localdate() + tolerance


def form_key_of(form_key: uuid.UUID, register: str) -> str:
    """A page's form key for one register: a second submit of the same form is a replay of each register."""
    return f"form:{form_key}:{register}"


def smart_key_of(meter_id: int, register: str, timestamp: datetime.datetime) -> str:
    """Smart readings are idempotent by meter, register and timestamp (in UTC, so that offsets do not matter)."""
    at = timestamp.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"smart:{meter_id}:{register}:{at}"


@dataclasses.dataclass(frozen=True)
class ItemResult:
    """One item of a batch: created, replayed or refused (with a code), and the reading made or found."""

    outcome: str
    status: int  # what this item alone would have answered: 201, 200, 400, 404 or 409
    reading: Reading | None = None
    code: str = ""
    message: str = ""


def _audit_created(results: Sequence[RowResult | ItemResult], acting_user: Any, source: str) -> None:
    created = [result.reading for result in results if result.outcome == "created" and result.reading is not None]
    if created:
        audit_record_many(
            actor=acting_user,
            action="reading.recorded",
            targets=list(created),
            after=[
                {
                    "connection": reading.connection_id,
                    "register": reading.register,
                    "cycle": reading.cycle,
                    "current_index": reading.current_index,
                    "consumption": reading.consumption,
                    "status": reading.status,
                    "anomaly": reading.anomaly,
                    "reader_code": reading.reader_code,
                    "source": source,
                }
                for reading in created
            ],
        )


@transaction.atomic
def readings_enter(
    *,
    operator: Any,
    rows: Sequence[ReadingInput],
    source: str,
    acting_user: Any,
    photo: tuple[bytes, str] | None = None,
) -> list[RowResult]:
    """Record the readings of one entry (a page's form: one row per register; an API call: one row), all or none.

    A refused row refuses the entry with its reason (MeteringError: `key_reused` is a 409); replays are the first
    result, and the photo (already checked by photo_check) is stored with the readings made now."""
    if source not in Reading.Source.values:
        raise MeteringError(_("Unknown source of reading."), code="source_invalid", fields={"source": [_("Unknown.")]})
    results = readings_record(operator=operator, rows=rows, source=source, acting_user=acting_user)
    refused = next((result for result in results if result.outcome == "refused"), None)
    if refused is not None:
        raise MeteringError(refused.message, code=refused.code, status=409 if refused.code == "key_reused" else 400)
    created = [result.reading for result in results if result.outcome == "created" and result.reading is not None]
    if photo is not None and created:
        content, extension = photo
        first = created[0]
        first.photo.save(f"{uuid.uuid4().hex}.{extension}", ContentFile(content), save=False)
        Reading.objects.filter(pk__in=[reading.pk for reading in created]).update(photo=first.photo.name)
        for reading in created[1:]:
            reading.photo.name = first.photo.name
    _audit_created(results, acting_user, source)
    return results


def item_result_of(result: RowResult) -> ItemResult:
    if result.outcome == "created":
        return ItemResult("created", 201, result.reading)
    if result.outcome == "replayed":
        return ItemResult("replayed", 200, result.reading)
    status = 409 if result.code == "key_reused" else 404 if result.code in NOT_FOUND_CODES else 400
    return ItemResult("refused", status, None, result.code, result.message)


def refused_item(code: str, message: Any) -> ItemResult:
    return item_result_of(RowResult("refused", code=code, message=str(message)))


@transaction.atomic
def readings_enter_batch(
    *, operator: Any, rows: Sequence[ReadingInput | ItemResult], source: str, acting_user: Any
) -> list[ItemResult]:
    """Record a batch whose items were resolved by the caller (an ItemResult in `rows` is an item already refused):
    one result per item, in order; refused items change nothing, the others are recorded (replays change nothing)."""
    inputs = [row for row in rows if isinstance(row, ReadingInput)]
    recorded = iter(readings_record(operator=operator, rows=inputs, source=source, acting_user=acting_user))
    results = [item_result_of(next(recorded)) if isinstance(row, ReadingInput) else row for row in rows]
    _audit_created([result for result in results if result.outcome == "created"], acting_user, source)
    return results
