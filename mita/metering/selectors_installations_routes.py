"""Reads of routes and reading books: who reads which route in a cycle and how far they got, a reader's own routes,
and a route's book (its connections in reading sequence with the previous index). A few set-based reads per page,
whatever the number of routes or connections."""

import dataclasses
import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, QuerySet
from django.utils import timezone

from mita.accounts.models import Membership, User
from mita.customers.models import Connection, Route
from mita.metering.models import Installation, MeterState, Reading, RouteAssignment
from mita.metering.route_assignments import READER_ROLE
from mita.metering.validation import cycle_of

# A connection counts as read in a cycle when someone read its meter (or sent its index): not an estimate, not the
# index at a meter's removal, not an adjustment; a reader's code without an index is a visit, not a reading.
READ_SOURCES = (
    Reading.Source.MANUAL,
    Reading.Source.CUSTOMER,
    Reading.Source.IMPORT,
    Reading.Source.SMART,
    Reading.Source.FIELD,
)
UNCOUNTED = (Reading.Status.REJECTED, Reading.Status.SUPERSEDED)


def current_cycle() -> str:
    return cycle_of(timezone.localdate())


def readers_of(*, operator: Any) -> QuerySet[User]:
    """The operator's meter readers (its active billing officers)."""
    memberships = Membership.objects.active().filter(operator_id=operator.pk, role=READER_ROLE)
    return User.objects.filter(pk__in=memberships.values("user_id")).order_by("name", "pk")


def _live_connections(operator: Any) -> QuerySet[Connection]:
    """Connections a reader visits: metered and not terminated."""
    return Connection.objects.filter(operator=operator, metered=True).exclude(status=Connection.Status.TERMINATED)


def _read_in(operator: Any, cycle: str) -> QuerySet[Reading]:
    return Reading.objects.filter(
        operator=operator, cycle=cycle, source__in=READ_SOURCES, current_index__isnull=False
    ).exclude(status__in=UNCOUNTED)


@dataclasses.dataclass(frozen=True)
class RouteProgress:
    route: Route
    cycle: str
    assignment: RouteAssignment | None
    total: int  # metered, live connections on the route
    read: int  # of them, read in the cycle

    @property
    def reader(self) -> Any:
        return self.assignment.reader if self.assignment is not None else None

    @property
    def percent(self) -> int:
        return round(100 * self.read / self.total) if self.total else 0


def _progress(operator: Any, routes: list[Route], cycle: str) -> list[RouteProgress]:
    route_ids = [route.pk for route in routes]
    assignments = {
        assignment.route_id: assignment
        for assignment in RouteAssignment.objects.filter(
            operator=operator, cycle=cycle, route_id__in=route_ids
        ).select_related("reader", "assigned_by")
    }
    totals = dict(
        _live_connections(operator)
        .filter(route_id__in=route_ids)
        .values("route_id")
        .annotate(count=Count("pk"))
        .values_list("route_id", "count")
    )
    read = dict(
        _read_in(operator, cycle)
        .filter(connection__route_id__in=route_ids, connection__metered=True)
        .exclude(connection__status=Connection.Status.TERMINATED)
        .values("connection__route_id")
        .annotate(count=Count("connection_id", distinct=True))
        .values_list("connection__route_id", "count")
    )
    return [
        RouteProgress(
            route=route,
            cycle=cycle,
            assignment=assignments.get(route.pk),
            total=totals.get(route.pk, 0),
            read=read.get(route.pk, 0),
        )
        for route in routes
    ]


def routes_progress(*, operator: Any, cycle: str, reader_id: int | None = None) -> list[RouteProgress]:
    """Every route of the operator (or those of one reader) in a cycle: its reader and how many of its connections
    were read — four queries."""
    routes = Route.objects.filter(operator=operator).order_by("code")
    if reader_id is not None:
        routes = routes.filter(
            pk__in=RouteAssignment.objects.filter(operator=operator, cycle=cycle, reader_id=reader_id).values(
                "route_id"
            )
        )
    return _progress(operator, list(routes), cycle)


def assignments_visible_to(
    *, operator: Any, cycle: str = "", reader_id: int | None = None, route_id: int | None = None
) -> QuerySet[RouteAssignment]:
    assignments = RouteAssignment.objects.filter(operator=operator).select_related("route", "reader", "assigned_by")
    if cycle:
        assignments = assignments.filter(cycle=cycle)
    if reader_id is not None:
        assignments = assignments.filter(reader_id=reader_id)
    if route_id is not None:
        assignments = assignments.filter(route_id=route_id)
    return assignments.order_by("-cycle", "route__code", "pk")


# The reading book -------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BookRegister:
    code: str  # the register
    previous_index: Decimal
    previous_read_on: datetime.date
    previous_estimated: bool


@dataclasses.dataclass(frozen=True)
class BookLine:
    """One stop of the reader: who, where, which meter, and where its registers stood."""

    connection_id: int
    sequence: int | None
    connection_number: str
    customer_name: str
    chamber: str
    meter_serial: str
    meter_model: str
    registers: list[BookRegister]
    read_this_cycle: bool


@dataclasses.dataclass(frozen=True)
class RouteBook:
    route: Route
    cycle: str
    assignment: RouteAssignment | None
    lines: list[BookLine]

    @property
    def read(self) -> int:
        return sum(1 for line in self.lines if line.read_this_cycle)


def route_book(*, operator: Any, route: Route, cycle: str) -> RouteBook:
    """A route's connections in reading sequence (those without a place last, by number), with the meter on each and
    the previous index and date of each register (MeterState) — four queries for the whole book."""
    connections = list(
        _live_connections(operator)
        .filter(route=route)
        .select_related("customer", "chamber")
        .order_by(F("reading_sequence").asc(nulls_last=True), "number")
    )
    ids = [connection.pk for connection in connections]
    meters = {
        installation.connection_id: installation.meter
        for installation in Installation.objects.filter(
            operator=operator, connection_id__in=ids, removed_on__isnull=True
        ).select_related("meter__meter_model")
    }
    states: dict[int, list[BookRegister]] = {}
    for state in MeterState.objects.filter(
        operator=operator, connection_id__in=ids, installation__isnull=False
    ).order_by("connection_id", "register"):
        states.setdefault(state.connection_id, []).append(
            BookRegister(
                code=state.register,
                previous_index=state.last_index,
                previous_read_on=state.last_read_on,
                previous_estimated=state.last_estimated,
            )
        )
    read = set(_read_in(operator, cycle).filter(connection_id__in=ids).values_list("connection_id", flat=True))
    assignment = (
        RouteAssignment.objects.filter(operator=operator, route=route, cycle=cycle).select_related("reader").first()
    )
    lines = []
    for connection in connections:
        meter = meters.get(connection.pk)
        lines.append(
            BookLine(
                connection_id=connection.pk,
                sequence=connection.reading_sequence,
                connection_number=connection.number,
                customer_name=connection.customer.name,
                chamber=connection.chamber.code if connection.chamber else "",
                meter_serial=meter.serial if meter is not None else "",
                meter_model=str(meter.meter_model) if meter is not None else "",
                registers=states.get(connection.pk, []) if meter is not None else [],
                read_this_cycle=connection.pk in read,
            )
        )
    return RouteBook(route=route, cycle=cycle, assignment=assignment, lines=lines)
