"""Smart meters' readings pushed in batches: idempotent by meter, register and timestamp, one result per item."""

import datetime

import pytest
from django.test import Client

from mita.accounts.roles import Role
from mita.core.models import AuditEntry
from mita.metering.models import MeterModel, MeterState, Reading
from mita.metering.tests.readings_world import D, days_ago, metered, reader_of
from mita.testing.factories import DEFAULT_PASSWORD, member

pytestmark = pytest.mark.django_db

URL = "/api/v1/smart-meters/readings"
SMART = MeterModel.Kind.SMART


def _at(day: datetime.date, time: str = "10:00:00", offset: str = "+02:00") -> str:
    return f"{day.isoformat()}T{time}{offset}"


def _token_client(user) -> tuple[Client, dict[str, str]]:
    client = Client()
    token = client.post(
        "/api/v1/auth/token", {"phone": user.phone, "password": DEFAULT_PASSWORD}, content_type="application/json"
    ).json()["token"]
    return client, {"Authorization": f"Bearer {token}"}


def _push(client, headers, readings):
    return client.post(URL, {"readings": readings}, content_type="application/json", headers=headers)


def test_an_integration_user_pushes_a_batch_and_a_replay_changes_nothing(operator_a):
    # given two smart meters installed at index 100, and an integration user (billing officer) with a token
    first = metered(operator_a, number="AAL-0001", serial="SM-1", kind=SMART)
    metered(operator_a, number="AAL-0002", serial="SM-2", kind=SMART)
    client, headers = _token_client(member(Role.BILLING_OFFICER, operator_a, name="Head-end integration"))
    day = days_ago(1)
    batch = [
        {"meter_serial": "SM-1", "timestamp": _at(day), "index": "123.5"},
        {"meter_serial": "sm-2", "brand": "itron", "register": "main", "timestamp": _at(day), "index": "108"},
    ]
    # when the batch is pushed
    response = _push(client, headers, batch)
    # then both are created, read that day, as smart readings with their consumption
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["created"], body["replayed"], body["refused"]) == (2, 0, 0)
    assert [item["outcome"] for item in body["results"]] == ["created", "created"]
    assert [item["reading"]["consumption"] for item in body["results"]] == ["23.500", "8.000"]
    reading = Reading.objects.get(connection_id=first.connection_id, source="smart")
    assert (reading.read_on, reading.key) == (day, f"smart:{first.meter_id}:main:{day.isoformat()}T08:00:00Z")
    audits = AuditEntry.objects.filter(action="reading.recorded").count()
    state = MeterState.objects.get(connection_id=first.connection_id)
    # when the same batch comes again (the head-end retried)
    again = _push(client, headers, batch)
    # then every item is replayed with its first reading, and nothing changed
    assert (again.json()["created"], again.json()["replayed"]) == (0, 2)
    assert [item["reading"]["id"] for item in again.json()["results"]] == [
        item["reading"]["id"] for item in body["results"]
    ]
    assert Reading.objects.filter(source="smart").count() == 2
    assert AuditEntry.objects.filter(action="reading.recorded").count() == audits
    assert MeterState.objects.get(connection_id=first.connection_id).last_index == state.last_index == D("123.5")


def test_the_same_instant_in_another_offset_is_the_same_reading(operator_a, client_for):
    metered(operator_a, number="AAL-0001", serial="SM-1", kind=SMART)
    client = client_for(reader_of(operator_a))
    day = days_ago(1)
    _push(client, {}, [{"meter_serial": "SM-1", "timestamp": _at(day, "10:00:00", "+02:00"), "index": "110"}])
    utc = _push(client, {}, [{"meter_serial": "SM-1", "timestamp": _at(day, "08:00:00", "Z"), "index": "110"}])
    assert utc.json()["results"][0]["outcome"] == "replayed"
    other = _push(client, {}, [{"meter_serial": "SM-1", "timestamp": _at(day, "08:00:00", "Z"), "index": "111"}])
    item = other.json()["results"][0]
    assert (item["outcome"], item["status"], item["code"]) == ("refused", 409, "key_reused")


def test_the_reading_date_is_the_timestamps_date_where_the_operator_is(operator_a, client_for):
    installation = metered(operator_a, number="AAL-0001", serial="SM-1", kind=SMART)
    client = client_for(reader_of(operator_a))
    day = days_ago(2)
    # 23:30 UTC is already the next day in Kigali (UTC+2)
    _push(client, {}, [{"meter_serial": "SM-1", "timestamp": _at(day, "23:30:00", "Z"), "index": "110"}])
    reading = Reading.objects.get(connection_id=installation.connection_id, source="smart")
    assert reading.read_on == day + datetime.timedelta(days=1)


def test_items_that_cannot_be_recorded_are_refused_one_by_one_and_the_rest_recorded(operator_a, operator_b, client_for):
    metered(operator_a, number="AAL-0001", serial="SM-1", kind=SMART)
    metered(operator_a, number="AAL-0002", serial="MECH-1")  # a mechanical meter
    metered(operator_b, number="BWC-0001", serial="SM-B", kind=SMART)  # another operator's
    client = client_for(reader_of(operator_a))
    day = days_ago(1)
    batch = [
        {"meter_serial": "SM-1", "timestamp": _at(day), "index": "120"},
        {"meter_serial": "NOPE", "timestamp": _at(day), "index": "1"},
        {"meter_serial": "SM-B", "timestamp": _at(day), "index": "1"},
        {"meter_serial": "MECH-1", "timestamp": _at(day), "index": "130"},
        {"meter_serial": "SM-1", "timestamp": f"{day.isoformat()}T11:00:00", "index": "121"},
        {"meter_serial": "SM-1", "timestamp": _at(day, "12:00:00"), "index": "12,5"},
        {"meter_serial": "SM-1", "register": "reactive", "timestamp": _at(day), "index": "5"},
        {"meter_serial": "SM-1", "brand": "Kamstrup", "timestamp": _at(day), "index": "5"},
        {"meter_serial": "SM-1", "timestamp": _at(day + datetime.timedelta(days=4)), "index": "125"},
    ]
    body = _push(client, {}, batch).json()
    assert [(item["outcome"], item["status"], item["code"]) for item in body["results"]] == [
        ("created", 201, ""),
        ("refused", 404, "meter_unknown"),
        ("refused", 404, "meter_unknown"),
        ("refused", 400, "not_smart"),
        ("refused", 400, "timestamp_offset"),
        ("refused", 400, "index_invalid"),
        ("refused", 400, "no_meter"),
        ("refused", 404, "meter_unknown"),
        ("refused", 400, "read_on_future"),
    ]
    assert all(item["message"] for item in body["results"][1:])
    assert Reading.objects.filter(source="smart").count() == 1
    assert not Reading.objects.filter(operator=operator_b).exists()


def test_a_serial_of_two_brands_needs_its_brand(operator_a, client_for):
    from mita.metering.models import Meter

    installation = metered(operator_a, number="AAL-0001", serial="SM-1", kind=SMART)
    other = metered(operator_a, number="AAL-0002", serial="SM-9", kind=SMART)
    Meter.objects.filter(pk=other.meter_id).update(serial="SM-1", brand="Kamstrup")
    client = client_for(reader_of(operator_a))
    day = days_ago(1)
    ambiguous = _push(client, {}, [{"meter_serial": "SM-1", "timestamp": _at(day), "index": "110"}]).json()
    assert ambiguous["results"][0]["code"] == "meter_ambiguous"
    named = _push(client, {}, [{"meter_serial": "SM-1", "brand": "ITRON", "timestamp": _at(day), "index": "110"}])
    assert named.json()["results"][0]["reading"]["connection_id"] == installation.connection_id


def test_a_batch_is_at_most_5000_and_not_empty(operator_a, client_for):
    client = client_for(reader_of(operator_a))
    item = {"meter_serial": "SM-1", "timestamp": _at(days_ago(1)), "index": "1"}
    too_many = _push(client, {}, [item] * 5001)
    assert (too_many.status_code, too_many.json()["error"]["code"]) == (422, "invalid")
    empty = _push(client, {}, [])
    assert (empty.status_code, empty.json()["error"]["code"]) == (400, "batch_empty")


def test_only_admins_and_billing_officers_push_and_outsiders_reach_nothing(operator_a, admin_b, client_for):
    installation = metered(operator_a, number="AAL-0001", serial="SM-1", kind=SMART)
    item = {"meter_serial": "SM-1", "timestamp": _at(days_ago(1)), "index": "110"}
    assert _push(client_for(member(Role.CUSTOMER_CARE, operator_a)), {}, [item]).status_code == 403
    assert _push(Client(), {}, [item]).status_code == 401
    outsider = _push(client_for(admin_b), {}, [item]).json()
    assert outsider["results"][0]["code"] == "meter_unknown"
    assert not Reading.objects.filter(connection_id=installation.connection_id, source="smart").exists()
