"""The meters and stores API: models with registers, stores, receiving a batch (201, a replay 200, clashes 409 naming
the serials), movements, calibrations and the meters due, and another operator's admin getting 404."""

import pytest

from mita.accounts.roles import Role
from mita.metering.models import Meter, Movement
from mita.metering.tests.world import meter_model_of
from mita.testing.factories import member

pytestmark = pytest.mark.django_db
JSON = "application/json"


def post(client, url, body):  # type: ignore[no-untyped-def]
    return client.post(url, body, content_type=JSON)


@pytest.fixture
def api_a(client_for, admin_a):  # type: ignore[no-untyped-def]
    return client_for(admin_a)


def _world(client):  # type: ignore[no-untyped-def]
    model = post(
        client,
        "/api/v1/meter-models",
        {
            "code": "WM15",
            "brand": "Itron",
            "name": "Aquadis+",
            "utility": "water",
            "dial_digits": 5,
            "calibration_interval_months": 60,
        },
    )
    assert model.status_code == 201, model.content
    central = post(client, "/api/v1/stores", {"code": "CEN", "name": "Central", "kind": "central"}).json()
    lab = post(client, "/api/v1/stores", {"code": "LAB", "name": "Lab", "kind": "lab"}).json()
    return model.json(), central, lab


def test_a_model_store_and_batch_through_the_api(api_a):
    model, central, _lab = _world(api_a)
    assert model["registers"] == [{"code": "main", "unit": "m3", "multiplier": "1.0000"}]
    body = {
        "store_id": central["id"],
        "meter_model_id": model["id"],
        "supplier": "Itron Africa",
        "received_on": "2026-01-15",
        "serial_from": "WM-030001",
        "serial_to": "WM-030010",
        "key": "delivery-77",
    }
    first = post(api_a, "/api/v1/meters/receive", body)
    assert first.status_code == 201 and first.json()["count"] == 10
    replay = post(api_a, "/api/v1/meters/receive", body)
    assert replay.status_code == 200 and replay.json() == {**first.json(), "replayed": True}
    reused = post(api_a, "/api/v1/meters/receive", {**body, "serial_to": "WM-030011"})
    assert reused.status_code == 409 and reused.json()["error"]["code"] == "key_reused"
    clash = post(
        api_a, "/api/v1/meters/receive", {**body, "key": "", "serial_from": "WM-030009", "serial_to": "WM-030012"}
    )
    assert clash.status_code == 409
    assert clash.json()["error"]["fields"]["serials"] == ["WM-030009", "WM-030010"]
    backwards = post(api_a, "/api/v1/meters/receive", {**body, "key": "", "serial_from": "9", "serial_to": "1"})
    assert backwards.status_code == 400 and "serial_to" in backwards.json()["error"]["fields"]
    listed = api_a.get("/api/v1/meters", {"q": "wm-03001", "store_id": central["id"]}).json()
    assert [meter["serial"] for meter in listed["items"]] == ["WM-030010"]
    meter = api_a.get(f"/api/v1/meters/{listed['items'][0]['id']}").json()
    assert meter["movements"][0]["kind"] == "receive" and meter["store"] == "CEN"
    fixed = api_a.patch(f"/api/v1/meter-models/{model['id']}", {"dial_digits": 4}, content_type=JSON)
    assert fixed.status_code == 400 and fixed.json()["error"]["code"] == "dial_digits_fixed"


def test_movements_and_calibrations_through_the_api(api_a, operator_a):
    model, central, lab = _world(api_a)
    post(
        api_a,
        "/api/v1/meters/receive",
        {
            "store_id": central["id"],
            "meter_model_id": model["id"],
            "supplier": "Itron",
            "received_on": "2021-01-15",
            "serials": ["A-1", "A-2", "A-3"],
        },
    )
    to_lab = post(
        api_a,
        "/api/v1/meter-movements",
        {
            "kind": "to_lab",
            "from_store_id": central["id"],
            "to_store_id": lab["id"],
            "moved_on": "2026-01-20",
            "serials": ["A-1 .. A-2"],
            "key": "lab-1",
        },
    )
    assert to_lab.status_code == 201 and [m["serial"] for m in to_lab.json()["meters"]] == ["A-1", "A-2"]
    assert post(api_a, "/api/v1/meter-movements", {**_body(to_lab), "key": "lab-1"}).status_code == 200
    refused = post(
        api_a,
        "/api/v1/meter-movements",
        {"kind": "scrap", "from_store_id": central["id"], "moved_on": "2026-01-20", "serials": ["A-1", "A-3"]},
    )
    assert refused.status_code == 400 and refused.json()["error"]["fields"]["serials"] == ["A-1: not in CEN (LAB)"]
    meter_id = Meter.objects.get(serial="A-1").pk
    calibration = post(
        api_a,
        "/api/v1/calibrations",
        {"meter_id": meter_id, "calibrated_on": "2026-01-25", "result": "passed", "to_store_id": central["id"]},
    )
    assert calibration.status_code == 201
    assert api_a.get(f"/api/v1/calibrations/{calibration.json()['id']}").json()["result"] == "passed"
    due = api_a.get("/api/v1/calibrations/due", {"year": 2026}).json()
    assert (due["total"], due["overdue"]) == (2, 0) and due["months"][0] == {"month": 1, "due": 2, "overdue": 0}
    assert api_a.get("/api/v1/calibrations/due", {"year": 99}).status_code == 400
    listed = api_a.get("/api/v1/meter-movements", {"kind": "from_lab"}).json()
    assert listed["count"] == 1 and listed["items"][0]["meter_count"] == 1
    report = api_a.get("/api/v1/meter-movements/report", {"date_from": "2026-01-01", "date_to": "2026-01-31"}).json()
    assert (report["documents"], report["meters"]) == (2, 3)
    assert [(g["kind"], g["from_store"], g["to_store"], g["meters"]) for g in report["groups"]] == [
        ("from_lab", "LAB Lab", "CEN Central", 1),
        ("to_lab", "CEN Central", "LAB Lab", 2),
    ]


def _body(response):  # type: ignore[no-untyped-def]
    movement = response.json()
    return {
        "kind": movement["kind"],
        "from_store_id": movement["from_store_id"],
        "to_store_id": movement["to_store_id"],
        "moved_on": movement["moved_on"],
        "serials": ["A-1 .. A-2"],
    }


def test_readers_read_and_only_writers_write(operator_a, client_for):
    technician = client_for(member(Role.TECHNICIAN, operator_a))
    assert technician.get("/api/v1/meters").status_code == 200
    assert technician.get("/api/v1/calibrations/due?year=2026").status_code == 200
    assert post(technician, "/api/v1/stores", {"code": "X", "name": "X"}).status_code == 403
    cashier = client_for(member(Role.CASHIER, operator_a))
    assert cashier.get("/api/v1/meters").status_code == 403


def test_another_operator_gets_404_and_cannot_name_a_s_objects(api_a, client_for, admin_b, operator_a):
    model, central, _lab = _world(api_a)
    receipt = post(
        api_a,
        "/api/v1/meters/receive",
        {
            "store_id": central["id"],
            "meter_model_id": model["id"],
            "supplier": "Itron",
            "received_on": "2021-01-15",
            "serials": ["SECRET-1"],
        },
    ).json()
    meter = Meter.objects.get(serial="SECRET-1")
    calibration = post(
        api_a, "/api/v1/calibrations", {"meter_id": meter.pk, "calibrated_on": "2026-01-25", "result": "failed"}
    ).json()
    outsider = client_for(admin_b)
    for url in [
        f"/api/v1/meters/{meter.pk}",
        f"/api/v1/meter-models/{model['id']}",
        f"/api/v1/stores/{central['id']}",
        f"/api/v1/meter-movements/{receipt['movement_id']}",
        f"/api/v1/calibrations/{calibration['id']}",
    ]:
        assert outsider.get(url).status_code == 404, url
    assert outsider.patch(f"/api/v1/stores/{central['id']}", {"name": "x"}, content_type=JSON).status_code == 404
    assert outsider.get("/api/v1/meters").json()["count"] == 0
    assert outsider.get("/api/v1/calibrations/due?year=2031").json()["total"] == 0
    own_model = meter_model_of(operator_a.__class__.objects.exclude(pk=operator_a.pk).get())
    stolen = post(
        outsider,
        "/api/v1/meters/receive",
        {
            "store_id": central["id"],
            "meter_model_id": own_model.pk,
            "supplier": "X",
            "received_on": "2026-01-15",
            "serials": ["B-1"],
        },
    )
    assert stolen.status_code == 400 and stolen.json()["error"]["code"] == "store_id_invalid"
    moved = post(
        outsider,
        "/api/v1/meter-movements",
        {"kind": "scrap", "from_store_id": central["id"], "moved_on": "2026-01-20", "meter_ids": [meter.pk]},
    )
    assert moved.status_code == 400
    assert Movement.objects.filter(kind="scrap").count() == 0
    assert (
        post(
            outsider, "/api/v1/calibrations", {"meter_id": meter.pk, "calibrated_on": "2026-01-25", "result": "passed"}
        ).json()["error"]["code"]
        == "meter_id_invalid"
    )
