"""The demo's meters on connections (step 59, after the meters demo's stores and meters, step 58): a meter from a
store on every metered, live connection of each demo operator, reading routes for the connections the customers
demo left without one, the routes given to the operator's meter reader for recent cycles, and a year of monthly
readings (mita/metering/demo_installations_readings.py). Set-based, so that the step stays within seconds."""

import dataclasses
import datetime
import importlib
import random
import time
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db import connection as db
from django.utils import timezone

from mita.accounts.roles import Role
from mita.core.audit import audit_record_many
from mita.core.demo import DemoContext
from mita.customers.demo import OPERATORS
from mita.customers.models import Connection, Route
from mita.customers.services_places import route_create
from mita.metering.demo_installations_readings import Plan, readings_year
from mita.metering.models import Installation, Meter, MeterState, Movement, MovementLine, Register
from mita.metering.route_assignments import routes_assign_many
from mita.metering.validation import cycle_of

SEED = 2026_59  # the step's own random source: the steps after it draw from ctx.rng as they did before it
ROUTE_SIZE = 50  # connections of the bulk-imported customers per new route, by village
MONTHS = 12


def demo_months(today: datetime.date, months: int = MONTHS) -> list[datetime.date]:
    """The first days of the `months` whole months before today's, oldest first (Dec 2025 .. Nov 2026 in Dec 2026)."""
    first = today.replace(day=1)
    days = []
    for _month in range(months):
        first = (first - datetime.timedelta(days=1)).replace(day=1)
        days.append(first)
    return days[::-1]


def meters_in_store(operator: Any) -> list[Meter]:
    """The meters the meters demo left in the operator's stores (its `demo_meters_in_store`, in reg_meters or
    demo_meters, when it has one)."""
    meters = Meter.objects.filter(operator=operator, status=Meter.Status.IN_STORE)
    for module_name in ("mita.metering.reg_meters", "mita.metering.demo_meters"):
        try:
            chosen = importlib.import_module(module_name).demo_meters_in_store(operator)
        except (ImportError, AttributeError):
            continue
        meters = meters.filter(pk__in=[meter.pk for meter in chosen])
        break
    return list(meters.select_related("meter_model", "store").order_by("meter_model_id", "serial"))


@dataclasses.dataclass
class Fitted:
    """A connection and the meter the demo puts on it."""

    connection: Connection
    meter: Meter
    installed_on: datetime.date
    initial_index: Decimal
    rollover: bool = False


def _user(ctx: DemoContext, role: str, operator: Any) -> Any:
    return ctx.objects.get("users", {}).get(f"{role}@{operator}")


def build_installations(ctx: DemoContext) -> None:
    started = time.perf_counter()
    rng = random.Random(SEED)
    months = demo_months(timezone.localdate())
    for key in OPERATORS:
        operator = ctx.objects.get(f"operator:{key}")
        if operator is None:
            continue
        summary = operator_meters_and_readings(ctx, operator, rng=rng, months=months)
        if summary:
            ctx.log(f"{operator.prefix}: {summary}")
    ctx.log(f"meters and a year of readings took {time.perf_counter() - started:.1f} s")


def operator_meters_and_readings(
    ctx: DemoContext, operator: Any, *, rng: random.Random, months: list[datetime.date]
) -> str:
    technician = _user(ctx, Role.TECHNICIAN, operator)
    reader = _user(ctx, Role.BILLING_OFFICER, operator)
    admin = _user(ctx, Role.OPERATOR_ADMIN, operator)
    connections = list(
        Connection.objects.filter(operator=operator, metered=True)
        .exclude(status=Connection.Status.TERMINATED)
        .exclude(pk__in=MeterState.objects.filter(operator=operator).values("connection_id"))
        .select_related("customer")
        .order_by("number")
    )
    if not connections:
        return ""
    stock = meters_in_store(operator)
    swaps = max(1, len(connections) // 200)
    fitted, spares = _pair(connections, stock, rng=rng, first_day=months[0], spare=swaps)
    if not fitted:
        return f"no meters in store for its {len(connections)} metered connections (the meters demo makes them)"
    clock = time.perf_counter()
    _install(operator, fitted, technician=technician)
    routes = _routes_for(operator, [item.connection for item in fitted], acting_user=admin)
    if reader is not None:
        cycles = [cycle_of(day) for day in months] + [cycle_of(timezone.localdate())]
        routes_assign_many(
            operator=operator,
            routes=list(Route.objects.filter(operator=operator)),
            cycles=cycles,
            reader=reader,
            acting_user=admin,
        )
    fitting = time.perf_counter() - clock
    outcome = readings_year(
        Plan(operator=operator, fitted=fitted, spares=spares, months=months, reader=reader, technician=technician),
        rng=rng,
        swaps=swaps,
    )
    reading = time.perf_counter() - clock - fitting
    short = len(connections) - len(fitted)
    return (
        f"{len(fitted)} meters installed{f' ({short} connections left without: too few meters)' if short else ''}, "
        f"{routes} new routes ({fitting:.1f} s), {outcome} ({reading:.1f} s)"
    )


def _pair(
    connections: list[Connection], stock: list[Meter], *, rng: random.Random, first_day: datetime.date, spare: int
) -> tuple[list[Fitted], list[Meter]]:
    """A meter of its utility for each connection (keeping `spare` of each utility for the swaps); a few connections
    get a meter near the end of its dial, the 4-digit ones first, to roll over during the year."""
    multipliers = dict(
        Register.objects.filter(meter_model_id__in={meter.meter_model_id for meter in stock})
        .order_by("-position", "-code")
        .values_list("meter_model_id", "multiplier")
    )  # each model's first register's multiplier (the last one read wins)
    by_utility: dict[str, list[Meter]] = defaultdict(list)
    for meter in stock:
        by_utility[meter.meter_model.utility].append(meter)
    fitted: list[Fitted] = []
    spares: list[Meter] = []
    for utility, meters in by_utility.items():
        rng.shuffle(meters)
        wanted = [connection for connection in connections if connection.utility == utility]
        usable = max(len(meters) - spare, 0)
        spares += meters[usable:]
        # The smallest dials without a multiplier first, for the connections that roll over (every 150th, at
        # least one): 40 to 50 units before the wrap ("near 9,950" on a 4-digit dial), passed within the year.
        rolling = max(1, len(wanted) // 150)
        best = sorted(
            meters[:usable],
            key=lambda meter: (multipliers.get(meter.meter_model_id, 1) != 1, meter.meter_model.dial_digits),
        )[:rolling]
        meters = best + [meter for meter in meters[:usable] if meter not in best]
        for position, (connection, meter) in enumerate(zip(wanted, meters, strict=False)):
            wrap = Decimal(10) ** meter.meter_model.dial_digits
            rollover = position < rolling
            initial = wrap - 40 - rng.randrange(0, 11) if rollover else Decimal(rng.randrange(0, int(wrap // 5)))
            fitted.append(
                Fitted(
                    connection=connection,
                    meter=meter,
                    installed_on=first_day - datetime.timedelta(days=rng.randrange(5, 60)),
                    initial_index=initial,
                    rollover=rollover,
                )
            )
    return fitted, spares


def _install(operator: Any, fitted: list[Fitted], *, technician: Any) -> None:
    """meter_install for every pair at once: the installations, the meters' status, the register states, the
    movement documents (one per store and day) and the audit entries, each in one statement."""
    installations = Installation.objects.bulk_create(
        [
            Installation(
                operator=operator,
                meter=item.meter,
                connection=item.connection,
                installed_on=item.installed_on,
                initial_index=item.initial_index,
                installed_by=technician,
            )
            for item in fitted
        ],
        batch_size=1000,
    )
    stores = {item.meter.pk: item.meter.store for item in fitted}
    for item in fitted:
        item.meter.status, item.meter.store = Meter.Status.INSTALLED, None
    meter_ids = [item.meter.pk for item in fitted]
    for start in range(0, len(meter_ids), 1000):  # one UPDATE a thousand meters (bulk_update's CASE is slow)
        Meter.objects.filter(pk__in=meter_ids[start : start + 1000]).update(status=Meter.Status.INSTALLED, store=None)
    registers: dict[int, list[str]] = defaultdict(list)
    for model_id, code in Register.objects.filter(
        meter_model_id__in={item.meter.meter_model_id for item in fitted}
    ).values_list("meter_model_id", "code"):
        registers[model_id].append(code)
    MeterState.objects.bulk_create(
        [
            MeterState(
                operator=operator,
                connection=installation.connection,
                register=register,
                installation=installation,
                last_index=installation.initial_index,
                last_read_on=installation.installed_on,
                last_actual_index=installation.initial_index,
            )
            for installation in installations
            for register in registers.get(installation.meter.meter_model_id) or ["main"]
        ],
        batch_size=1000,
    )
    documents: dict[tuple[int | None, datetime.date], list[Meter]] = defaultdict(list)
    for item in fitted:
        store = stores[item.meter.pk]
        documents[(store.pk if store else None, item.installed_on)].append(item.meter)
    movements = Movement.objects.bulk_create(
        [
            Movement(
                operator=operator,
                kind=Movement.Kind.INSTALL,
                from_store_id=store_id,
                moved_on=day,
                created_by=technician,
                reference="installation round",
            )
            for store_id, day in documents
        ]
    )
    MovementLine.objects.bulk_create(
        [
            MovementLine(movement=movement, meter=meter)
            for movement, meters in zip(movements, documents.values(), strict=True)
            for meter in meters
        ],
        batch_size=1000,
    )
    audit_record_many(
        actor=technician,
        action="meter.installed",
        targets=list(installations),
        after=[
            {
                "meter": str(item.meter),
                "connection": item.connection.number,
                "initial_index": item.initial_index,
                "on": item.installed_on,
            }
            for item in fitted
        ],
    )


def _routes_for(operator: Any, connections: list[Connection], *, acting_user: Any) -> int:
    """Put the connections the customers demo left off a route on new routes of ROUTE_SIZE, by the customer's
    village, in reading order (gaps of ten). Returns the number of routes made."""
    loose = sorted(
        (connection for connection in connections if connection.route_id is None),
        key=lambda connection: (connection.customer.village, connection.number),
    )
    if not loose:
        return 0
    taken = {code.upper() for code in Route.objects.filter(operator=operator).values_list("code", flat=True)}
    by_village: dict[str, list[Connection]] = defaultdict(list)
    for connection in loose:
        by_village[connection.customer.village or "-"].append(connection)
    number, made, changed = len(taken), 0, []
    for village, members in by_village.items():
        for start in range(0, len(members), ROUTE_SIZE):
            number += 1
            while f"R-{number:02d}" in taken:
                number += 1
            route = route_create(
                operator=operator,
                code=f"R-{number:02d}",
                name=f"{village} {start // ROUTE_SIZE + 1}" if village != "-" else f"Reading route {number}",
                acting_user=acting_user,
            )
            made += 1
            for place, connection in enumerate(members[start : start + ROUTE_SIZE], start=1):
                connection.route, connection.reading_sequence = route, place * 10
                changed.append(connection)
    # The customers app's connection_update, for thousands of connections at once (its checks hold: new routes of
    # this operator, distinct places on each): one prepared UPDATE run for every connection.
    with db.cursor() as cursor:
        cursor.executemany(
            "UPDATE customers_connection SET route_id = %s, reading_sequence = %s WHERE id = %s",
            [(c.route_id, c.reading_sequence, c.pk) for c in changed],
        )
    audit_record_many(
        actor=acting_user,
        action="connection.updated",
        targets=list(changed),
        after=[{"route_id": c.route_id, "reading_sequence": c.reading_sequence} for c in changed],
    )
    return made
