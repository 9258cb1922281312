"""API of readings: the operator's readings (list, one), recording one reading with an idempotency key, and the
batches smart meters push. Indexes and consumptions travel as decimal strings, never floats."""

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from mita.core.permissions import request_access, require_api_roles
from mita.customers.selectors import connection_get_for_access
from mita.metering.errors import MeteringError
from mita.metering.models import Reading
from mita.metering.reading_entry import ItemResult, in_the_future, readings_enter
from mita.metering.readings import ReadingInput
from mita.metering.selectors_readings import (
    READER_ROLES,
    READING_ENTRY_ROLES,
    READING_READ_ROLES,
    operator_of,
    reading_get_for_access,
    readings_visible_to,
)
from mita.metering.smart_readings import BATCH_MAX, SmartReading, smart_readings_record
from mita.metering.validation import cycle_bounds

router = Router(tags=["metering"])

# Who pushes smart meters' readings: an operator admin, or an integration user holding the billing officer role.
SMART_ROLES = (*READER_ROLES,)


class ReadingOut(Schema):
    id: int
    connection_id: int
    connection_number: str = ""
    meter_serial: str = ""
    register_: str = Field(..., alias="register")  # "register" alone would shadow a method of Schema
    cycle: str
    read_on: datetime.date
    read_at: datetime.datetime | None
    previous_index: Decimal
    current_index: Decimal | None
    consumption: Decimal | None
    multiplier: Decimal
    rollover: bool
    true_up: bool
    source: str
    status: str
    anomaly: str
    anomaly_text: str = ""
    reader_code: str
    reader_id: int | None
    note: str
    has_photo: bool = False
    created_at: datetime.datetime

    @staticmethod
    def resolve_connection_number(reading: Reading) -> str:
        return reading.connection.number

    @staticmethod
    def resolve_meter_serial(reading: Reading) -> str:
        return reading.installation.meter.serial

    @staticmethod
    def resolve_anomaly_text(reading: Reading) -> str:
        return str(reading.get_anomaly_display()) if reading.anomaly else ""

    @staticmethod
    def resolve_has_photo(reading: Reading) -> bool:
        return bool(reading.photo)


class ReadingIn(Schema):
    connection_id: int
    register_: str = Field("main", alias="register")
    current_index: str | None = None  # a decimal string; null with a reader's code when the meter was not read
    read_on: datetime.date
    source: str = Reading.Source.MANUAL  # manual or customer (told by the customer by phone)
    reader_code: str = ""
    note: str = ""
    idempotency_key: str = Field(..., min_length=1, max_length=100)


def index_of(text: str | None, field: str = "current_index") -> Decimal | None:
    """A decimal string as an index (None stays None); a clear 400 for anything else."""
    if text is None or not str(text).strip():
        return None
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value < 0 or value.as_tuple().exponent < -3:  # type: ignore[operator]
        message = _("Write the index as a number of at most 3 decimals, never negative (e.g. 1234.5).")
        raise MeteringError(message, code="index_invalid", fields={field: [message]})
    return value


def source_check(access: Any, source: str) -> None:
    """Readers and admins record either source; customer care only what a customer told them."""
    allowed = {Reading.Source.CUSTOMER}
    if access.has_role(*READER_ROLES):
        allowed.add(Reading.Source.MANUAL)
    if source not in allowed:
        message = _("Your role records only readings told by the customer.")
        if source not in (Reading.Source.MANUAL, Reading.Source.CUSTOMER):
            message = _("The source is 'manual' (read by a meter reader) or 'customer' (told by the customer).")
        raise MeteringError(message, code="source_invalid", fields={"source": [message]})


def reader_code_check(reader_code: str, index: Decimal | None) -> None:
    if reader_code and reader_code not in Reading.ReaderCode.values:
        message = _("Unknown reader's code.")
        raise MeteringError(message, code="reader_code_invalid", fields={"reader_code": [message]})
    if index is None and not reader_code:
        message = _("Give the index, or a reader's code saying why not.")
        raise MeteringError(message, code="index_required", fields={"current_index": [message]})


@router.get("/readings", response=list[ReadingOut], by_alias=True, summary="Readings of the operator, newest first")
@paginate(LimitOffsetPagination)
def reading_list(
    request: HttpRequest, connection: int | None = None, cycle: str = "", status: str = ""
) -> QuerySet[Reading]:
    require_api_roles(request, *READING_READ_ROLES)
    if cycle:
        try:
            cycle_bounds(cycle)
        except ValueError:
            message = _("Write the cycle as a month: YYYY-MM.")
            raise MeteringError(message, code="cycle_invalid", fields={"cycle": [message]}) from None
    if status and status not in Reading.Status.values:
        message = _("The status is one of: %(values)s.") % {"values": ", ".join(Reading.Status.values)}
        raise MeteringError(message, code="status_invalid", fields={"status": [message]})
    return readings_visible_to(access=request_access(request), connection_id=connection, cycle=cycle, status=status)


@router.get("/readings/{reading_id}", response=ReadingOut, by_alias=True, summary="One reading")
def reading_get(request: HttpRequest, reading_id: int) -> Reading:
    require_api_roles(request, *READING_READ_ROLES)
    return reading_get_for_access(access=request_access(request), reading_id=reading_id)


@router.post(
    "/readings",
    response={200: ReadingOut, 201: ReadingOut},
    by_alias=True,
    summary="Record one reading (201; the same idempotency key again: 200 with the first reading; another body: 409)",
)
def reading_create(request: HttpRequest, payload: ReadingIn) -> Status[Reading]:
    """Checked like every reading: an implausible one is recorded with status `review` and its anomaly."""
    access = require_api_roles(request, *READING_ENTRY_ROLES)
    source_check(access, payload.source)
    index = index_of(payload.current_index)
    reader_code_check(payload.reader_code, index)
    if in_the_future(payload.read_on, tolerance=datetime.timedelta(0)):
        message = _("A reading cannot be dated in the future.")
        raise MeteringError(message, code="read_on_future", fields={"read_on": [message]})
    connection = connection_get_for_access(access=access, connection_id=payload.connection_id)
    row = ReadingInput(
        connection_id=connection.pk,
        current_index=index,
        read_on=payload.read_on,
        register=payload.register_.strip() or "main",
        reader_code=payload.reader_code,
        key=payload.idempotency_key.strip(),
        reader_id=request.user.pk,
        note=payload.note[:500],
    )
    (result,) = readings_enter(
        operator=operator_of(access), rows=[row], source=payload.source, acting_user=request.user
    )
    assert result.reading is not None
    reading = reading_get_for_access(access=access, reading_id=result.reading.pk)
    return Status(201 if result.outcome == "created" else 200, reading)


# Smart meters --------------------------------------------------------------------------------------------------


class SmartReadingIn(Schema):
    meter_serial: str = Field(..., min_length=1, max_length=60)
    brand: str = ""
    register_: str = Field("main", alias="register")
    timestamp: datetime.datetime  # ISO 8601 with its offset: 2026-03-01T00:00:00+02:00
    index: str


class SmartBatchIn(Schema):
    readings: list[SmartReadingIn] = Field(..., max_length=BATCH_MAX)


class ItemOut(Schema):
    position: int
    outcome: str  # created, replayed or refused
    status: int  # 201, 200, 400, 404 or 409: what this item alone would have answered
    code: str = ""
    message: str = ""
    reading: ReadingOut | None = None


class BatchOut(Schema):
    created: int
    replayed: int
    refused: int
    results: list[ItemOut]


def batch_out(results: list[ItemResult], access: Any) -> dict[str, Any]:
    """The batch's answer, its readings read back in one query with their connection and meter."""
    ids = [result.reading.pk for result in results if result.reading is not None]
    readings = {reading.pk: reading for reading in readings_visible_to(access=access).filter(pk__in=ids)}
    return {
        "created": sum(result.outcome == "created" for result in results),
        "replayed": sum(result.outcome == "replayed" for result in results),
        "refused": sum(result.outcome == "refused" for result in results),
        "results": [
            {
                "position": position,
                "outcome": result.outcome,
                "status": result.status,
                "code": result.code,
                "message": result.message,
                "reading": readings.get(result.reading.pk) if result.reading is not None else None,
            }
            for position, result in enumerate(results)
        ],
    }


@router.post(
    "/smart-meters/readings",
    response=BatchOut,
    by_alias=True,
    summary="Smart meters' readings, at most 5,000 a batch, idempotent by meter, register and timestamp",
)
def smart_readings_push(request: HttpRequest, payload: SmartBatchIn) -> dict[str, Any]:
    """One result per item, in order: created, replayed (the same meter, register and timestamp with the same index)
    or refused with a code (the same with another index: `key_reused`, status 409)."""
    access = require_api_roles(request, *SMART_ROLES)
    items: list[SmartReading] = []
    for item in payload.readings:
        try:
            index = index_of(item.index, field="index")
        except MeteringError:
            index = None  # refused for this item alone (index_invalid)
        items.append(
            SmartReading(
                meter_serial=item.meter_serial,
                brand=item.brand,
                register=item.register_,
                timestamp=item.timestamp,
                index=index,
            )
        )
    results = smart_readings_record(operator=operator_of(access), readings=items, acting_user=request.user)
    return batch_out(results, access)
