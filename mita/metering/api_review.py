"""API of metering: review — the queue and its decisions, estimates for a cycle, index adjustments, the anomaly
report, the operator's metering settings. Indexes travel as decimal strings."""

import datetime
from decimal import Decimal
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from mita.core.permissions import require_api_roles
from mita.metering.adjustments import index_adjust
from mita.metering.estimation import estimates_make
from mita.metering.metering_settings import metering_settings_update
from mita.metering.models import IndexAdjustment, MeteringSettings, Reading
from mita.metering.review import cycle_check, reading_accept, reading_correct, reading_estimate, reading_reject
from mita.metering.selectors_review import (
    ADJUST_ROLES,
    REVIEW_ROLES,
    SETTINGS_ROLES,
    anomaly_report,
    metering_settings_of,
    operator_of,
    reading_get_for_access,
    review_queue,
)

router = Router(tags=["metering"])


class ReadingOut(Schema):
    id: int
    connection_id: int
    connection_number: str
    route_code: str | None
    register_code: str
    cycle: str
    read_on: datetime.date
    previous_index: Decimal
    current_index: Decimal | None
    consumption: Decimal | None
    multiplier: Decimal
    source: str
    status: str
    anomaly: str
    reader_code: str
    reader_id: int | None
    supersedes_id: int | None
    review_note: str

    @staticmethod
    def resolve_connection_number(reading: Reading) -> str:
        return reading.connection.number

    @staticmethod
    def resolve_register_code(reading: Reading) -> str:
        return reading.register

    @staticmethod
    def resolve_route_code(reading: Reading) -> str | None:
        route = reading.connection.route
        return route.code if route is not None else None


class NoteIn(Schema):
    note: str


class CorrectIn(Schema):
    current_index: Decimal
    read_on: datetime.date | None = None
    note: str


class AdjustIn(Schema):
    current_index: Decimal
    reason: str


class AdjustmentOut(Schema):
    id: int
    connection_id: int
    register_code: str
    reading_id: int
    adjustment_reading_id: int
    rebased_reading_id: int | None
    index_before: Decimal
    index_after: Decimal
    consumption_before: Decimal
    consumption_after: Decimal
    reason: str
    cycles: list[str]
    rebill_needed: bool
    adjusted_at: datetime.datetime

    @staticmethod
    def resolve_register_code(adjustment: IndexAdjustment) -> str:
        return adjustment.register


class EstimatesIn(Schema):
    cycle: str


class EstimatesOut(Schema):
    cycle: str
    estimated: int
    reader_codes: int
    no_history: list[str]
    skipped: int


class AnomalyRowOut(Schema):
    key: str | int | None
    code: str
    name: str
    counts: dict[str, int]
    total: int


class SettingsOut(Schema):
    high_factor: Decimal
    low_factor: Decimal
    min_units: Decimal
    history_readings: int
    rollover_share: Decimal
    window_days_before: int
    window_days_after: int
    zero_is_anomaly: bool


class SettingsIn(Schema):
    high_factor: Decimal | None = None
    low_factor: Decimal | None = None
    min_units: Decimal | None = None
    history_readings: int | None = None
    rollover_share: Decimal | None = None
    window_days_before: int | None = None
    window_days_after: int | None = None
    zero_is_anomaly: bool | None = None


@router.get("/readings/review", response=list[ReadingOut], summary="Readings waiting for review")
@paginate(LimitOffsetPagination)
def review_list(
    request: HttpRequest,
    anomaly: str = "",
    route_id: int | None = None,
    reader_id: int | None = None,
    cycle: str = "",
) -> QuerySet[Reading]:
    access = require_api_roles(request, *REVIEW_ROLES)
    return review_queue(access=access, anomaly=anomaly, route_id=route_id, reader_id=reader_id, cycle=cycle)


def _reading(request: HttpRequest, reading_id: int) -> Reading:
    access = require_api_roles(request, *REVIEW_ROLES)
    return reading_get_for_access(access=access, reading_id=reading_id)


def _out(reading: Reading) -> Reading:
    return Reading.objects.select_related("connection__route").get(pk=reading.pk)


@router.post("/readings/{reading_id}/accept", response=ReadingOut, summary="Accept a reading waiting for review")
def review_accept(request: HttpRequest, reading_id: int, payload: NoteIn) -> Reading:
    reading = _reading(request, reading_id)
    return _out(reading_accept(reading=reading, note=payload.note, acting_user=request.user))


@router.post(
    "/readings/{reading_id}/correct", response=ReadingOut, summary="Replace a reading by one with the corrected index"
)
def review_correct(request: HttpRequest, reading_id: int, payload: CorrectIn) -> Reading:
    reading = _reading(request, reading_id)
    corrected = reading_correct(
        reading=reading,
        current_index=payload.current_index,
        read_on=payload.read_on,
        note=payload.note,
        acting_user=request.user,
    )
    return _out(corrected)


@router.post("/readings/{reading_id}/estimate", response=ReadingOut, summary="Replace a reading by an estimate")
def review_estimate(request: HttpRequest, reading_id: int, payload: NoteIn) -> Reading:
    reading = _reading(request, reading_id)
    return _out(reading_estimate(reading=reading, note=payload.note, acting_user=request.user))


@router.post("/readings/{reading_id}/reject", response=ReadingOut, summary="Reject a reading waiting for review")
def review_reject(request: HttpRequest, reading_id: int, payload: NoteIn) -> Reading:
    reading = _reading(request, reading_id)
    return _out(reading_reject(reading=reading, note=payload.note, acting_user=request.user))


@router.post(
    "/readings/{reading_id}/adjust",
    response={201: AdjustmentOut},
    summary="Adjust the index of a counted reading (operator admin)",
)
def reading_adjust(request: HttpRequest, reading_id: int, payload: AdjustIn) -> Status[IndexAdjustment]:
    access = require_api_roles(request, *ADJUST_ROLES)
    reading = reading_get_for_access(access=access, reading_id=reading_id)
    adjustment = index_adjust(
        reading=reading, current_index=payload.current_index, reason=payload.reason, acting_user=request.user
    )
    return Status(201, IndexAdjustment.objects.get(pk=adjustment.pk))


@router.post("/estimates", response=EstimatesOut, summary="Estimate the connections not read in a cycle")
def estimates_post(request: HttpRequest, payload: EstimatesIn) -> Any:
    access = require_api_roles(request, *REVIEW_ROLES)
    cycle = cycle_check(payload.cycle.strip())
    return estimates_make(operator=operator_of(access), cycle=cycle, acting_user=request.user)


@router.get("/anomaly-report", response=list[AnomalyRowOut], summary="Anomalies by route or reader in a period")
def anomaly_report_get(
    request: HttpRequest,
    date_from: datetime.date,
    date_to: datetime.date,
    by: Literal["route", "reader"] = "route",
) -> list[dict[str, Any]]:
    access = require_api_roles(request, *REVIEW_ROLES)
    return anomaly_report(access=access, date_from=date_from, date_to=date_to, by=by)


@router.get("/metering-settings", response=SettingsOut, summary="The operator's metering settings")
def settings_get(request: HttpRequest) -> MeteringSettings:
    access = require_api_roles(request, *REVIEW_ROLES)
    return metering_settings_of(operator_of(access))


@router.put("/metering-settings", response=SettingsOut, summary="Change the operator's metering settings")
def settings_put(request: HttpRequest, payload: SettingsIn) -> MeteringSettings:
    access = require_api_roles(request, *SETTINGS_ROLES)
    changes = {field: value for field, value in payload.dict().items() if value is not None}
    return metering_settings_update(operator=operator_of(access), acting_user=request.user, **changes)
