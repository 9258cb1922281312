"""The small world the billing tests share: a licensed operator with October 2026's calendar, two tariffs, three
routes of metered connections with October readings, and the connections a run lists instead of billing."""

import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from mita.billing.cycles import cycles_generate
from mita.billing.models import BillingCycle
from mita.customers.models import Connection, Route
from mita.customers.services import connection_create, customer_create
from mita.metering.installations import meter_install
from mita.metering.models import Reading
from mita.metering.readings import ReadingInput, readings_record
from mita.metering.tests.world import meter_model_of, meter_of
from mita.registry.models import Cluster, ClusterAssignment, Licence
from mita.tariffs.services import tariff_create, version_create, version_publish

D = Decimal
OCTOBER = "2026-10"
INSTALLED_ON = datetime.date(2026, 9, 1)

# Rwanda's WASAC residential blocks, a monthly service charge, 18% VAT added on the water.
RESIDENTIAL = {
    "currency": "RWF",
    "utility": "water",
    "unit": "m3",
    "period": "month",
    "components": [
        {
            "type": "blocks",
            "id": "water",
            "label": "Water",
            "method": "incremental",
            "bands": [
                {"upto": 5, "rate": 340},
                {"upto": 20, "rate": 720},
                {"upto": 50, "rate": 845},
                {"upto": None, "rate": 877},
            ],
        },
        {"type": "fixed", "id": "service", "label": "Service charge", "amount": 500},
    ],
    "vat": {"rate": 18, "mode": "exclusive", "applies_to": ["water"]},
}
# Public taps are not metered: a flat fee per month.
PUBLIC_TAP = {
    "currency": "RWF",
    "utility": "water",
    "unit": "m3",
    "period": "month",
    "components": [{"type": "flat", "id": "tap", "label": "Public tap", "amount": 2000}],
}
# m3 consumed in October by the metered connections of each route, in the order they are made.
CONSUMPTION = {"R1": [D(3), D(12), D(37)], "R2": [D(80), D(5), D(0)], "R3": [D(21), D(50), D(7)]}


def licensed(operator: Any) -> Licence:
    return Licence.objects.create(
        number=f"L-{operator.prefix}",
        operator=operator,
        holder_name=operator.name,
        status="valid",
        issued_on=datetime.date(2020, 1, 1),
        expires_on=datetime.date(2099, 12, 31),
        fetched_at=timezone.now(),
    )


def tariff_with(operator: Any, code: str, definition: dict[str, Any], **fields: Any) -> Any:
    tariff = tariff_create(operator=operator, acting_user=None, code=code, name=code, utility="water", **fields)
    version = version_create(
        tariff=tariff, acting_user=None, effective_from=datetime.date(2026, 1, 1), definition=definition, note=""
    )
    version_publish(version=version, acting_user=None)
    return tariff


def connection_in(operator: Any, number: str, *, phone: str = "", **fields: Any) -> Connection:
    fields.setdefault("utility", "water")
    fields.setdefault("property_type", "residential")
    digits = "".join(char for char in number if char.isdigit())[-6:].rjust(6, "0")
    customer = customer_create(
        operator=operator,
        acting_user=None,
        name=f"Holder of {number}",
        phone=phone or f"+25078{operator.pk % 10}{digits}",
    )
    connection = connection_create(operator=operator, customer=customer, number=number, acting_user=None, **fields)
    Connection.objects.filter(pk=connection.pk).update(status=Connection.Status.ACTIVE)
    connection.status = Connection.Status.ACTIVE
    return connection


def meter_on(connection: Connection, serial: str) -> Any:
    operator = connection.operator
    model = meter_model_of(operator, code=f"M-{serial}")
    return meter_install(
        meter=meter_of(operator, model, serial),
        connection=connection,
        installed_on=INSTALLED_ON,
        initial_index=D(100),
        acting_user=None,
    )


def read(operator: Any, readings: list[tuple[Connection, Decimal]], *, on: datetime.date) -> None:
    """Record an accepted reading of each connection on that day (index = 100 + what it consumed since install)."""
    results = readings_record(
        operator=operator,
        rows=[ReadingInput(connection_id=c.pk, current_index=index, read_on=on) for c, index in readings],
        source=Reading.Source.MANUAL,
    )
    assert all(result.ok for result in results), [result.message for result in results]


def billing_world(operator: Any, *, with_exceptions: bool = True) -> dict[str, Any]:
    """Operator's October 2026: 9 metered connections on 3 routes read in October, a public tap (not metered) and,
    with_exceptions, a metered connection never read, one with no tariff (institutional) and one in an expired
    cluster."""
    licensed(operator)
    cycles_generate(operator=operator, year=2026, frequency=BillingCycle.Frequency.MONTHLY, due_days=15)
    cycle = BillingCycle.objects.get(operator=operator, code=OCTOBER)
    residential = tariff_with(operator, "RES", RESIDENTIAL, property_types=["residential"])
    tariff_with(operator, "TAP", PUBLIC_TAP, property_types=["public_tap"])
    p = operator.prefix
    routes = {code: Route.objects.create(operator=operator, code=code, name=f"Route {code}") for code in CONSUMPTION}
    metered: dict[str, tuple[Connection, Decimal]] = {}
    for code, quantities in CONSUMPTION.items():
        for position, quantity in enumerate(quantities, start=1):
            number = f"{p}-{code}-{position:02d}"
            connection = connection_in(operator, number, route=routes[code], reading_sequence=position)
            meter_on(connection, f"{p}{code}{position}")
            metered[number] = (connection, quantity)
    read(operator, [(c, D(100) + q) for c, q in metered.values()], on=datetime.date(2026, 10, 30))
    world: dict[str, Any] = {"cycle": cycle, "routes": routes, "metered": metered, "residential": residential}
    world["tap"] = connection_in(operator, f"{p}-TAP-01", property_type="public_tap", metered=False)
    if with_exceptions:
        unread = connection_in(operator, f"{p}-X-UNREAD")
        meter_on(unread, f"{p}X1")
        world["unread"] = unread
        world["no_tariff"] = connection_in(operator, f"{p}-X-SCHOOL", property_type="institutional", metered=False)
        cluster = Cluster.objects.create(code=f"OLD-{p}", name="Expired cluster")
        ClusterAssignment.objects.create(
            cluster=cluster, operator=operator, starts_on="2020-01-01", expires_on="2026-06-30"
        )
        world["expired"] = connection_in(
            operator, f"{p}-X-OLD", property_type="public_tap", metered=False, cluster=cluster
        )
    return world


def walk_bill(operator: Any, connection: Connection) -> Any:
    """An issued bill of the connection in October 2026 (with its cycle and run), made once: the tenancy walk's."""
    from mita.billing.models import Bill, BillRun, BillRunUnit

    if bill := Bill.objects.filter(operator=operator).select_related("cycle", "run").first():
        return bill
    cycles_generate(operator=operator, year=2026)
    cycle = BillingCycle.objects.get(operator=operator, code=OCTOBER)
    run = BillRun.objects.create(operator=operator, cycle=cycle, status=BillRun.Status.ISSUED)
    unit = BillRunUnit.objects.create(run=run, position=1, key="block:1", connection_ids=[connection.pk])
    return Bill.objects.create(
        operator=operator,
        connection=connection,
        account=connection.number,
        cycle=cycle,
        run=run,
        unit=unit,
        status=Bill.Status.ISSUED,
        number=f"{operator.prefix}-B-2026-000001",
        currency=operator.currency,
        net=D(1000),
        vat=D(0),
        total=D(1000),
        due_on=cycle.due_on,
    )
