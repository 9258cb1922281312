"""Readings uploaded by the offline field app: a batch of readings, each with a UUID the app made before the first
send, so that sending the batch again changes nothing (docs/metering-field.md)."""

import dataclasses
import datetime
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from mita.customers.models import Connection
from mita.metering.models import Installation, Reading
from mita.metering.reading_entry import ItemResult, in_the_future, readings_enter_batch, refused_item
from mita.metering.readings import ReadingInput
from mita.metering.smart_readings import CHUNK, batch_size_check

BATCH_MAX = 5000


@dataclasses.dataclass(frozen=True)
class FieldReading:
    key: uuid.UUID
    connection_id: int
    current_index: Decimal | None
    read_on: datetime.date
    register: str = "main"
    reader_code: str = ""
    read_at: datetime.datetime | None = None
    meter_serial: str = ""  # the serial the reader saw; when given it must be the meter installed
    note: str = ""
    index_invalid: bool = False  # what was sent as the index is not one


def _known(operator: Any, connection_ids: list[int]) -> tuple[set[int], dict[int, tuple[int, str]]]:
    """The operator's connections among these ids, and their installed meters (connection -> (meter id, SERIAL))."""
    known: set[int] = set()
    meters: dict[int, tuple[int, str]] = {}
    for start in range(0, len(connection_ids), CHUNK):
        chunk = connection_ids[start : start + CHUNK]
        known.update(Connection.objects.filter(operator=operator, pk__in=chunk).values_list("pk", flat=True))
        for connection_id, meter_id, serial in Installation.objects.filter(
            operator=operator, connection_id__in=chunk, removed_on__isnull=True
        ).values_list("connection_id", "meter_id", "meter__serial"):
            meters[connection_id] = (meter_id, serial.upper())
    return known, meters


def field_readings_upload(*, operator: Any, reader: Any, readings: Sequence[FieldReading]) -> list[ItemResult]:
    """Record a field app's batch (at most 5,000) as the reader's: one result per item, in order.

    A replayed item (same key, same reading) returns its first result and changes nothing; a key reused for another
    reading is refused (409 item); a connection that is not the operator's is refused as not found (404 item); a
    reading that conflicts with one already counted waits in the review queue (readings_record). The other items
    are recorded whatever happens to these."""
    batch_size_check(len(readings), BATCH_MAX)
    known, meters = _known(operator, sorted({reading.connection_id for reading in readings}))
    rows: list[ReadingInput | ItemResult] = []
    for reading in readings:
        if reading.connection_id not in known:
            rows.append(refused_item("not_found", _("No connection of yours has this id.")))
            continue
        if reading.index_invalid:
            rows.append(refused_item("index_invalid", _("Write the index as a number, never negative (e.g. 1234.5).")))
            continue
        if reading.reader_code and reading.reader_code not in Reading.ReaderCode.values:
            rows.append(refused_item("reader_code_invalid", _("Unknown reader's code.")))
            continue
        if reading.current_index is None and not reading.reader_code:
            rows.append(refused_item("index_required", _("Give the index, or a reader's code saying why not.")))
            continue
        if in_the_future(reading.read_on):
            rows.append(refused_item("read_on_future", _("A reading cannot be dated in the future: check the date.")))
            continue
        installed = meters.get(reading.connection_id)
        meter_id = None
        if reading.meter_serial.strip() and installed is not None:
            if installed[1] != reading.meter_serial.strip().upper():
                rows.append(
                    refused_item("meter_mismatch", _("That meter is not the one installed on this connection."))
                )
                continue
            meter_id = installed[0]
        rows.append(
            ReadingInput(
                connection_id=reading.connection_id,
                current_index=reading.current_index,
                read_on=reading.read_on,
                register=reading.register.strip() or "main",
                reader_code=reading.reader_code,
                key=str(reading.key),
                read_at=reading.read_at,
                reader_id=reader.pk,
                meter_id=meter_id,
                note=reading.note[:500],
            )
        )
    return readings_enter_batch(operator=operator, rows=rows, source=Reading.Source.FIELD, acting_user=reader)
