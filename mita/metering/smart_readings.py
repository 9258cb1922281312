"""Readings pushed by smart meters' head-end systems: a batch of (meter serial, brand, register, timestamp, index),
idempotent by meter, register and timestamp, each item created, replayed or refused with a code (docs/metering-field.md).
"""

import dataclasses
import datetime
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.metering.errors import MeteringError
from mita.metering.models import Installation, Meter, MeterModel, Reading
from mita.metering.reading_entry import ItemResult, in_the_future, readings_enter_batch, refused_item, smart_key_of
from mita.metering.readings import ReadingInput

BATCH_MAX = 5000
CHUNK = 1000


@dataclasses.dataclass(frozen=True)
class SmartReading:
    meter_serial: str
    timestamp: datetime.datetime  # with its offset
    index: Decimal | None  # None: what was sent is not an index (refused: index_invalid)
    register: str = "main"
    brand: str = ""


def batch_size_check(count: int, limit: int = BATCH_MAX) -> None:
    if count == 0:
        raise MeteringError(_("Send at least one reading."), code="batch_empty", fields={"readings": [_("Empty.")]})
    if count > limit:
        message = _("Send at most %(limit)s readings at a time; split the batch.") % {"limit": limit}
        raise MeteringError(message, code="batch_too_large", fields={"readings": [message]})


def _meters_by_serial(operator: Any, serials: set[str]) -> dict[str, list[Meter]]:
    found: dict[str, list[Meter]] = defaultdict(list)
    ordered = sorted(serials)
    for start in range(0, len(ordered), CHUNK):
        meters = (
            Meter.objects.filter(operator=operator)
            .annotate(serial_upper=Upper("serial"))
            .filter(serial_upper__in=ordered[start : start + CHUNK])
            .select_related("meter_model")
        )
        for meter in meters:
            found[meter.serial.upper()].append(meter)
    return found


def _installed_on(operator: Any, meter_ids: list[int]) -> dict[int, int]:
    """meter id -> the connection it is installed on now."""
    installed: dict[int, int] = {}
    for start in range(0, len(meter_ids), CHUNK):
        installed.update(
            Installation.objects.filter(
                operator=operator, meter_id__in=meter_ids[start : start + CHUNK], removed_on__isnull=True
            ).values_list("meter_id", "connection_id")
        )
    return installed


def smart_readings_record(*, operator: Any, readings: Sequence[SmartReading], acting_user: Any) -> list[ItemResult]:
    """Record a smart meters' batch (at most 5,000): one result per item, in order.

    Refused per item: an unknown serial (`meter_unknown`, also another operator's meter), a serial of several brands
    without its brand (`meter_ambiguous`), a meter that is not of a smart model (`not_smart`) or not installed
    (`not_installed`), a timestamp without its offset (`timestamp_offset`), an index that is not one
    (`index_invalid`), a date after tomorrow (`read_on_future`); then what readings_record refuses.
    The reading's date is the timestamp's date in the operator's time zone; its source is SMART."""
    batch_size_check(len(readings))
    meters = _meters_by_serial(operator, {reading.meter_serial.strip().upper() for reading in readings})
    installed = _installed_on(operator, sorted({meter.pk for group in meters.values() for meter in group}))
    rows: list[ReadingInput | ItemResult] = []
    for reading in readings:
        rows.append(_row_of(reading, meters, installed))
    return readings_enter_batch(operator=operator, rows=rows, source=Reading.Source.SMART, acting_user=acting_user)


def _row_of(
    reading: SmartReading, meters: dict[str, list[Meter]], installed: dict[int, int]
) -> ReadingInput | ItemResult:
    if reading.timestamp.tzinfo is None or reading.timestamp.utcoffset() is None:
        return refused_item(
            "timestamp_offset", _("Give the timestamp with its offset from UTC, e.g. 2026-03-01T00:00:00+02:00.")
        )
    if in_the_future(timezone.localtime(reading.timestamp).date()):
        return refused_item("read_on_future", _("The timestamp is in the future: check the meter's clock."))
    if reading.index is None:
        return refused_item("index_invalid", _("Write the index as a number, never negative (e.g. 1234.5)."))
    candidates = meters.get(reading.meter_serial.strip().upper(), [])
    if reading.brand.strip():
        candidates = [meter for meter in candidates if meter.brand.upper() == reading.brand.strip().upper()]
    if not candidates:
        return refused_item("meter_unknown", _("No meter of yours has this serial number (and brand)."))
    if len(candidates) > 1:
        return refused_item("meter_ambiguous", _("Meters of several brands have this serial number: give the brand."))
    meter = candidates[0]
    if meter.meter_model.kind != MeterModel.Kind.SMART:
        return refused_item("not_smart", _("This meter is not a smart meter: record its readings another way."))
    connection_id = installed.get(meter.pk)
    if connection_id is None:
        return refused_item("not_installed", _("This meter is not installed on a connection."))
    register = reading.register.strip() or "main"
    return ReadingInput(
        connection_id=connection_id,
        current_index=reading.index,
        read_on=timezone.localtime(reading.timestamp).date(),
        read_at=reading.timestamp,
        register=register,
        key=smart_key_of(meter.pk, register, reading.timestamp),
        meter_id=meter.pk,
    )
