"""API of metering: meters — movement documents (transfer, lab, reject, scrap), calibrations and the meters due for
calibration in a year (mounted by api_meters)."""

import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from mita.core.permissions import require_api_roles
from mita.metering.errors import MeteringError
from mita.metering.models import Calibration, Movement
from mita.metering.selectors_calibration import calibrations_due
from mita.metering.selectors_meters import (
    METER_READ_ROLES,
    METER_WRITE_ROLES,
    calibration_get_for_access,
    calibrations_visible_to,
    meter_get_for_access,
    meters_visible_to,
    movement_get_for_access,
    movement_lines,
    movement_report,
    movements_visible_to,
    stores_visible_to,
)
from mita.metering.serials import serials_parse
from mita.metering.services_calibration import calibration_record
from mita.metering.services_movements import meters_move

router = Router(tags=["metering"])


def body_pick(queryset: Any, pk: int | None, field: str, message: str) -> Any:
    """One of the operator's objects named by id in a request body; another operator's id is just unknown (400)."""
    if pk is None:
        return None
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise MeteringError(message, code=f"{field}_invalid", fields={field: [_("Unknown.")]})
    return found


class MovementOut(Schema):
    id: int
    kind: str
    moved_on: datetime.date
    from_store_id: int | None
    to_store_id: int | None
    supplier: str
    reference: str
    note: str
    created_by: str | None
    meter_count: int = 0

    @staticmethod
    def resolve_created_by(movement: Movement) -> str | None:
        return movement.created_by.name if movement.created_by else None


class MovementMeterOut(Schema):
    id: int
    serial: str
    brand: str


class MovementDetailOut(MovementOut):
    meters: list[MovementMeterOut]

    @staticmethod
    def resolve_meters(movement: Movement) -> list[dict[str, Any]]:
        return [
            {"id": line.meter_id, "serial": line.meter.serial, "brand": line.meter.brand}
            for line in movement_lines(movement=movement)
        ]


class MovementIn(Schema):
    kind: str  # transfer, to_lab, from_lab, reject, scrap
    from_store_id: int
    to_store_id: int | None = None
    moved_on: datetime.date
    serials: list[str] = []  # serials, or ranges "WM-030001 .. WM-030010"
    meter_ids: list[int] = []
    supplier: str = ""
    reference: str = ""
    note: str = ""
    key: str = ""


@router.get("/meter-movements", response=list[MovementOut], summary="Movement documents of meters")
@paginate(LimitOffsetPagination)
def movement_list(
    request: HttpRequest,
    kind: str = "",
    store_id: int | None = None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> Any:
    access = require_api_roles(request, *METER_READ_ROLES)
    return movements_visible_to(access=access, kind=kind, store_id=store_id, date_from=date_from, date_to=date_to)


@router.post(
    "/meter-movements",
    response={200: MovementDetailOut, 201: MovementDetailOut},
    summary="Move meters: transfer, to_lab, from_lab, reject, scrap (201; a replayed key: 200, the same movement)",
)
def movement_create_endpoint(request: HttpRequest, payload: MovementIn) -> Status[Any]:
    access = require_api_roles(request, *METER_WRITE_ROLES)
    stores = stores_visible_to(access=access)
    from_store = body_pick(stores, payload.from_store_id, "from_store_id", _("Choose one of your stores."))
    to_store = body_pick(stores, payload.to_store_id, "to_store_id", _("Choose one of your stores."))
    result = meters_move(
        operator=access.operator,
        kind=payload.kind,
        from_store=from_store,
        to_store=to_store,
        moved_on=payload.moved_on,
        serials=serials_parse("\n".join(payload.serials)),
        meter_ids=payload.meter_ids,
        supplier=payload.supplier,
        reference=payload.reference,
        note=payload.note,
        key=payload.key,
        acting_user=request.user,
    )
    movement = movement_get_for_access(access=access, movement_id=result.movement.pk)
    return Status(200 if result.replayed else 201, movement)


class MovementGroupOut(Schema):
    kind: str
    from_store: str
    to_store: str
    documents: int
    meters: int


class MovementReportOut(Schema):
    date_from: datetime.date
    date_to: datetime.date
    documents: int
    meters: int
    groups: list[MovementGroupOut]


@router.get(
    "/meter-movements/report",
    response=MovementReportOut,
    summary="Movements of a period by kind and from -> to, with the number of documents and of meters",
)
def movement_report_endpoint(
    request: HttpRequest,
    date_from: datetime.date,
    date_to: datetime.date,
    kind: str = "",
    store_id: int | None = None,
) -> dict[str, Any]:
    access = require_api_roles(request, *METER_READ_ROLES)
    if date_to < date_from:
        raise MeteringError(
            _("The period ends before it starts."),
            code="period_invalid",
            fields={"date_to": [_("On or after date_from.")]},
        )
    groups = movement_report(access=access, date_from=date_from, date_to=date_to, kind=kind, store_id=store_id)
    return {
        "date_from": date_from,
        "date_to": date_to,
        "documents": sum(group.documents for group in groups),
        "meters": sum(group.meters for group in groups),
        "groups": groups,
    }


# After /meter-movements/report: a path parameter would take "report" for a movement's id.
@router.get("/meter-movements/{movement_id}", response=MovementDetailOut, summary="One movement document")
def movement_get(request: HttpRequest, movement_id: int) -> Movement:
    access = require_api_roles(request, *METER_READ_ROLES)
    return movement_get_for_access(access=access, movement_id=movement_id)


# Calibrations ------------------------------------------------------------------------------------------------------


class CalibrationOut(Schema):
    id: int
    meter_id: int
    serial: str
    calibrated_on: datetime.date
    result: str
    error_percent: Decimal | None
    certificate: str
    note: str

    @staticmethod
    def resolve_serial(calibration: Calibration) -> str:
        return calibration.meter.serial


class CalibrationIn(Schema):
    meter_id: int
    calibrated_on: datetime.date
    result: str  # passed, adjusted, failed
    to_store_id: int | None = None  # where a meter in the lab goes when it passed
    error_percent: Decimal | None = None
    certificate: str = ""
    note: str = ""


class DueMonthOut(Schema):
    month: int
    due: int
    overdue: int


class DueMeterOut(Schema):
    meter_id: int
    serial: str
    brand: str
    meter_model: str
    status: str
    store: str
    basis: str
    basis_on: datetime.date
    due_on: datetime.date
    overdue: bool
    month: int


class DueOut(Schema):
    year: int
    starts_on: datetime.date
    ends_on: datetime.date
    total: int
    overdue: int
    months: list[DueMonthOut]
    meters: list[DueMeterOut]


@router.get("/calibrations", response=list[CalibrationOut], summary="Calibration results")
@paginate(LimitOffsetPagination)
def calibration_list(
    request: HttpRequest,
    meter_id: int | None = None,
    result: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> Any:
    access = require_api_roles(request, *METER_READ_ROLES)
    return calibrations_visible_to(
        access=access, meter_id=meter_id, result=result, date_from=date_from, date_to=date_to
    )


@router.get(
    "/calibrations/due",
    response=DueOut,
    summary="Meters due for calibration per month of a year (overdue ones in the first month)",
)
def calibration_due(
    request: HttpRequest,
    year: int,
    store_id: int | None = None,
    meter_model_id: int | None = None,
    kind: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> Any:
    access = require_api_roles(request, *METER_READ_ROLES)
    if not 1900 <= year <= 2200:
        raise MeteringError(_("Choose a year."), code="year_invalid", fields={"year": [_("A year, e.g. 2027.")]})
    return calibrations_due(
        access=access,
        year=year,
        store_id=store_id,
        meter_model_id=meter_model_id,
        kind=kind,
        date_from=date_from,
        date_to=date_to,
    )


@router.post("/calibrations", response={201: CalibrationOut}, summary="Record a calibration result")
def calibration_create_endpoint(request: HttpRequest, payload: CalibrationIn) -> Status[Any]:
    access = require_api_roles(request, *METER_WRITE_ROLES)
    meter = body_pick(meters_visible_to(access=access), payload.meter_id, "meter_id", _("Choose one of your meters."))
    meter = meter_get_for_access(access=access, meter_id=meter.pk)
    to_store = body_pick(stores_visible_to(access=access), payload.to_store_id, "to_store_id", _("Choose a store."))
    calibration = calibration_record(
        meter=meter,
        calibrated_on=payload.calibrated_on,
        result=payload.result,
        to_store=to_store,
        error_percent=payload.error_percent,
        certificate=payload.certificate,
        note=payload.note,
        acting_user=request.user,
    )
    return Status(201, calibration)


@router.get("/calibrations/{calibration_id}", response=CalibrationOut, summary="One calibration result")
def calibration_get(request: HttpRequest, calibration_id: int) -> Calibration:
    access = require_api_roles(request, *METER_READ_ROLES)
    return calibration_get_for_access(access=access, calibration_id=calibration_id)
