"""API of metering: meters — meter models with their registers, stores, meters, receiving a batch. Movements and
calibrations are in api_movements (mounted here). Decimals travel as strings; errors are {"error": {...}}."""

import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from mita.core.permissions import require_api_roles
from mita.metering import api_movements
from mita.metering.api_movements import body_pick
from mita.metering.errors import MeteringError
from mita.metering.models import Meter, MeterModel, Store
from mita.metering.selectors_meters import (
    METER_READ_ROLES,
    METER_WRITE_ROLES,
    meter_get_for_access,
    meter_history,
    meter_model_get_for_access,
    meter_models_visible_to,
    meters_visible_to,
    store_get_for_access,
    stores_visible_to,
)
from mita.metering.serials import serial_range, serials_parse
from mita.metering.services_catalogue import meter_model_create, meter_model_update, store_create, store_update
from mita.metering.services_movements import meters_receive

router = Router(tags=["metering"])


# Meter models ------------------------------------------------------------------------------------------------------


class RegisterIO(Schema):
    code: str
    unit: str
    multiplier: Decimal = Decimal(1)


class MeterModelIn(Schema):
    code: str
    brand: str
    name: str
    utility: str
    kind: str = MeterModel.Kind.MECHANICAL
    size: str = ""
    dial_digits: int = 5
    reversible: bool = False
    calibration_interval_months: int | None = None
    active: bool = True
    registers: list[RegisterIO] = []


class MeterModelPatch(Schema):
    code: str | None = None
    brand: str | None = None
    name: str | None = None
    utility: str | None = None
    kind: str | None = None
    size: str | None = None
    dial_digits: int | None = None
    reversible: bool | None = None
    calibration_interval_months: int | None = None
    active: bool | None = None
    registers: list[RegisterIO] | None = None


class MeterModelOut(Schema):
    id: int
    code: str
    brand: str
    name: str
    utility: str
    kind: str
    size: str
    dial_digits: int
    reversible: bool
    calibration_interval_months: int | None
    active: bool
    registers: list[RegisterIO]
    meter_count: int = 0

    @staticmethod
    def resolve_registers(model: MeterModel) -> list[dict[str, Any]]:
        return [
            {"code": register.code, "unit": register.unit, "multiplier": register.multiplier}
            for register in model.registers.all()
        ]


@router.get("/meter-models", response=list[MeterModelOut], summary="Meter models")
@paginate(LimitOffsetPagination)
def meter_model_list(request: HttpRequest, q: str = "", utility: str = "", active: bool | None = None) -> Any:
    access = require_api_roles(request, *METER_READ_ROLES)
    return meter_models_visible_to(access=access, search=q, utility=utility, active=active)


@router.post("/meter-models", response={201: MeterModelOut}, summary="Add a meter model with its registers")
def meter_model_create_endpoint(request: HttpRequest, payload: MeterModelIn) -> Status[Any]:
    access = require_api_roles(request, *METER_WRITE_ROLES)
    values = payload.dict()
    registers = values.pop("registers")
    model = meter_model_create(operator=access.operator, acting_user=request.user, registers=registers, **values)
    return Status(201, meter_model_get_for_access(access=access, meter_model_id=model.pk))


@router.get("/meter-models/{meter_model_id}", response=MeterModelOut, summary="One meter model")
def meter_model_get(request: HttpRequest, meter_model_id: int) -> MeterModel:
    access = require_api_roles(request, *METER_READ_ROLES)
    return meter_model_get_for_access(access=access, meter_model_id=meter_model_id)


@router.patch(
    "/meter-models/{meter_model_id}",
    response=MeterModelOut,
    summary="Change a meter model (dial digits, reversibility, brand and registers are fixed once it has meters)",
)
def meter_model_patch(request: HttpRequest, meter_model_id: int, payload: MeterModelPatch) -> MeterModel:
    access = require_api_roles(request, *METER_WRITE_ROLES)
    model = meter_model_get_for_access(access=access, meter_model_id=meter_model_id)
    changes = payload.dict(exclude_unset=True)
    registers = changes.pop("registers", None)
    meter_model_update(meter_model=model, acting_user=request.user, registers=registers, **changes)
    return meter_model_get_for_access(access=access, meter_model_id=model.pk)


# Stores ------------------------------------------------------------------------------------------------------------


class StoreIn(Schema):
    code: str
    name: str
    kind: str = Store.Kind.BRANCH
    active: bool = True


class StorePatch(Schema):
    code: str | None = None
    name: str | None = None
    kind: str | None = None
    active: bool | None = None


class StoreOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    active: bool
    meter_count: int = 0


@router.get("/stores", response=list[StoreOut], summary="Stores: central, branches, labs")
@paginate(LimitOffsetPagination)
def store_list(request: HttpRequest, kind: str = "", active: bool | None = None) -> Any:
    access = require_api_roles(request, *METER_READ_ROLES)
    return stores_visible_to(access=access, kind=kind, active=active)


@router.post("/stores", response={201: StoreOut}, summary="Add a store")
def store_create_endpoint(request: HttpRequest, payload: StoreIn) -> Status[Any]:
    access = require_api_roles(request, *METER_WRITE_ROLES)
    store = store_create(operator=access.operator, acting_user=request.user, **payload.dict())
    return Status(201, store_get_for_access(access=access, store_id=store.pk))


@router.get("/stores/{store_id}", response=StoreOut, summary="One store")
def store_get(request: HttpRequest, store_id: int) -> Store:
    access = require_api_roles(request, *METER_READ_ROLES)
    return store_get_for_access(access=access, store_id=store_id)


@router.patch("/stores/{store_id}", response=StoreOut, summary="Rename, change or close a store")
def store_patch(request: HttpRequest, store_id: int, payload: StorePatch) -> Store:
    access = require_api_roles(request, *METER_WRITE_ROLES)
    store = store_get_for_access(access=access, store_id=store_id)
    store_update(store=store, acting_user=request.user, **payload.dict(exclude_unset=True))
    return store_get_for_access(access=access, store_id=store.pk)


# Meters ------------------------------------------------------------------------------------------------------------


class MeterOut(Schema):
    id: int
    serial: str
    brand: str
    meter_model_id: int
    meter_model: str
    status: str
    store_id: int | None
    store: str | None
    received_on: datetime.date | None
    last_calibrated_on: datetime.date | None

    @staticmethod
    def resolve_meter_model(meter: Meter) -> str:
        return meter.meter_model.code

    @staticmethod
    def resolve_store(meter: Meter) -> str | None:
        return meter.store.code if meter.store else None


class HistoryMovementOut(Schema):
    id: int
    kind: str
    moved_on: datetime.date
    from_store: str | None
    to_store: str | None
    supplier: str
    reference: str


class HistoryInstallationOut(Schema):
    id: int
    connection: str
    installed_on: datetime.date
    initial_index: Decimal
    removed_on: datetime.date | None
    final_index: Decimal | None
    removal_reason: str


class HistoryCalibrationOut(Schema):
    id: int
    calibrated_on: datetime.date
    result: str
    error_percent: Decimal | None
    certificate: str


class MeterDetailOut(MeterOut):
    movements: list[HistoryMovementOut]
    installations: list[HistoryInstallationOut]
    calibrations: list[HistoryCalibrationOut]

    @staticmethod
    def resolve_movements(meter: Meter) -> list[dict[str, Any]]:
        return [
            {
                "id": movement.pk,
                "kind": movement.kind,
                "moved_on": movement.moved_on,
                "from_store": movement.from_store.code if movement.from_store else None,
                "to_store": movement.to_store.code if movement.to_store else None,
                "supplier": movement.supplier,
                "reference": movement.reference,
            }
            for movement in meter.history.movements  # type: ignore[attr-defined]
        ]

    @staticmethod
    def resolve_installations(meter: Meter) -> list[dict[str, Any]]:
        return [
            {
                "id": installation.pk,
                "connection": installation.connection.number,
                "installed_on": installation.installed_on,
                "initial_index": installation.initial_index,
                "removed_on": installation.removed_on,
                "final_index": installation.final_index,
                "removal_reason": installation.removal_reason,
            }
            for installation in meter.history.installations  # type: ignore[attr-defined]
        ]

    @staticmethod
    def resolve_calibrations(meter: Meter) -> list[Any]:
        return list(meter.history.calibrations)  # type: ignore[attr-defined]


@router.get("/meters", response=list[MeterOut], summary="Meters, by status, store, model and serial prefix")
@paginate(LimitOffsetPagination)
def meter_list(
    request: HttpRequest, status: str = "", store_id: int | None = None, meter_model_id: int | None = None, q: str = ""
) -> Any:
    access = require_api_roles(request, *METER_READ_ROLES)
    return meters_visible_to(access=access, status=status, store_id=store_id, meter_model_id=meter_model_id, serial=q)


class ReceiveIn(Schema):
    store_id: int
    meter_model_id: int
    supplier: str
    received_on: datetime.date
    serial_from: str = ""
    serial_to: str = ""
    serials: list[str] = []
    reference: str = ""
    note: str = ""
    key: str = ""


class ReceiveOut(Schema):
    movement_id: int
    replayed: bool
    count: int


@router.post(
    "/meters/receive",
    response={200: ReceiveOut, 201: ReceiveOut},
    summary="Receive a batch of meters by serial range or list (201; a replayed key: 200, the same movement)",
)
def meters_receive_endpoint(request: HttpRequest, payload: ReceiveIn) -> Status[Any]:
    access = require_api_roles(request, *METER_WRITE_ROLES)
    store = body_pick(stores_visible_to(access=access), payload.store_id, "store_id", _("Choose one of your stores."))
    model = body_pick(
        meter_models_visible_to(access=access), payload.meter_model_id, "meter_model_id", _("Choose a meter model.")
    )
    if payload.serials and (payload.serial_from or payload.serial_to):
        raise MeteringError(
            _("Give a serial range or a list, not both."),
            code="serials_invalid",
            fields={"serials": [_("One or the other.")]},
        )
    if payload.serials:
        serials = serials_parse("\n".join(payload.serials))
    else:
        serials = serial_range(payload.serial_from, payload.serial_to)
    result = meters_receive(
        operator=access.operator,
        store=store,
        meter_model=model,
        serials=serials,
        received_on=payload.received_on,
        supplier=payload.supplier,
        reference=payload.reference,
        note=payload.note,
        key=payload.key,
        acting_user=request.user,
    )
    body = {"movement_id": result.movement.pk, "replayed": result.replayed, "count": result.movement.lines.count()}
    return Status(200 if result.replayed else 201, body)


# After /meters/receive: a path parameter would take "receive" for a meter's id.
@router.get("/meters/{meter_id}", response=MeterDetailOut, summary="One meter with its history")
def meter_get(request: HttpRequest, meter_id: int) -> Meter:
    access = require_api_roles(request, *METER_READ_ROLES)
    meter = meter_get_for_access(access=access, meter_id=meter_id)
    meter.history = meter_history(meter=meter)  # type: ignore[attr-defined]
    return meter


router.add_router("/", api_movements.router)
