"""What the offline field app downloads for a reader: their routes of a cycle, each route's connections in reading
order with their meters and previous indexes, and the reader's own records of the last five days."""

import dataclasses
import datetime
from collections import defaultdict
from typing import Any

from django.db.models import F

from mita.core.access import Access
from mita.customers.models import Connection, Route
from mita.metering.models import Installation, MeterState, Reading, Register, RouteAssignment
from mita.metering.selectors_readings import (
    RegisterStanding,
    operator_of,
    readings_of_reader,
    recent_since,
    standings_of,
)


@dataclasses.dataclass(frozen=True)
class StopOnRoute:
    """One connection to read: who, where in the sequence, which meter, where its registers stand."""

    connection: Connection
    installation: Installation | None
    registers: list[RegisterStanding]


@dataclasses.dataclass(frozen=True)
class RouteSheet:
    assignment: RouteAssignment
    route: Route
    stops: list[StopOnRoute]


@dataclasses.dataclass(frozen=True)
class FieldRoute:
    cycle: str
    reader_id: int
    routes: list[RouteSheet]
    recent: list[Reading]
    since: datetime.date


def field_route(*, access: Access, reader: Any, cycle: str, today: datetime.date | None = None) -> FieldRoute:
    """The reader's route assignments for the cycle (only theirs, of the active operator), with a fixed number of
    queries however many connections they hold."""
    operator = operator_of(access)
    assignments = list(
        RouteAssignment.objects.filter(operator=operator, reader=reader, cycle=cycle)
        .select_related("route")
        .order_by("route__code")
    )
    route_ids = [assignment.route_id for assignment in assignments]
    connections = list(
        Connection.objects.filter(operator=operator, route_id__in=route_ids, metered=True)
        .exclude(status=Connection.Status.TERMINATED)
        .select_related("customer")
        .order_by(F("reading_sequence").asc(nulls_last=True), "number")
    )
    ids = [connection.pk for connection in connections]
    installations = {
        installation.connection_id: installation
        for installation in Installation.objects.filter(
            operator=operator, connection_id__in=ids, removed_on__isnull=True
        ).select_related("meter__meter_model")
    }
    registers: dict[int, list[Register]] = defaultdict(list)
    for register in Register.objects.filter(
        meter_model_id__in={installation.meter.meter_model_id for installation in installations.values()}
    ):
        registers[register.meter_model_id].append(register)
    states: dict[int, dict[str, MeterState]] = defaultdict(dict)
    for state in MeterState.objects.filter(operator=operator, connection_id__in=ids):
        states[state.connection_id][state.register] = state
    stops: dict[int, list[StopOnRoute]] = defaultdict(list)
    for connection in connections:
        installation = installations.get(connection.pk)
        standings = (
            standings_of(installation, registers[installation.meter.meter_model_id], states[connection.pk])
            if installation is not None
            else []
        )
        assert connection.route_id is not None
        stops[connection.route_id].append(StopOnRoute(connection, installation, standings))
    recent = list(readings_of_reader(access=access, reader=reader, today=today))
    return FieldRoute(
        cycle=cycle,
        reader_id=reader.pk,
        routes=[
            RouteSheet(assignment=assignment, route=assignment.route, stops=stops[assignment.route_id])
            for assignment in assignments
        ],
        recent=recent,
        since=recent_since(today),
    )
