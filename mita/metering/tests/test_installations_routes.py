"""Routes and reading books: giving a route to a meter reader per cycle (again replaces, audited), routes x cycle with
readers and progress, the reader's own routes, the route book (page and API) in reading sequence with the previous
index; roles and another operator's 404."""

import datetime
from decimal import Decimal

import pytest

from mita.accounts.roles import Role
from mita.core.models import AuditEntry
from mita.customers.services import connection_update
from mita.customers.services_places import chamber_create, route_create
from mita.metering.errors import MeteringError
from mita.metering.models import Reading, RouteAssignment
from mita.metering.readings import ReadingInput, readings_record
from mita.metering.route_assignments import route_assign, routes_assign_many
from mita.metering.selectors_installations_routes import route_book, routes_progress
from mita.metering.tests.world import metered_connection
from mita.testing.factories import member

pytestmark = pytest.mark.django_db
D = Decimal
CYCLE = "2026-02"


@pytest.fixture
def route_world(operator_a):
    """Route R-1 with three metered connections in reading sequence 30, 10, 20, and a second route R-2."""
    route = route_create(operator=operator_a, code="R-1", name="Market", acting_user=None)
    other = route_create(operator=operator_a, code="R-2", name="Hill", acting_user=None)
    chamber = chamber_create(operator=operator_a, code="CH-1", acting_user=None)
    installations = []
    for number, sequence in (("AAL-0001", 30), ("AAL-0002", 10), ("AAL-0003", 20)):
        installation = metered_connection(operator_a, number=number, serial=f"S-{number[-1]}", initial_index=D(100))
        connection_update(
            connection=installation.connection,
            acting_user=None,
            route=route,
            reading_sequence=sequence,
            chamber=chamber if number == "AAL-0002" else None,
        )
        installations.append(installation)
    return {"route": route, "other": other, "installations": installations}


def _read(operator, installation, index, day):
    return readings_record(
        operator=operator,
        rows=[ReadingInput(connection_id=installation.connection_id, current_index=D(index), read_on=day)],
        source=Reading.Source.MANUAL,
    )[0]


def test_assigning_again_replaces_the_reader_and_is_audited_and_the_same_reader_changes_nothing(
    operator_a, admin_a, route_world
):
    eric = member(Role.BILLING_OFFICER, operator_a, name="Eric Reader")
    aline = member(Role.BILLING_OFFICER, operator_a, name="Aline Reader")
    route = route_world["route"]
    first = route_assign(operator=operator_a, route=route, cycle=CYCLE, reader=eric, acting_user=admin_a)
    same = route_assign(operator=operator_a, route=route, cycle=CYCLE, reader=eric, acting_user=admin_a)
    replaced = route_assign(operator=operator_a, route=route, cycle=CYCLE, reader=aline, acting_user=admin_a)
    assert (first.outcome, same.outcome, replaced.outcome) == ("created", "unchanged", "replaced")
    assert RouteAssignment.objects.get(route=route, cycle=CYCLE).reader == aline
    entry = AuditEntry.objects.get(action="route.reassigned")
    assert (entry.before["reader"], entry.after["reader"]) == (eric.pk, aline.pk)
    assert AuditEntry.objects.filter(action="route.assigned").count() == 1


def test_only_a_meter_reader_of_the_operator_and_a_real_cycle_are_accepted(
    operator_a, operator_b, admin_a, route_world
):
    route = route_world["route"]
    cashier = member(Role.CASHIER, operator_a)
    outsider = member(Role.BILLING_OFFICER, operator_b)
    reader = member(Role.BILLING_OFFICER, operator_a)
    for who in (cashier, outsider):
        with pytest.raises(MeteringError) as refused:
            route_assign(operator=operator_a, route=route, cycle=CYCLE, reader=who, acting_user=admin_a)
        assert refused.value.code == "reader_invalid"
    with pytest.raises(MeteringError) as refused:
        route_assign(operator=operator_a, route=route, cycle="2026-13", reader=reader, acting_user=admin_a)
    assert refused.value.code == "cycle_invalid"
    assert not RouteAssignment.objects.exists()


def test_progress_counts_the_connections_read_in_the_cycle(operator_a, admin_a, route_world):
    # given route R-1 given to Eric for February, two of its three connections read (one with a reader's code only)
    eric = member(Role.BILLING_OFFICER, operator_a, name="Eric Reader")
    first, second, third = route_world["installations"]
    route_assign(operator=operator_a, route=route_world["route"], cycle=CYCLE, reader=eric, acting_user=admin_a)
    _read(operator_a, first, 112, datetime.date(2026, 2, 20))
    _read(operator_a, second, 109, datetime.date(2026, 2, 21))
    readings_record(
        operator=operator_a,
        rows=[ReadingInput(third.connection_id, None, datetime.date(2026, 2, 21), reader_code="dog")],
        source=Reading.Source.MANUAL,
    )
    # then the progress says 2 of 3 for R-1 and nothing for R-2, which nobody reads
    rows = {row.route.code: row for row in routes_progress(operator=operator_a, cycle=CYCLE)}
    assert (rows["R-1"].read, rows["R-1"].total, rows["R-1"].reader, rows["R-1"].percent) == (2, 3, eric, 67)
    assert (rows["R-2"].read, rows["R-2"].total, rows["R-2"].assignment) == (0, 0, None)
    assert routes_progress(operator=operator_a, cycle="2026-03")[0].read == 0


def test_the_book_lists_the_connections_in_sequence_with_the_previous_index(operator_a, route_world):
    _first, second, _third = route_world["installations"]
    _read(operator_a, second, 109, datetime.date(2026, 1, 20))
    book = route_book(operator=operator_a, route=route_world["route"], cycle=CYCLE)
    assert [line.connection_number for line in book.lines] == ["AAL-0002", "AAL-0003", "AAL-0001"]
    line = book.lines[0]
    assert (line.sequence, line.customer_name, line.meter_serial, line.chamber) == (
        10,
        "Customer AAL-0002",
        "S-2",
        "CH-1",
    )
    assert [(r.code, r.previous_index, r.previous_read_on) for r in line.registers] == [
        ("main", D(109), datetime.date(2026, 1, 20))
    ]
    assert not line.read_this_cycle and book.read == 0


def test_the_admin_gives_routes_on_the_page_and_sees_the_progress(operator_a, admin_a, client_for, route_world):
    eric = member(Role.BILLING_OFFICER, operator_a, name="Eric Reader")
    client = client_for(admin_a)
    page = client.get("/metering/routes/", {"cycle": CYCLE}).content.decode()
    assert 'data-testid="route-R-1"' in page and 'data-testid="progress-unassigned">2<' in page
    # when the admin gives R-1 to Eric
    response = client.post(
        "/metering/routes/assign/", {"route": route_world["route"].pk, "cycle": CYCLE, "reader": eric.pk}
    )
    assert response.status_code == 302 and response.url == f"/metering/routes/?cycle={CYCLE}"
    # and every other route without a reader too
    response = client.post("/metering/routes/assign/", {"cycle": CYCLE, "reader": eric.pk, "all_unassigned": "1"})
    assert response.status_code == 302
    assert set(RouteAssignment.objects.filter(cycle=CYCLE).values_list("route__code", "reader")) == {
        ("R-1", eric.pk),
        ("R-2", eric.pk),
    }
    page = client.get("/metering/routes/", {"cycle": CYCLE}).content.decode()
    assert 'data-testid="progress-unassigned">0<' in page and "Eric Reader" in page
    # a bad cycle is refused on its field
    refused = client.post(
        "/metering/routes/assign/", {"route": route_world["route"].pk, "cycle": "Feb", "reader": eric.pk}
    )
    assert refused.status_code == 400 and refused.context["form"].errors["cycle"]


def test_a_reader_sees_their_own_routes_and_prints_the_book(operator_a, admin_a, client_for, route_world):
    eric = member(Role.BILLING_OFFICER, operator_a, name="Eric Reader")
    aline = member(Role.BILLING_OFFICER, operator_a, name="Aline Reader")
    routes_assign_many(
        operator=operator_a, routes=[route_world["route"]], cycles=[CYCLE], reader=eric, acting_user=admin_a
    )
    routes_assign_many(
        operator=operator_a, routes=[route_world["other"]], cycles=[CYCLE], reader=aline, acting_user=admin_a
    )
    client = client_for(eric)
    mine = client.get("/metering/routes/mine/", {"cycle": CYCLE}).content.decode()
    assert 'data-testid="my-route-R-1"' in mine and "R-2" not in mine
    assert 'data-testid="no-routes"' in client.get("/metering/routes/mine/", {"cycle": "2026-03"}).content.decode()
    book = client.get(f"/metering/routes/{route_world['route'].pk}/book/", {"cycle": CYCLE}).content.decode()
    assert book.index("AAL-0002") < book.index("AAL-0003") < book.index("AAL-0001")
    assert 'data-testid="book-reader">Eric Reader<' in book and "window.print()" in book and "@media print" in book
    # giving routes is the admin's
    assert client.post("/metering/routes/assign/", {"cycle": CYCLE, "reader": eric.pk}).status_code == 403


def test_the_route_api_assigns_lists_and_gives_the_book(operator_a, admin_a, client_for, route_world):
    eric = member(Role.BILLING_OFFICER, operator_a, name="Eric Reader")
    route = route_world["route"]
    client = client_for(admin_a)
    body = {"route_id": route.pk, "cycle": CYCLE, "reader_id": eric.pk}
    created = client.post("/api/v1/route-assignments", body, content_type="application/json")
    again = client.post("/api/v1/route-assignments", body, content_type="application/json")
    assert created.status_code == 201 and again.status_code == 200 and again.json()["id"] == created.json()["id"]
    assert created.json()["reader_name"] == "Eric Reader"
    bad = client.post("/api/v1/route-assignments", body | {"reader_id": admin_a.pk}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "reader_invalid"
    listed = client.get("/api/v1/route-assignments", {"cycle": CYCLE}).json()
    assert [(item["route_code"], item["reader_id"]) for item in listed["items"]] == [("R-1", eric.pk)]
    assert client.get("/api/v1/route-assignments", {"cycle": "soon"}).status_code == 400
    book = client.get(f"/api/v1/routes/{route.pk}/book", {"cycle": CYCLE}).json()
    assert (book["route_code"], book["reader_name"], book["read"]) == ("R-1", "Eric Reader", 0)
    assert [line["connection_number"] for line in book["lines"]] == ["AAL-0002", "AAL-0003", "AAL-0001"]
    assert book["lines"][0]["registers"] == [
        {"code": "main", "previous_index": "100.000", "previous_read_on": "2026-01-01", "previous_estimated": False}
    ]


def test_another_operator_gets_404_on_route_pages_and_endpoints(operator_a, admin_a, admin_b, client_for, route_world):
    eric = member(Role.BILLING_OFFICER, operator_a, name="Eric Reader")
    route = route_world["route"]
    route_assign(operator=operator_a, route=route, cycle=CYCLE, reader=eric, acting_user=admin_a)
    client = client_for(admin_b)
    assert client.get(f"/metering/routes/{route.pk}/book/").status_code == 404
    assert client.get(f"/api/v1/routes/{route.pk}/book").status_code == 404
    assert "R-1" not in client.get("/metering/routes/", {"cycle": CYCLE}).content.decode()
    assert client.get("/api/v1/route-assignments", {"cycle": CYCLE}).json()["items"] == []
    # B's admin cannot give A's route to anybody, not even to A's reader
    body = {"route_id": route.pk, "cycle": CYCLE, "reader_id": eric.pk}
    refused = client.post("/api/v1/route-assignments", body, content_type="application/json")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "route_invalid"
    page = client.post("/metering/routes/assign/", {"route": route.pk, "cycle": CYCLE, "reader": eric.pk})
    assert page.status_code == 400
    assert RouteAssignment.objects.get(route=route).reader == eric


def test_the_progress_and_the_book_read_the_same_number_of_queries_for_more_connections(
    operator_a, admin_a, client_for, route_world
):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    client = client_for(admin_a)
    route = route_world["route"]

    def queries(url):
        with CaptureQueriesContext(db) as captured:
            assert client.get(url, {"cycle": CYCLE}).status_code == 200
        return len(captured)

    before = (queries("/metering/routes/"), queries(f"/metering/routes/{route.pk}/book/"))
    # given three more connections on the route, read in the cycle, and another route
    for number in ("AAL-0004", "AAL-0005", "AAL-0006"):
        installation = metered_connection(operator_a, number=number, serial=f"S-{number[-1]}")
        connection_update(connection=installation.connection, acting_user=None, route=route, reading_sequence=None)
        _read(operator_a, installation, 7, datetime.date(2026, 2, 20))
    route_create(operator=operator_a, code="R-3", name="River", acting_user=None)
    # then neither page reads more
    assert (queries("/metering/routes/"), queries(f"/metering/routes/{route.pk}/book/")) == before
