"""The field app's API: a reader downloads their routes of a cycle and uploads the readings made offline, each with
a UUID the app made; a replayed upload changes nothing."""

import datetime
import uuid

import pytest

from mita.accounts.roles import Role
from mita.core.models import AuditEntry
from mita.metering.models import MeterState, Reading
from mita.metering.readings import ReadingInput, readings_record
from mita.metering.tests.readings_world import D, assign, cycle_now, days_ago, metered, reader_of, route_of, today
from mita.testing.factories import member

pytestmark = pytest.mark.django_db

ROUTE_URL = "/api/v1/field/route"
UPLOAD_URL = "/api/v1/field/readings"


def _upload(client, readings):
    return client.post(UPLOAD_URL, {"readings": readings}, content_type="application/json")


def _item(installation, index, **fields):
    return {
        "key": str(uuid.uuid4()),
        "connection_id": installation.connection_id,
        "current_index": index,
        "read_on": today().isoformat(),
        **fields,
    }


@pytest.fixture
def two_routes(operator_a):
    """Route R1 (three connections, read in the order 1, 2, 3) for Rita, route R2 for Colin, this cycle."""
    r1, r2 = route_of(operator_a, "R1"), route_of(operator_a, "R2")
    third = metered(operator_a, number="AAL-0003", serial="SN-3", route=r1, sequence=3, customer_name="Third")
    first = metered(operator_a, number="AAL-0001", serial="SN-1", route=r1, sequence=1, customer_name="First")
    second = metered(
        operator_a, number="AAL-0002", serial="E-2", route=r1, sequence=2, utility="electricity",
        registers=("active", "reactive"), multiplier=D(40),
    )  # fmt: skip
    elsewhere = metered(operator_a, number="AAL-0010", serial="SN-10", route=r2, sequence=1)
    rita, colin = reader_of(operator_a), reader_of(operator_a, name="Colin Colleague")
    assign(operator_a, r1, rita, cycle_now())
    assign(operator_a, r2, colin, cycle_now())
    return {"rita": rita, "colin": colin, "first": first, "second": second, "third": third, "elsewhere": elsewhere}


def test_a_reader_downloads_only_their_routes_in_reading_order_with_previous_indexes(two_routes, client_for):
    rita = two_routes["rita"]
    # given a reading Rita took three days ago on her first connection
    readings_record(
        operator=rita.memberships.get().operator,
        rows=[
            ReadingInput(
                connection_id=two_routes["first"].connection_id,
                current_index=D(111),
                read_on=days_ago(3),
                reader_id=rita.pk,
            )
        ],
        source="field",
    )
    # when she downloads her route for the cycle
    response = client_for(rita).get(ROUTE_URL, {"cycle": cycle_now()})
    assert response.status_code == 200, response.content
    body = response.json()
    # then she gets route R1 only, its connections in their reading sequence
    assert [route["route_code"] for route in body["routes"]] == ["R1"]
    stops = body["routes"][0]["connections"]
    assert [(stop["sequence"], stop["connection_number"], stop["customer_name"]) for stop in stops] == [
        (1, "AAL-0001", "First"),
        (2, "AAL-0002", "Customer AAL-0002"),
        (3, "AAL-0003", "Third"),
    ]
    # each with its meter, registers and previous index and date
    first, second = stops[0], stops[1]
    assert first["meter"]["serial"] == "SN-1"
    assert [
        (r["code"], r["previous_index"], r["previous_read_on"], r["read_this_cycle"]) for r in first["registers"]
    ] == [("main", "111.000", days_ago(3).isoformat(), days_ago(3).strftime("%Y-%m") == cycle_now())]
    assert [(r["code"], r["multiplier"], r["previous_index"]) for r in second["registers"]] == [
        ("active", "40.0000", "100.000"),
        ("reactive", "40.0000", "100.000"),
    ]
    # and her own records of the last five days
    assert [(item["connection_number"], item["current_index"]) for item in body["recent"]] == [("AAL-0001", "111.000")]
    assert body["etag"] and response["ETag"] == body["etag"]


def test_the_route_answers_304_while_nothing_changed(two_routes, client_for):
    client = client_for(two_routes["rita"])
    first = client.get(ROUTE_URL, {"cycle": cycle_now()})
    etag = first["ETag"]
    unchanged = client.get(ROUTE_URL, {"cycle": cycle_now()}, headers={"If-None-Match": etag})
    assert (unchanged.status_code, unchanged.content) == (304, b"")
    _upload(client, [_item(two_routes["first"], "120")])
    changed = client.get(ROUTE_URL, {"cycle": cycle_now()}, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_another_readers_and_another_cycles_routes_are_not_downloaded(two_routes, admin_b, client_for):
    colin = client_for(two_routes["colin"]).get(ROUTE_URL, {"cycle": cycle_now()}).json()
    assert [route["route_code"] for route in colin["routes"]] == ["R2"]
    assert client_for(two_routes["rita"]).get(ROUTE_URL, {"cycle": "2020-01"}).json()["routes"] == []
    outsider = client_for(admin_b).get(ROUTE_URL, {"cycle": cycle_now()})
    assert (outsider.status_code, outsider.json()["routes"], outsider.json()["recent"]) == (200, [], [])
    bad = client_for(two_routes["rita"]).get(ROUTE_URL, {"cycle": "2026-1"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "cycle_invalid")
    technician = client_for(member(Role.TECHNICIAN, two_routes["rita"].memberships.get().operator))
    assert technician.get(ROUTE_URL, {"cycle": cycle_now()}).status_code == 403


def test_a_replayed_upload_batch_changes_nothing(two_routes, client_for):
    client = client_for(two_routes["rita"])
    batch = [
        _item(two_routes["first"], "112"),
        _item(two_routes["second"], "103", register="active", meter_serial="e-2"),
        _item(two_routes["second"], "101", register="reactive"),
        _item(two_routes["third"], None, reader_code="dog", note="Big dog at the gate"),
    ]
    # when the batch is uploaded
    first = _upload(client, batch)
    assert first.status_code == 200, first.content
    body = first.json()
    assert (body["created"], body["replayed"], body["refused"]) == (4, 0, 0)
    assert [item["reading"]["consumption"] for item in body["results"]] == ["12.000", "120.000", "40.000", None]
    assert body["results"][3]["reading"]["status"] == "review"
    readings = list(Reading.objects.order_by("pk").values_list("pk", "status", "current_index"))
    states = list(MeterState.objects.order_by("pk").values_list("last_index", "last_read_on", "history"))
    audits = AuditEntry.objects.count()
    # when the app sends the same batch again (it never heard the answer)
    again = _upload(client, batch)
    # then every item is a replay of its first result, and nothing in the database changed
    assert (again.json()["created"], again.json()["replayed"], again.json()["refused"]) == (0, 4, 0)
    assert [item["reading"] for item in again.json()["results"]] == [item["reading"] for item in body["results"]]
    assert list(Reading.objects.order_by("pk").values_list("pk", "status", "current_index")) == readings
    assert list(MeterState.objects.order_by("pk").values_list("last_index", "last_read_on", "history")) == states
    assert AuditEntry.objects.count() == audits
    assert Reading.objects.get(key=batch[0]["key"]).source == "field"
    assert Reading.objects.get(key=batch[0]["key"]).reader_id == two_routes["rita"].pk


def test_a_conflicting_reading_lands_in_review(two_routes, client_for):
    client = client_for(two_routes["rita"])
    _upload(client, [_item(two_routes["first"], "112")])
    # a second actual reading of the same cycle, from another device
    body = _upload(client, [_item(two_routes["first"], "115")]).json()
    reading = body["results"][0]["reading"]
    assert (body["results"][0]["outcome"], reading["status"], reading["anomaly"]) == ("created", "review", "conflict")
    # the index counted is still the first one
    assert MeterState.objects.get(connection_id=two_routes["first"].connection_id).last_index == D(112)


def test_bad_items_are_refused_one_by_one_and_the_rest_recorded(two_routes, operator_b, client_for):
    outsider_connection = metered(operator_b, number="BWC-0001", serial="SN-B")
    client = client_for(two_routes["rita"])
    reused = _item(two_routes["third"], "130")
    _upload(client, [reused])
    batch = [
        _item(outsider_connection, "150"),  # another operator's connection
        _item(two_routes["first"], "112"),
        {**reused, "current_index": "131"},  # the key of a reading already made, for another reading
        _item(two_routes["second"], "103", register="active", meter_serial="SN-WRONG"),
        _item(two_routes["elsewhere"], None),  # neither index nor code
        _item(two_routes["elsewhere"], "12,5"),
        _item(two_routes["elsewhere"], None, reader_code="cat"),
        _item(two_routes["elsewhere"], "120", read_on=(today() + datetime.timedelta(days=3)).isoformat()),
    ]
    body = _upload(client, batch).json()
    assert [(item["outcome"], item["status"], item["code"]) for item in body["results"]] == [
        ("refused", 404, "not_found"),
        ("created", 201, ""),
        ("refused", 409, "key_reused"),
        ("refused", 400, "meter_mismatch"),
        ("refused", 400, "index_required"),
        ("refused", 400, "index_invalid"),
        ("refused", 400, "reader_code_invalid"),
        ("refused", 400, "read_on_future"),
    ]
    assert body["results"][0]["reading"] is None
    assert not Reading.objects.filter(connection_id=outsider_connection.connection_id).exists()
    assert Reading.objects.get(key=reused["key"]).current_index == D(130)


def test_an_outsider_uploading_operator_a_connections_records_nothing(two_routes, admin_b, client_for):
    body = _upload(client_for(admin_b), [_item(two_routes["first"], "112")]).json()
    assert (body["results"][0]["status"], body["results"][0]["code"]) == (404, "not_found")
    assert not Reading.objects.filter(source="field").exists()


def test_a_batch_over_5000_is_refused_whole(two_routes, client_for):
    item = _item(two_routes["first"], "112")
    response = _upload(client_for(two_routes["rita"]), [item] * 5001)
    assert response.status_code == 422
    assert not Reading.objects.exists()


def test_the_route_download_takes_the_same_queries_for_three_connections_or_six(two_routes, client_for):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    client = client_for(two_routes["rita"])
    with CaptureQueriesContext(db) as three:
        assert len(client.get(ROUTE_URL, {"cycle": cycle_now()}).json()["routes"][0]["connections"]) == 3
    operator = two_routes["rita"].memberships.get().operator
    route = two_routes["first"].connection.route
    for number in range(4, 7):
        metered(operator, number=f"AAL-000{number}", serial=f"SN-{number}", route=route, sequence=number)
    with CaptureQueriesContext(db) as six:
        assert len(client.get(ROUTE_URL, {"cycle": cycle_now()}).json()["routes"][0]["connections"]) == 6
    assert len(six) == len(three)
