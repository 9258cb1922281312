"""Reads of metering: meters — meter models, meters, stores, movements and calibrations, looked up so that another
operator's objects are a 404, and the report of movements between stores."""

import dataclasses
import datetime
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from mita.accounts.roles import Role
from mita.core.access import Access
from mita.metering.models import (
    Calibration,
    Installation,
    Meter,
    MeterModel,
    Movement,
    MovementLine,
    Register,
    Store,
)

METER_READ_ROLES = (
    Role.OPERATOR_ADMIN,
    Role.STOREKEEPER,
    Role.TECHNICIAN,
    Role.BILLING_OFFICER,
    Role.CUSTOMER_CARE,
)
METER_WRITE_ROLES = (Role.OPERATOR_ADMIN, Role.STOREKEEPER)
# The kinds of movement made on the movement pages (receipts have their own; installations come from connections).
STORE_MOVEMENT_KINDS = (
    Movement.Kind.TRANSFER,
    Movement.Kind.TO_LAB,
    Movement.Kind.FROM_LAB,
    Movement.Kind.REJECT,
    Movement.Kind.SCRAP,
)


def operator_of(access: Access) -> Any:
    """The active operator; a regulator or district workspace has none here (a 404: these are operator pages)."""
    if access.operator is None:
        raise Http404
    return access.operator


def _one(queryset: QuerySet[Any], pk: Any) -> Any:
    try:
        found = queryset.filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        found = None
    if found is None:
        raise Http404
    return found


# Meter models -------------------------------------------------------------------------------------------------------


def meter_models_visible_to(
    *, access: Access, search: str = "", utility: str = "", active: bool | None = None
) -> QuerySet[MeterModel]:
    models = (
        MeterModel.objects.filter(operator=operator_of(access))
        .prefetch_related(Prefetch("registers", queryset=Register.objects.order_by("position", "code")))
        .annotate(meter_count=Count("meters"))
    )
    if utility:
        models = models.filter(utility=utility)
    if active is not None:
        models = models.filter(active=active)
    if term := search.strip():
        models = models.filter(Q(code__istartswith=term) | Q(brand__istartswith=term) | Q(name__icontains=term))
    return models.order_by("code")


def meter_model_get_for_access(*, access: Access, meter_model_id: Any) -> MeterModel:
    model: MeterModel = _one(meter_models_visible_to(access=access), meter_model_id)
    return model


# Stores --------------------------------------------------------------------------------------------------------------


def stores_visible_to(*, access: Access, kind: str = "", active: bool | None = None) -> QuerySet[Store]:
    stores = Store.objects.filter(operator=operator_of(access)).annotate(
        meter_count=Count("meters", filter=~Q(meters__status__in=[Meter.Status.INSTALLED, Meter.Status.SCRAPPED]))
    )
    if kind:
        stores = stores.filter(kind=kind)
    if active is not None:
        stores = stores.filter(active=active)
    return stores.order_by("code")


def store_get_for_access(*, access: Access, store_id: Any) -> Store:
    store: Store = _one(stores_visible_to(access=access), store_id)
    return store


# Meters --------------------------------------------------------------------------------------------------------------


def meters_visible_to(
    *,
    access: Access,
    status: str = "",
    store_id: Any = None,
    meter_model_id: Any = None,
    serial: str = "",
) -> QuerySet[Meter]:
    """The operator's meters, by status, store, model and a serial prefix (whatever its case)."""
    meters = Meter.objects.filter(operator=operator_of(access)).select_related("meter_model", "store")
    if status:
        meters = meters.filter(status=status)
    if store_id:
        meters = meters.filter(store_id=store_id)
    if meter_model_id:
        meters = meters.filter(meter_model_id=meter_model_id)
    if term := serial.strip():
        meters = meters.filter(serial__istartswith=term)
    return meters.order_by("brand", "serial")


def meter_get_for_access(*, access: Access, meter_id: Any) -> Meter:
    meter: Meter = _one(meters_visible_to(access=access), meter_id)
    return meter


@dataclasses.dataclass(frozen=True)
class MeterHistory:
    movements: list[Movement]
    installations: list[Installation]
    calibrations: list[Calibration]


def meter_history(*, meter: Meter) -> MeterHistory:
    """A meter's life: its movements (receipt, transfers, lab, installations ...), installations and calibrations."""
    movements = list(
        Movement.objects.filter(lines__meter=meter)
        .select_related("from_store", "to_store", "created_by")
        .order_by("-moved_on", "-pk")
    )
    installations = list(
        Installation.objects.filter(meter=meter).select_related("connection").order_by("-installed_on", "-pk")
    )
    calibrations = list(
        Calibration.objects.filter(meter=meter).select_related("created_by").order_by("-calibrated_on", "-pk")
    )
    return MeterHistory(movements=movements, installations=installations, calibrations=calibrations)


# Movements -----------------------------------------------------------------------------------------------------------


def _movements(
    *,
    access: Access,
    kind: str = "",
    store_id: Any = None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[Movement]:
    movements = Movement.objects.filter(operator=operator_of(access))
    if kind:
        movements = movements.filter(kind=kind)
    if store_id:
        movements = movements.filter(Q(from_store_id=store_id) | Q(to_store_id=store_id))
    if date_from:
        movements = movements.filter(moved_on__gte=date_from)
    if date_to:
        movements = movements.filter(moved_on__lte=date_to)
    return movements


def movements_visible_to(
    *,
    access: Access,
    kind: str = "",
    store_id: Any = None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[Movement]:
    """The operator's movement documents, newest first, each with its number of meters."""
    return (
        _movements(access=access, kind=kind, store_id=store_id, date_from=date_from, date_to=date_to)
        .select_related("from_store", "to_store", "created_by")
        .annotate(meter_count=Count("lines"))
        .order_by("-moved_on", "-pk")
    )


def movement_get_for_access(*, access: Access, movement_id: Any) -> Movement:
    movement: Movement = _one(movements_visible_to(access=access), movement_id)
    return movement


def movement_lines(*, movement: Movement) -> QuerySet[MovementLine]:
    return movement.lines.select_related("meter__meter_model").order_by("meter__brand", "meter__serial")


@dataclasses.dataclass(frozen=True)
class MovementGroup:
    kind: str
    kind_label: str
    from_store: str
    to_store: str
    documents: int
    meters: int


def movement_report(
    *, access: Access, date_from: datetime.date, date_to: datetime.date, kind: str = "", store_id: Any = None
) -> list[MovementGroup]:
    """Movements of a period by kind and from -> to: how many documents and how many meters."""
    movements = _movements(access=access, kind=kind, store_id=store_id, date_from=date_from, date_to=date_to)
    rows = (
        movements.values("kind", "from_store__code", "from_store__name", "to_store__code", "to_store__name")
        .annotate(documents=Count("pk", distinct=True), meters=Count("lines"))
        .order_by("kind", "from_store__code", "to_store__code")
    )
    labels = dict(Movement.Kind.choices)
    return [
        MovementGroup(
            kind=row["kind"],
            kind_label=str(labels.get(row["kind"], row["kind"])),
            from_store=f"{row['from_store__code']} {row['from_store__name']}" if row["from_store__code"] else "",
            to_store=f"{row['to_store__code']} {row['to_store__name']}" if row["to_store__code"] else "",
            documents=row["documents"],
            meters=row["meters"],
        )
        for row in rows
    ]


# Calibrations --------------------------------------------------------------------------------------------------------


def calibrations_visible_to(
    *, access: Access, meter_id: Any = None, result: str = "", date_from: Any = None, date_to: Any = None
) -> QuerySet[Calibration]:
    calibrations = Calibration.objects.filter(operator=operator_of(access)).select_related(
        "meter__meter_model", "created_by"
    )
    if meter_id:
        calibrations = calibrations.filter(meter_id=meter_id)
    if result:
        calibrations = calibrations.filter(result=result)
    if date_from:
        calibrations = calibrations.filter(calibrated_on__gte=date_from)
    if date_to:
        calibrations = calibrations.filter(calibrated_on__lte=date_to)
    return calibrations.order_by("-calibrated_on", "-pk")


def calibration_get_for_access(*, access: Access, calibration_id: Any) -> Calibration:
    calibration: Calibration = _one(calibrations_visible_to(access=access), calibration_id)
    return calibration
