"""The readings API: listing and reading the operator's readings, recording one with an idempotency key."""

import datetime

import pytest

from mita.accounts.roles import Role
from mita.metering.models import Reading
from mita.metering.tests.readings_world import D, cycle_now, metered, reader_of, today
from mita.testing.factories import member

pytestmark = pytest.mark.django_db


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def _body(connection_id, index="112", key="key-1", **fields):
    return {
        "connection_id": connection_id,
        "current_index": index,
        "read_on": today().isoformat(),
        "idempotency_key": key,
        **fields,
    }


def test_a_reading_is_recorded_once_and_its_replay_returns_the_first(operator_a, client_for):
    installation = metered(operator_a, number="AAL-0001", serial="SN-1")
    client = client_for(reader_of(operator_a))
    # when a reading is posted
    first = post(client, "/api/v1/readings", _body(installation.connection_id, index="112.250"))
    # then it is created, accepted, with its consumption as a decimal string
    assert first.status_code == 201, first.json()
    body = first.json()
    assert (body["status"], body["consumption"], body["previous_index"]) == ("accepted", "12.250", "100.000")
    assert (body["register"], body["connection_number"], body["meter_serial"]) == ("main", "AAL-0001", "SN-1")
    assert body["cycle"] == cycle_now()
    # when the same call is replayed
    again = post(client, "/api/v1/readings", _body(installation.connection_id, index="112.250"))
    # then it answers 200 with the same body and records nothing more
    assert again.status_code == 200
    assert again.json() == body
    assert Reading.objects.filter(connection_id=installation.connection_id, source="manual").count() == 1
    # the same key with another index is a 409
    reused = post(client, "/api/v1/readings", _body(installation.connection_id, index="113"))
    assert reused.status_code == 409
    assert reused.json()["error"]["code"] == "key_reused"
    assert Reading.objects.filter(connection_id=installation.connection_id, source="manual").count() == 1


def test_an_implausible_reading_is_recorded_for_review_with_its_anomaly_in_words(operator_a, client_for):
    installation = metered(operator_a, number="AAL-0001", serial="SN-1")
    client = client_for(reader_of(operator_a))
    response = post(client, "/api/v1/readings", _body(installation.connection_id, index="90"))
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["anomaly"], body["anomaly_text"], body["consumption"]) == (
        "review",
        "backwards",
        "Index below the previous one",
        "0.000",
    )


def test_bad_input_is_a_clear_4xx_and_records_nothing(operator_a, client_for):
    installation = metered(operator_a, number="AAL-0001", serial="SN-1")
    client = client_for(reader_of(operator_a))
    cases = [
        (_body(installation.connection_id, index="12,5"), 400, "index_invalid"),
        (_body(installation.connection_id, index="-3"), 400, "index_invalid"),
        (_body(installation.connection_id, index=None), 400, "index_required"),
        (_body(installation.connection_id, index=None, reader_code="cat"), 400, "reader_code_invalid"),
        (_body(installation.connection_id, source="estimated"), 400, "source_invalid"),
        (_body(installation.connection_id, register="reactive"), 400, "no_meter"),
        (
            _body(installation.connection_id, read_on=(today() + datetime.timedelta(days=1)).isoformat()),
            400,
            "read_on_future",
        ),
        (_body(installation.connection_id, key=""), 422, "invalid"),
        ({"connection_id": installation.connection_id}, 422, "invalid"),
    ]
    for body, status, code in cases:
        response = post(client, "/api/v1/readings", body)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), body
    assert not Reading.objects.filter(source="manual").exists()
    # a reading before the meter was installed
    early = post(client, "/api/v1/readings", _body(installation.connection_id, read_on="2020-01-01"))
    assert (early.status_code, early.json()["error"]["code"]) == (400, "before_installation")


def test_a_not_read_meter_is_posted_with_a_readers_code(operator_a, client_for):
    installation = metered(operator_a, number="AAL-0001", serial="SN-1")
    client = client_for(reader_of(operator_a))
    response = post(client, "/api/v1/readings", _body(installation.connection_id, index=None, reader_code="no_access"))
    assert response.status_code == 201
    assert (response.json()["status"], response.json()["anomaly"]) == ("review", "reader_code")


def test_customer_care_posts_only_what_the_customer_told_and_a_technician_nothing(operator_a, client_for):
    installation = metered(operator_a, number="AAL-0001", serial="SN-1")
    clerk = client_for(member(Role.CUSTOMER_CARE, operator_a))
    refused = post(clerk, "/api/v1/readings", _body(installation.connection_id, source="manual"))
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "source_invalid")
    told = post(clerk, "/api/v1/readings", _body(installation.connection_id, source="customer"))
    assert (told.status_code, told.json()["source"]) == (201, "customer")
    technician = client_for(member(Role.TECHNICIAN, operator_a))
    assert post(technician, "/api/v1/readings", _body(installation.connection_id, key="k2")).status_code == 403
    # a technician may read them, though
    assert technician.get("/api/v1/readings").json()["count"] == 1


def test_the_list_filters_by_connection_cycle_and_status(operator_a, client_for):
    first = metered(operator_a, number="AAL-0001", serial="SN-1")
    second = metered(operator_a, number="AAL-0002", serial="SN-2")
    client = client_for(reader_of(operator_a))
    post(client, "/api/v1/readings", _body(first.connection_id, index="110", key="a"))
    post(client, "/api/v1/readings", _body(second.connection_id, index="100", key="b"))  # zero: review
    everything = client.get("/api/v1/readings").json()
    # the two readings above, and nothing else (installing a meter records no reading)
    assert everything["count"] == 2
    by_connection = client.get("/api/v1/readings", {"connection": first.connection_id}).json()
    assert [item["connection_number"] for item in by_connection["items"]] == ["AAL-0001"]
    in_review = client.get("/api/v1/readings", {"status": "review"}).json()
    assert [item["connection_number"] for item in in_review["items"]] == ["AAL-0002"]
    assert client.get("/api/v1/readings", {"cycle": "2020-01"}).json()["count"] == 0
    assert client.get("/api/v1/readings", {"cycle": cycle_now()}).json()["count"] == 2
    assert client.get("/api/v1/readings", {"cycle": "2026-13"}).json()["error"]["code"] == "cycle_invalid"
    assert client.get("/api/v1/readings", {"status": "lost"}).json()["error"]["code"] == "status_invalid"
    one = by_connection["items"][0]
    assert client.get(f"/api/v1/readings/{one['id']}").json() == one


def test_another_operator_sees_none_of_the_readings_and_cannot_post_to_its_connections(operator_a, admin_b, client_for):
    installation = metered(operator_a, number="AAL-0001", serial="SN-1")
    response = post(client_for(reader_of(operator_a)), "/api/v1/readings", _body(installation.connection_id))
    reading_id = response.json()["id"]
    outsider = client_for(admin_b)
    assert outsider.get(f"/api/v1/readings/{reading_id}").status_code == 404
    assert outsider.get("/api/v1/readings").json()["count"] == 0
    assert outsider.get("/api/v1/readings", {"connection": installation.connection_id}).json()["count"] == 0
    stolen = post(outsider, "/api/v1/readings", _body(installation.connection_id, index="200", key="b-1"))
    assert stolen.status_code == 404
    # the same key at another operator is theirs alone: operator A's reading is untouched
    assert Reading.objects.get(pk=reading_id).current_index == D(112)
    assert not Reading.objects.exclude(operator=operator_a).exists()
