"""The demo's installations step: a meter on every metered, live connection, routes for those without one, routes
given to the reader, and a year of monthly readings with swaps, rollovers and the planted anomalies (and no other)."""

import datetime
import io
import random
from collections import Counter

import pytest
from django.core.management import call_command
from django.utils import timezone

from mita.accounts.roles import Role
from mita.core import demo
from mita.core.demo import DemoContext, register_demo_step
from mita.customers.models import Connection
from mita.customers.services import connection_update
from mita.customers.services_places import route_create
from mita.customers.tests.world import connection_of, customer_of
from mita.ledger.selectors import ledger_verify
from mita.metering.demo_installations import build_installations, demo_months
from mita.metering.models import Installation, Meter, Reading, RouteAssignment
from mita.metering.readings import cycle_consumption
from mita.metering.tests.demo_meters_fallback import meters_for_demo
from mita.registry.models import Operator
from mita.testing.factories import member

pytestmark = pytest.mark.django_db
PLANTED = {"zero", "high", "backwards", "reversed", "reader_code"}


def test_the_demo_months_are_the_twelve_whole_months_before_today():
    months = demo_months(datetime.date(2026, 12, 1))
    assert (months[0], months[-1], len(months)) == (datetime.date(2025, 12, 1), datetime.date(2026, 11, 1), 12)


@pytest.fixture
def small_world(operator_a):
    """Operator A as a demo operator: 40 metered water connections (the first 20 on a route, one terminated, one
    unmetered), its technician, meter reader and admin, and meters in store."""
    users = {
        f"{role}@{operator_a}": member(role, operator_a, name=f"{role} of A")
        for role in (Role.TECHNICIAN, Role.BILLING_OFFICER, Role.OPERATOR_ADMIN)
    }
    route = route_create(operator=operator_a, code="R-01", name="Reading route 1", acting_user=None)
    for number in range(1, 43):
        customer = customer_of(operator_a, name=f"Customer {number}", village=["Nyamata", "Gashora"][number % 2])
        connection = connection_of(
            operator_a,
            customer,
            f"AAL-{number:04d}",
            metered=number != 41,
            property_type="commercial" if number % 7 == 0 else "residential",
        )
        if number <= 20:
            connection_update(connection=connection, acting_user=None, route=route, reading_sequence=number * 10)
    Connection.objects.filter(number="AAL-0042").update(status=Connection.Status.TERMINATED)
    meters_for_demo(operator_a)
    log: list[str] = []
    context = DemoContext(
        accounts=2,
        password="x",
        rng=random.Random(1),
        objects={"operator:amazi": operator_a, "users": users},
        log=log.append,
    )
    context.objects["test:log"] = log
    return context


def test_the_step_installs_meters_and_records_a_year_with_a_swap_and_a_rollover(operator_a, small_world):
    # when the demo step runs
    build_installations(small_world)
    assert not [line for line in small_world.objects["test:log"] if "NOT AS PLANNED" in line]
    # then every metered, live connection has a meter, and the others none
    live = Connection.objects.filter(operator=operator_a, metered=True).exclude(status="terminated")
    assert live.count() == 40
    open_installations = Installation.objects.filter(operator=operator_a, removed_on__isnull=True)
    assert set(open_installations.values_list("connection_id", flat=True)) == set(live.values_list("pk", flat=True))
    assert Meter.objects.filter(operator=operator_a, status=Meter.Status.INSTALLED).count() == 40
    # and every one of them is on a route, the new ones by village
    assert not live.filter(route__isnull=True).exists()
    assert live.values("route").distinct().count() >= 3
    # and every route is given to the reader for the twelve months and the current one
    reader = small_world.objects["users"][f"{Role.BILLING_OFFICER}@{operator_a}"]
    cycles = set(RouteAssignment.objects.filter(operator=operator_a, reader=reader).values_list("cycle", flat=True))
    assert len(cycles) == 13 and f"{timezone.localdate():%Y-%m}" in cycles
    readings = Reading.objects.filter(operator=operator_a)
    months = {f"{day:%Y-%m}" for day in demo_months(timezone.localdate())}
    # and each connection was read once a month by the reader, a meter was swapped and a dial rolled over
    manual = readings.filter(source=Reading.Source.MANUAL)
    assert set(manual.values_list("cycle", flat=True)) == months
    assert manual.count() == 40 * 12 and set(manual.values_list("reader", flat=True)) == {reader.pk}
    removal = readings.get(source=Reading.Source.REMOVAL)
    swapped = Installation.objects.filter(connection_id=removal.connection_id).order_by("installed_on")
    assert swapped.count() == 2 and swapped[0].removed_on == removal.read_on == swapped[1].installed_on
    swap_cycle = removal.cycle
    stretch = readings.filter(connection_id=removal.connection_id, cycle=swap_cycle, status="accepted")
    assert cycle_consumption(operator=operator_a, connection_ids=[removal.connection_id], cycle=swap_cycle) == {
        removal.connection_id: sum(reading.consumption for reading in stretch)
    }
    assert stretch.count() == 2
    assert readings.filter(rollover=True, status="accepted").exists()
    # and the last month left the planted problems for review, and no other
    review = Counter(readings.filter(status=Reading.Status.REVIEW).values_list("anomaly", flat=True))
    assert review == {"zero": 1, "high": 1, "backwards": 1, "reader_code": 2}
    assert set(readings.filter(status=Reading.Status.REVIEW).values_list("cycle", flat=True)) == {max(months)}
    assert not readings.exclude(status__in=["accepted", "review"]).exists()


def test_the_step_reads_every_register_of_electricity_meters(operator_a, small_world):
    Connection.objects.filter(operator=operator_a).update(utility="electricity")
    Meter.objects.filter(operator=operator_a).delete()
    from mita.metering.models import MeterModel, Store

    MeterModel.objects.filter(operator=operator_a).delete()
    Store.objects.filter(operator=operator_a).delete()
    meters_for_demo(operator_a)
    build_installations(small_world)
    readings = Reading.objects.filter(operator=operator_a, source=Reading.Source.MANUAL)
    assert {"active", "reactive"} <= set(readings.values_list("register", flat=True))
    assert "demand" not in set(readings.values_list("register", flat=True))
    # and nothing but the planted problems waits for review (a register of its own, never below the others' index)
    review = Counter(readings.filter(status=Reading.Status.REVIEW).values_list("anomaly", flat=True))
    assert (review["zero"], review["high"], review["backwards"]) == (1, 1, 1)
    assert review["reader_code"] >= 2 and set(review) == PLANTED - {"reversed"}
    assert Reading.objects.filter(operator=operator_a, rollover=True, status="accepted").exists()


@pytest.fixture
def meters_step():
    """The meters demo's step (58) for this test, unless the meters part has registered its own."""
    added = "metering.meters" not in demo._steps
    if added:
        register_demo_step(58, "metering.meters", lambda ctx: [meters_for_demo(o) for o in Operator.objects.all()])
    yield
    if added:
        demo._steps.pop("metering.meters")


def test_the_whole_demo_has_meters_and_readings_and_its_ledger_verifies(settings, tmp_path, meters_step):
    settings.VAR_DIR = tmp_path
    output = io.StringIO()
    call_command("demo", accounts=2, stdout=output)
    assert ledger_verify() == []
    assert "NOT AS PLANNED" not in output.getvalue()
    for name in ("Amazi Meza Ltd", "Kila Raipur Gram Panchayat Water Committee", "Izuba Mini-Grids"):
        operator = Operator.objects.get(name=name)
        readings = Reading.objects.filter(operator=operator)
        assert readings.filter(source="removal").exists() and readings.filter(rollover=True).exists(), name
        # the planted anomalies were found; the review step then estimated the "no access" rows and decided a few
        assert {"zero", "high", "backwards", "reader_code"} <= set(readings.values_list("anomaly", flat=True)), name
        assert readings.filter(status="review").exists() and readings.filter(source="estimated").exists(), name
        assert RouteAssignment.objects.filter(operator=operator).exists()
        # the billing step ran a November bill run for a route of each operator (with two accounts a run may hold
        # only exceptions; the full demo bills dozens of connections per route: see its log)
        from mita.billing.models import BillRun

        assert BillRun.objects.filter(operator=operator, cycle__code="2026-11").exists(), name
