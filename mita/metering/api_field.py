"""API of the offline field app: download the signed-in reader's routes of a cycle, upload a batch of readings made
offline with the app's own UUIDs as keys (docs/metering-field.md)."""

import datetime
import hashlib
import json
import uuid
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from mita.core.permissions import require_api_roles
from mita.metering.api_readings import BatchOut, ReadingOut, batch_out, index_of
from mita.metering.errors import MeteringError
from mita.metering.field_uploads import BATCH_MAX, FieldReading, field_readings_upload
from mita.metering.selectors_field import FieldRoute, field_route
from mita.metering.selectors_readings import READER_ROLES, operator_of
from mita.metering.validation import cycle_bounds

router = Router(tags=["metering"])


class RegisterOut(Schema):
    code: str
    unit: str
    multiplier: Decimal
    previous_index: Decimal
    previous_read_on: datetime.date
    previous_estimated: bool
    read_this_cycle: bool  # an actual reading of this cycle is already counted: another one would be a conflict


class MeterOut(Schema):
    id: int
    serial: str
    brand: str
    model: str
    dial_digits: int
    reversible: bool


class StopOut(Schema):
    sequence: int | None
    connection_id: int
    connection_number: str
    customer_name: str
    status: str
    latitude: Decimal | None
    longitude: Decimal | None
    meter: MeterOut | None
    registers: list[RegisterOut]


class RouteOut(Schema):
    assignment_id: int
    route_id: int
    route_code: str
    route_name: str
    connections: list[StopOut]


class FieldRouteOut(Schema):
    cycle: str
    reader_id: int
    routes: list[RouteOut]
    recent_since: datetime.date
    recent: list[ReadingOut]  # the reader's own records of the last five days
    etag: str


def _route_body(sheet: FieldRoute, reader_id: int) -> dict[str, Any]:
    routes = []
    for route_sheet in sheet.routes:
        stops = []
        for stop in route_sheet.stops:
            connection, installation = stop.connection, stop.installation
            meter = installation.meter if installation is not None else None
            stops.append(
                {
                    "sequence": connection.reading_sequence,
                    "connection_id": connection.pk,
                    "connection_number": connection.number,
                    "customer_name": connection.customer.name,
                    "status": connection.status,
                    "latitude": connection.latitude,
                    "longitude": connection.longitude,
                    "meter": None
                    if meter is None
                    else {
                        "id": meter.pk,
                        "serial": meter.serial,
                        "brand": meter.brand,
                        "model": meter.meter_model.name,
                        "dial_digits": meter.meter_model.dial_digits,
                        "reversible": meter.meter_model.reversible,
                    },
                    "registers": [
                        {
                            "code": standing.code,
                            "unit": standing.unit,
                            "multiplier": standing.multiplier,
                            "previous_index": standing.previous_index,
                            "previous_read_on": standing.previous_read_on,
                            "previous_estimated": standing.previous_estimated,
                            "read_this_cycle": standing.last_cycle == sheet.cycle and not standing.previous_estimated,
                        }
                        for standing in stop.registers
                    ],
                }
            )
        routes.append(
            {
                "assignment_id": route_sheet.assignment.pk,
                "route_id": route_sheet.route.pk,
                "route_code": route_sheet.route.code,
                "route_name": route_sheet.route.name,
                "connections": stops,
            }
        )
    return {"cycle": sheet.cycle, "reader_id": reader_id, "routes": routes, "recent_since": sheet.since}


@router.get(
    "/field/route",
    response=FieldRouteOut,
    by_alias=True,
    summary="The signed-in reader's routes of a cycle, in reading order, with previous indexes (ETag: If-None-Match)",
)
def field_route_get(request: HttpRequest, cycle: str) -> Any:
    """Only the reader's own route assignments; `etag` changes when anything in the answer does, and a request with
    `If-None-Match: <etag>` gets a 304 without a body when nothing did."""
    access = require_api_roles(request, *READER_ROLES)
    try:
        cycle_bounds(cycle)
    except ValueError:
        message = _("Write the cycle as a month: YYYY-MM.")
        raise MeteringError(message, code="cycle_invalid", fields={"cycle": [message]}) from None
    sheet = field_route(access=access, reader=request.user, cycle=cycle)
    body = _route_body(sheet, sheet.reader_id)
    body["recent"] = [ReadingOut.from_orm(reading).dict(by_alias=True) for reading in sheet.recent]
    encoded = json.dumps(body, cls=DjangoJSONEncoder, sort_keys=True)
    etag = '"' + hashlib.sha256(encoded.encode()).hexdigest()[:32] + '"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        body["etag"] = etag
        response = HttpResponse(json.dumps(body, cls=DjangoJSONEncoder), content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


class FieldReadingIn(Schema):
    key: uuid.UUID  # made by the app before the first send; the same key again is a replay
    connection_id: int
    register_: str = Field("main", alias="register")  # "register" alone would shadow a method of Schema
    current_index: str | None = None  # a decimal string; null with a reader's code when the meter was not read
    read_on: datetime.date
    read_at: datetime.datetime | None = None
    reader_code: str = ""
    meter_serial: str = ""
    note: str = Field("", max_length=500)


class FieldBatchIn(Schema):
    readings: list[FieldReadingIn] = Field(..., max_length=BATCH_MAX)


@router.post(
    "/field/readings",
    response=BatchOut,
    by_alias=True,
    summary="Upload the field app's readings (at most 5,000), each with its UUID: a replay changes nothing",
)
def field_readings_post(request: HttpRequest, payload: FieldBatchIn) -> dict[str, Any]:
    """One result per item, in order: created, replayed, or refused with a code and the status the item alone would
    have had (404 for a connection that is not the operator's, 409 for a key reused with another reading)."""
    access = require_api_roles(request, *READER_ROLES)
    readings = []
    for item in payload.readings:
        try:
            index, index_invalid = index_of(item.current_index), False
        except MeteringError:
            index, index_invalid = None, True  # refused for this item alone
        readings.append(
            FieldReading(
                key=item.key,
                connection_id=item.connection_id,
                current_index=index,
                index_invalid=index_invalid,
                read_on=item.read_on,
                register=item.register_,
                reader_code=item.reader_code,
                read_at=item.read_at,
                meter_serial=item.meter_serial,
                note=item.note,
            )
        )
    results = field_readings_upload(operator=operator_of(access), reader=request.user, readings=readings)
    return batch_out(results, access)
