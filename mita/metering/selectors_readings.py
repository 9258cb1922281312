"""Reads for entering and listing readings: finding a connection by meter serial or connection number, where its
registers stand, the readings staff may see, and a reader's records of the last five days."""

import dataclasses
import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from mita.accounts.roles import Role
from mita.core.access import Access
from mita.customers.models import Connection
from mita.customers.selectors import connection_get_for_access
from mita.metering.models import Installation, Meter, MeterState, Reading, Register

# Who enters readings on the page and through POST /api/v1/readings; customer care only what a customer told them.
READING_ENTRY_ROLES = (Role.OPERATOR_ADMIN, Role.BILLING_OFFICER, Role.CUSTOMER_CARE)
READER_ROLES = (Role.OPERATOR_ADMIN, Role.BILLING_OFFICER)  # may record "read by a meter reader"
# The operator's staff who may list and read readings through the API.
READING_READ_ROLES = (Role.OPERATOR_ADMIN, Role.BILLING_OFFICER, Role.CUSTOMER_CARE, Role.TECHNICIAN)
RECENT_DAYS = 5  # "a reader sees their last 5 days of records": today and the four days before
FIND_LIMIT = 20


def operator_of(access: Access) -> Any:
    """The active operator; a regulator or district workspace has none here (404, as for any other tenant)."""
    if access.operator is None:
        raise Http404
    return access.operator


@dataclasses.dataclass(frozen=True)
class ConnectionMatch:
    connection: Connection
    meter: Meter | None


def connections_for_reading(*, access: Access, query: str) -> list[ConnectionMatch]:
    """Connections of the user's operator whose installed meter's serial or whose number (point of connection) is the
    query, whatever its case; when nothing is exactly that, those starting with it (at most FIND_LIMIT)."""
    operator = operator_of(access)
    term = query.strip()
    if not term:
        return []
    for exact in (True, False):
        lookup_serial = {"meter__serial__iexact" if exact else "meter__serial__istartswith": term}
        lookup_number = {"number__iexact" if exact else "number__istartswith": term}
        by_meter = {
            installation.connection_id: installation.meter
            for installation in Installation.objects.filter(operator=operator, removed_on__isnull=True, **lookup_serial)
            .select_related("meter")
            .order_by("connection_id")[:FIND_LIMIT]
        }
        numbers = (
            Connection.objects.filter(operator=operator, **lookup_number)
            .order_by("number")
            .values_list("pk", flat=True)
        )
        ids = set(by_meter) | set(numbers[:FIND_LIMIT])
        if ids:
            return _matches(operator, sorted(ids)[:FIND_LIMIT], by_meter)
    return []


def _matches(operator: Any, ids: list[int], meters: dict[int, Meter]) -> list[ConnectionMatch]:
    missing = [pk for pk in ids if pk not in meters]
    for installation in Installation.objects.filter(
        operator=operator, connection_id__in=missing, removed_on__isnull=True
    ).select_related("meter"):
        meters[installation.connection_id] = installation.meter
    connections = Connection.objects.filter(operator=operator, pk__in=ids).select_related("customer", "route")
    return [ConnectionMatch(connection, meters.get(connection.pk)) for connection in connections.order_by("number")]


@dataclasses.dataclass(frozen=True)
class RegisterStanding:
    """One register of the installed meter and where it stands: the previous index and its date."""

    code: str
    unit: str
    multiplier: Decimal
    previous_index: Decimal
    previous_read_on: datetime.date
    previous_estimated: bool
    last_cycle: str = ""  # the cycle of the previous index ("" for an initial index)


@dataclasses.dataclass(frozen=True)
class ReadingSheet:
    """What a reader needs to read one connection: its meter and each register's previous index."""

    connection: Connection
    installation: Installation | None
    registers: list[RegisterStanding]

    @property
    def meter(self) -> Meter | None:
        return self.installation.meter if self.installation is not None else None


def standings_of(
    installation: Installation, registers: list[Register], states: dict[str, MeterState]
) -> list[RegisterStanding]:
    """Each register of the installed meter with its previous index: the state's, or the initial index when the
    state still counts a meter removed before (or there is none)."""
    standings = []
    for register in registers:
        state = states.get(register.code)
        if state is not None and state.installation_id == installation.pk:
            previous, on, estimated = state.last_index, state.last_read_on, state.last_estimated
        else:
            previous, on, estimated = installation.initial_index, installation.installed_on, False
        standings.append(
            RegisterStanding(
                code=register.code,
                unit=register.unit,
                multiplier=register.multiplier,
                previous_index=previous,
                previous_read_on=on,
                previous_estimated=estimated,
                last_cycle=state.last_cycle if state is not None and state.installation_id == installation.pk else "",
            )
        )
    return standings


def reading_sheet(*, access: Access, connection_id: int) -> ReadingSheet:
    """The connection (404 across operators) with its installed meter and registers; no meter, no registers."""
    operator_of(access)
    connection = connection_get_for_access(access=access, connection_id=connection_id)
    installation = (
        Installation.objects.filter(operator=connection.operator_id, connection=connection, removed_on__isnull=True)
        .select_related("meter__meter_model")
        .first()
    )
    if installation is None:
        return ReadingSheet(connection=connection, installation=None, registers=[])
    states = {
        state.register: state
        for state in MeterState.objects.filter(operator=connection.operator_id, connection=connection)
    }
    registers = standings_of(
        installation, list(Register.objects.filter(meter_model=installation.meter.meter_model_id)), states
    )
    return ReadingSheet(connection=connection, installation=installation, registers=registers)


def readings_visible_to(
    *, access: Access, connection_id: int | None = None, cycle: str = "", status: str = ""
) -> QuerySet[Reading]:
    """The readings of the user's operator, newest first, with their connection and meter."""
    readings = Reading.objects.filter(operator=operator_of(access)).select_related(
        "connection", "installation__meter", "reader"
    )
    if connection_id is not None:
        readings = readings.filter(connection_id=connection_id)
    if cycle:
        readings = readings.filter(cycle=cycle)
    if status:
        readings = readings.filter(status=status)
    return readings.order_by("-read_on", "-pk")


def reading_get_for_access(*, access: Access, reading_id: int) -> Reading:
    reading = readings_visible_to(access=access).filter(pk=reading_id).first()
    if reading is None:
        raise Http404
    return reading


def recent_since(today: datetime.date | None = None) -> datetime.date:
    today = today or timezone.localdate()
    return today - datetime.timedelta(days=RECENT_DAYS - 1)


def readings_of_reader(*, access: Access, reader: Any, today: datetime.date | None = None) -> QuerySet[Reading]:
    """The reader's own records of the last five days: read on one of them, or recorded on one of them."""
    since = recent_since(today)
    since_at = timezone.make_aware(datetime.datetime.combine(since, datetime.time()))
    return (
        readings_visible_to(access=access)
        .filter(reader=reader)
        .filter(Q(read_on__gte=since) | Q(created_at__gte=since_at))
        .order_by("-read_on", "-pk")
    )
