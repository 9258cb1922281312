"""API of metering: installations (install, remove, replace a connection's meter; its installation history) and
routes (readers per cycle, reading books). Indexes travel as decimal strings, never floats; a request sent again is
answered with its first result (200), a conflicting one is a 409."""

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from mita.core.permissions import require_api_roles
from mita.customers.models import Route
from mita.customers.selectors_details import route_get_for_access
from mita.metering.installation_actions import (
    InstallationOutcome,
    installation_install,
    installation_remove,
    installation_replace,
    store_find,
)
from mita.metering.models import Installation, RouteAssignment
from mita.metering.route_assignments import ASSIGN_ROLES, cycle_checked, route_assign
from mita.metering.selectors_installations import (
    INSTALL_READ_ROLES,
    INSTALL_WRITE_ROLES,
    connection_get_for_metering,
    installation_get_for_access,
    installations_of,
    operator_of,
)
from mita.metering.selectors_installations_routes import (
    assignments_visible_to,
    current_cycle,
    readers_of,
    route_book,
)

router = Router(tags=["metering"])


class InstallationOut(Schema):
    id: int
    connection_id: int
    connection_number: str
    meter_id: int
    meter_serial: str
    meter_brand: str
    meter_model: str
    installed_on: datetime.date
    initial_index: Decimal
    removed_on: datetime.date | None
    final_index: Decimal | None
    removal_reason: str
    installed_by_id: int | None
    removed_by_id: int | None

    @staticmethod
    def resolve_connection_number(installation: Installation) -> str:
        return installation.connection.number

    @staticmethod
    def resolve_meter_serial(installation: Installation) -> str:
        return installation.meter.serial

    @staticmethod
    def resolve_meter_brand(installation: Installation) -> str:
        return installation.meter.brand

    @staticmethod
    def resolve_meter_model(installation: Installation) -> str:
        return installation.meter.meter_model.code


class InstallIn(Schema):
    serial: str
    brand: str = ""  # only when meters of two brands carry the serial
    installed_on: datetime.date
    initial_index: str  # a decimal string


class RemoveIn(Schema):
    removed_on: datetime.date
    final_index: str
    reason: (
        str  # Installation.RemovalReason: replaced, faulty, calibration, disconnection, termination, tampered, other
    )
    store_id: int  # where the meter goes


class ReplaceIn(Schema):
    replaced_on: datetime.date
    final_index: str  # of the meter taken off
    reason: str
    store_id: int  # where the old meter goes
    serial: str  # the new meter
    brand: str = ""
    initial_index: str  # of the new meter


def _answer(outcome: InstallationOutcome, created: int) -> Status[Any]:
    """The installation as stored (indexes as the database keeps them), 200 for a replay."""
    installation = Installation.objects.select_related("meter__meter_model", "connection").get(
        pk=outcome.installation.pk
    )
    return Status(200 if outcome.replayed else created, installation)


@router.post(
    "/connections/{connection_id}/meter",
    response={200: InstallationOut, 201: InstallationOut},
    summary="Install a meter on a connection (201; the same request again: 200)",
)
def meter_install_endpoint(request: HttpRequest, connection_id: int, payload: InstallIn) -> Status[Any]:
    access = require_api_roles(request, *INSTALL_WRITE_ROLES)
    connection = connection_get_for_metering(access=access, connection_id=connection_id)
    outcome = installation_install(connection=connection, acting_user=request.user, **payload.dict())
    return _answer(outcome, 201)


@router.post(
    "/connections/{connection_id}/meter/remove",
    response={200: InstallationOut},
    summary="Remove a connection's meter with its final index",
)
def meter_remove_endpoint(request: HttpRequest, connection_id: int, payload: RemoveIn) -> Status[Any]:
    access = require_api_roles(request, *INSTALL_WRITE_ROLES)
    connection = connection_get_for_metering(access=access, connection_id=connection_id)
    data = payload.dict()
    to_store = store_find(operator=connection.operator, store_id=data.pop("store_id"))
    outcome = installation_remove(connection=connection, to_store=to_store, acting_user=request.user, **data)
    return _answer(outcome, 200)


@router.post(
    "/connections/{connection_id}/meter/replace",
    response={200: InstallationOut, 201: InstallationOut},
    summary="Replace a connection's meter: final index of the old, initial index of the new (201; again: 200)",
)
def meter_replace_endpoint(request: HttpRequest, connection_id: int, payload: ReplaceIn) -> Status[Any]:
    access = require_api_roles(request, *INSTALL_WRITE_ROLES)
    connection = connection_get_for_metering(access=access, connection_id=connection_id)
    data = payload.dict()
    to_store = store_find(operator=connection.operator, store_id=data.pop("store_id"))
    outcome = installation_replace(connection=connection, to_store=to_store, acting_user=request.user, **data)
    return _answer(outcome, 201)


@router.get(
    "/connections/{connection_id}/installations",
    response=list[InstallationOut],
    summary="The meters a connection has had, the newest first",
)
@paginate(LimitOffsetPagination)
def installation_list(request: HttpRequest, connection_id: int) -> QuerySet[Installation]:
    access = require_api_roles(request, *INSTALL_READ_ROLES)
    connection = connection_get_for_metering(access=access, connection_id=connection_id)
    return installations_of(connection=connection).select_related("connection")


@router.get("/installations/{installation_id}", response=InstallationOut, summary="One installation")
def installation_get(request: HttpRequest, installation_id: int) -> Installation:
    access = require_api_roles(request, *INSTALL_READ_ROLES)
    return installation_get_for_access(access=access, installation_id=installation_id)


# Routes ---------------------------------------------------------------------------------------------------------


class AssignmentOut(Schema):
    id: int
    route_id: int
    route_code: str
    cycle: str
    reader_id: int
    reader_name: str
    assigned_by_id: int | None
    assigned_at: datetime.datetime

    @staticmethod
    def resolve_route_code(assignment: RouteAssignment) -> str:
        return assignment.route.code

    @staticmethod
    def resolve_reader_name(assignment: RouteAssignment) -> str:
        return assignment.reader.name


class AssignmentIn(Schema):
    route_id: int
    cycle: str  # "2026-10"
    reader_id: int


@router.get("/route-assignments", response=list[AssignmentOut], summary="Who reads which route in which cycle")
@paginate(LimitOffsetPagination)
def assignment_list(
    request: HttpRequest, cycle: str = "", reader_id: int | None = None, route_id: int | None = None
) -> QuerySet[RouteAssignment]:
    access = require_api_roles(request, *INSTALL_READ_ROLES)
    if cycle:
        cycle = cycle_checked(cycle)
    return assignments_visible_to(operator=operator_of(access), cycle=cycle, reader_id=reader_id, route_id=route_id)


@router.post(
    "/route-assignments",
    response={200: AssignmentOut, 201: AssignmentOut},
    summary="Give a route to a meter reader for a cycle (201; replacing the reader or the same again: 200)",
)
def assignment_create(request: HttpRequest, payload: AssignmentIn) -> Status[Any]:
    access = require_api_roles(request, *ASSIGN_ROLES)
    operator = operator_of(access)
    route = Route.objects.filter(operator=operator, pk=payload.route_id).first()
    reader = readers_of(operator=operator).filter(pk=payload.reader_id).first()
    outcome = route_assign(operator=operator, route=route, cycle=payload.cycle, reader=reader, acting_user=request.user)
    assignment = RouteAssignment.objects.select_related("route", "reader").get(pk=outcome.assignment.pk)
    return Status(201 if outcome.outcome == "created" else 200, assignment)


class BookRegisterOut(Schema):
    code: str  # the register ("main", "active", ...)
    previous_index: Decimal
    previous_read_on: datetime.date
    previous_estimated: bool


class BookLineOut(Schema):
    connection_id: int
    sequence: int | None
    connection_number: str
    customer_name: str
    chamber: str
    meter_serial: str
    meter_model: str
    registers: list[BookRegisterOut]
    read_this_cycle: bool


class RouteBookOut(Schema):
    route_id: int
    route_code: str
    route_name: str
    cycle: str
    reader_id: int | None
    reader_name: str | None
    read: int
    lines: list[BookLineOut]


@router.get("/routes/{route_id}/book", response=RouteBookOut, summary="A route's reading book for a cycle")
def route_book_endpoint(request: HttpRequest, route_id: int, cycle: str = "") -> dict[str, Any]:
    access = require_api_roles(request, *INSTALL_READ_ROLES)
    route = route_get_for_access(access=access, route_id=route_id)
    book = route_book(
        operator=operator_of(access), route=route, cycle=cycle_checked(cycle) if cycle else current_cycle()
    )
    reader = book.assignment.reader if book.assignment is not None else None
    return {
        "route_id": route.pk,
        "route_code": route.code,
        "route_name": route.name,
        "cycle": book.cycle,
        "reader_id": reader.pk if reader else None,
        "reader_name": reader.name if reader else None,
        "read": book.read,
        "lines": book.lines,
    }
