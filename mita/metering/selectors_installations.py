"""Reads of installations: a connection's meter with where its registers stand, its installation history and its
readings, the meters and stores the forms offer, and the customer 360 panel's figures (404 across operators)."""

import dataclasses
from decimal import Decimal
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Upper
from django.http import Http404

from mita.accounts.roles import Role
from mita.core.access import Access
from mita.customers.models import Connection, Customer
from mita.metering.models import Installation, Meter, MeterState, Reading, Register, Store

# Who reads a connection's meter and readings, and who fits and takes off meters (docs/metering-installations.md).
INSTALL_READ_ROLES = (
    Role.OPERATOR_ADMIN,
    Role.TECHNICIAN,
    Role.BILLING_OFFICER,
    Role.CUSTOMER_CARE,
    Role.STOREKEEPER,
    Role.CASHIER,
)
INSTALL_WRITE_ROLES = (Role.OPERATOR_ADMIN, Role.TECHNICIAN)
METER_CHOICES_SHOWN = 200  # meters in store a form suggests; any other is found by its serial


def operator_of(access: Access) -> Any:
    """The user's operator; a regulator or district workspace has none here (404)."""
    if access.operator is None:
        raise Http404
    return access.operator


def connection_get_for_metering(*, access: Access, connection_id: int) -> Connection:
    """One connection of the user's operator, or 404."""
    connection = (
        Connection.objects.filter(operator=operator_of(access), pk=connection_id)
        .select_related("customer", "route", "chamber")
        .first()
    )
    if connection is None:
        raise Http404
    return connection


def installation_open_of(*, connection: Connection) -> Installation | None:
    """The meter installed on a connection now, if any."""
    return (
        Installation.objects.filter(connection=connection, removed_on__isnull=True)
        .select_related("meter__meter_model", "installed_by")
        .first()
    )


def installations_of(*, connection: Connection) -> QuerySet[Installation]:
    """Every meter the connection has had, the newest first."""
    return (
        Installation.objects.filter(operator_id=connection.operator_id, connection=connection)
        .select_related("meter__meter_model", "installed_by", "removed_by")
        .order_by("-installed_on", "-pk")
    )


def installations_visible_to(*, access: Access) -> QuerySet[Installation]:
    return Installation.objects.filter(operator=operator_of(access)).select_related(
        "meter__meter_model", "connection", "installed_by", "removed_by"
    )


def installation_get_for_access(*, access: Access, installation_id: int) -> Installation:
    installation = installations_visible_to(access=access).filter(pk=installation_id).first()
    if installation is None:
        raise Http404
    return installation


def registers_of(*, installation: Installation | None) -> list[Register]:
    """The registers of the installed meter's model, in their order (a model without any counts as one "main")."""
    if installation is None:
        return []
    return list(Register.objects.filter(meter_model_id=installation.meter.meter_model_id).order_by("position", "code"))


def states_of(*, connection: Connection) -> list[MeterState]:
    """Where each register of the connection stands: last index, its date and cycle."""
    return list(MeterState.objects.filter(connection=connection).order_by("register"))


def readings_of(*, connection: Connection) -> QuerySet[Reading]:
    """The connection's readings, the latest first."""
    return (
        Reading.objects.filter(operator_id=connection.operator_id, connection=connection)
        .select_related("installation__meter", "reader")
        .order_by("-read_on", "-pk")
    )


@dataclasses.dataclass(frozen=True)
class RegisterLine:
    """One register of the installed meter and where it stands (MeterState)."""

    code: str
    unit: str
    multiplier: Decimal
    state: MeterState | None


@dataclasses.dataclass(frozen=True)
class MeterOnConnection:
    """What the connection's meter page shows at the top."""

    connection: Connection
    installation: Installation | None
    registers: list[RegisterLine]
    open_anomalies: int


def meter_on_connection(*, connection: Connection) -> MeterOnConnection:
    installation = installation_open_of(connection=connection)
    states = {state.register: state for state in states_of(connection=connection)}
    registers = [
        RegisterLine(
            code=register.code, unit=register.unit, multiplier=register.multiplier, state=states.get(register.code)
        )
        for register in registers_of(installation=installation)
    ]
    if installation is not None and not registers:  # a model without registers counts as one "main"
        registers = [RegisterLine(code="main", unit="", multiplier=Decimal(1), state=states.get("main"))]
    return MeterOnConnection(
        connection=connection,
        installation=installation,
        registers=registers,
        open_anomalies=Reading.objects.filter(
            operator_id=connection.operator_id, connection=connection, status=Reading.Status.REVIEW
        ).count(),
    )


def meters_in_store_for(*, connection: Connection) -> list[Meter]:
    """Meters of the connection's utility waiting in a store: suggestions for the install form."""
    return list(
        Meter.objects.filter(
            operator_id=connection.operator_id,
            status=Meter.Status.IN_STORE,
            meter_model__utility=connection.utility,
        )
        .select_related("meter_model", "store")
        .order_by("serial")[:METER_CHOICES_SHOWN]
    )


def meters_by_serial(*, operator: Any, serial: str, brand: str = "") -> list[Meter]:
    """The operator's meters with this serial whatever its case (one per brand), through the serial index."""
    meters = (
        Meter.objects.filter(operator=operator)
        .annotate(serial_upper=Upper("serial"))
        .filter(serial_upper=serial.strip().upper())
        .select_related("meter_model", "store")
    )
    if brand.strip():
        meters = meters.filter(brand__iexact=brand.strip())
    return list(meters.order_by("brand")[:10])


def stores_for(*, operator: Any) -> QuerySet[Store]:
    """Where a meter taken off a connection may go."""
    return Store.objects.filter(operator=operator, active=True).order_by("code")


# The customer 360 panel -----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ConnectionMeterLine:
    connection: Connection
    installation: Installation | None
    last_reading: Reading | None
    open_anomalies: int


def customer_meters(*, operator: Any, customer: Customer) -> list[ConnectionMeterLine]:
    """Each metered connection of a customer with its meter, its last reading and its readings waiting for review:
    five reads whatever the number of connections and readings."""
    connections = list(Connection.objects.filter(operator=operator, customer=customer, metered=True).order_by("number"))
    ids = [connection.pk for connection in connections]
    installed = {
        installation.connection_id: installation
        for installation in Installation.objects.filter(
            operator=operator, connection_id__in=ids, removed_on__isnull=True
        ).select_related("meter__meter_model")
    }
    # The last reading of each connection by a subquery per connection (the index on installation and date), not
    # by reading their whole history.
    latest = (
        Reading.objects.filter(operator=operator, connection_id=OuterRef("pk"))
        .exclude(status=Reading.Status.SUPERSEDED)
        .order_by("-read_on", "-pk")
        .values("pk")[:1]
    )
    last_ids = (
        Connection.objects.filter(pk__in=ids).annotate(last_reading=Subquery(latest)).values_list("pk", "last_reading")
    )
    last_by_id = {reading_id: connection_id for connection_id, reading_id in last_ids if reading_id is not None}
    last = {last_by_id[reading.pk]: reading for reading in Reading.objects.filter(operator=operator, pk__in=last_by_id)}
    reviews: dict[int, int] = {}
    for connection_id in Reading.objects.filter(
        operator=operator, connection_id__in=ids, status=Reading.Status.REVIEW
    ).values_list("connection_id", flat=True):
        reviews[connection_id] = reviews.get(connection_id, 0) + 1
    return [
        ConnectionMeterLine(
            connection=connection,
            installation=installed.get(connection.pk),
            last_reading=last.get(connection.pk),
            open_anomalies=reviews.get(connection.pk, 0),
        )
        for connection in connections
    ]


def customer_open_anomalies(*, operator: Any, customer: Customer) -> int | None:
    """The customer's readings waiting in the review queue (the 360 page's "Anomalies" count); None for a customer
    none of whose connections has had a meter, for whom the figure means nothing."""
    if not Installation.objects.filter(operator=operator, connection__customer=customer).exists():
        return None
    return Reading.objects.filter(
        operator=operator, connection__customer=customer, status=Reading.Status.REVIEW
    ).count()
