"""The review API: the queue, decisions, estimates, adjustments, the anomaly report, settings; errors and tenancy."""

import datetime
from decimal import Decimal

import pytest

from mita.metering.models import IndexAdjustment, Reading
from mita.metering.tests.world_review import active_metered, read, thirty_a_month

pytestmark = pytest.mark.django_db
D = Decimal


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


@pytest.fixture
def high(operator_a, staff_a):
    installation = active_metered(operator_a, initial_index=D(1000))
    thirty_a_month(operator_a, installation)
    return read(operator_a, installation, 1400, datetime.date(2026, 4, 30), "2026-04", reader_id=staff_a.pk)


def test_the_queue_lists_readings_waiting_with_their_indexes(client_for, staff_a, high):
    response = client_for(staff_a).get("/api/v1/readings/review?anomaly=high")
    assert response.status_code == 200, response.json()
    [row] = response.json()["items"]
    assert (row["id"], row["connection_number"], row["previous_index"], row["current_index"], row["anomaly"]) == (
        high.pk,
        "AAL-0001",
        "1090.000",
        "1400.000",
        "high",
    )


def test_a_correction_through_the_api_and_its_replay(client_for, staff_a, high):
    client = client_for(staff_a)
    body = {"current_index": "1120", "note": "Misread"}
    first = post(client, f"/api/v1/readings/{high.pk}/correct", body)
    assert first.status_code == 200, first.json()
    assert (first.json()["supersedes_id"], first.json()["consumption"], first.json()["status"]) == (
        high.pk,
        "30.000",
        "accepted",
    )
    again = post(client, f"/api/v1/readings/{high.pk}/correct", body)
    assert again.json()["id"] == first.json()["id"]
    other = post(client, f"/api/v1/readings/{high.pk}/reject", {"note": "no"})
    assert other.status_code == 409 and other.json()["error"]["code"] == "already_reviewed"


def test_accept_estimate_and_reject_answer_with_the_reading(client_for, staff_a, high):
    client = client_for(staff_a)
    missing_note = post(client, f"/api/v1/readings/{high.pk}/accept", {"note": ""})
    assert missing_note.status_code == 400 and missing_note.json()["error"]["fields"] == {"note": ["Say why."]}
    accepted = post(client, f"/api/v1/readings/{high.pk}/accept", {"note": "Leak"})
    assert (accepted.status_code, accepted.json()["status"], accepted.json()["consumption"]) == (
        200,
        "accepted",
        "310.000",
    )


def test_estimates_for_a_cycle(client_for, staff_a, operator_a):
    installation = active_metered(operator_a, initial_index=D(1000))
    thirty_a_month(operator_a, installation)
    response = post(client_for(staff_a), "/api/v1/estimates", {"cycle": "2026-04"})
    assert response.status_code == 200, response.json()
    assert (response.json()["estimated"], response.json()["no_history"]) == (1, [])
    bad = post(client_for(staff_a), "/api/v1/estimates", {"cycle": "April"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "cycle_invalid"


def test_only_an_admin_adjusts_and_gets_the_adjustment(client_for, staff_a, admin_a, operator_a):
    installation = active_metered(operator_a, initial_index=D(1000))
    thirty_a_month(operator_a, installation)
    march = Reading.objects.get(cycle="2026-03")
    body = {"current_index": "1085", "reason": "Photo"}
    assert post(client_for(staff_a), f"/api/v1/readings/{march.pk}/adjust", body).status_code == 403
    response = post(client_for(admin_a), f"/api/v1/readings/{march.pk}/adjust", body)
    assert response.status_code == 201, response.json()
    assert (response.json()["index_after"], response.json()["cycles"], response.json()["rebill_needed"]) == (
        "1085.000",
        ["2026-03"],
        True,
    )
    backwards = post(
        client_for(admin_a),
        f"/api/v1/readings/{response.json()['adjustment_reading_id']}/adjust",
        {"current_index": "1000", "reason": "x"},
    )
    assert backwards.status_code == 400 and backwards.json()["error"]["code"] == "index_backwards"


def test_the_anomaly_report_by_route(client_for, staff_a, high):
    response = client_for(staff_a).get("/api/v1/anomaly-report?date_from=2026-04-01&date_to=2026-04-30&by=route")
    assert response.status_code == 200
    [row] = response.json()
    assert (row["counts"]["high"], row["total"]) == (1, 1)
    backwards = client_for(staff_a).get("/api/v1/anomaly-report?date_from=2026-05-01&date_to=2026-04-30")
    assert backwards.status_code == 400 and backwards.json()["error"]["code"] == "period_invalid"


def test_settings_read_and_change_by_an_admin(client_for, staff_a, admin_a):
    assert D(client_for(staff_a).get("/api/v1/metering-settings").json()["high_factor"]) == D(3)
    refused = client_for(staff_a).put(
        "/api/v1/metering-settings", {"high_factor": "2"}, content_type="application/json"
    )
    assert refused.status_code == 403
    client = client_for(admin_a)
    changed = client.put("/api/v1/metering-settings", {"high_factor": "2.5"}, content_type="application/json")
    assert (changed.status_code, changed.json()["high_factor"], changed.json()["low_factor"]) == (200, "2.50", "0.30")
    bad = client.put("/api/v1/metering-settings", {"rollover_share": "0.9"}, content_type="application/json")
    assert bad.status_code == 400 and "rollover_share" in bad.json()["error"]["fields"]


def test_another_operators_admin_gets_404(client_for, admin_b, high):
    client = client_for(admin_b)
    for action in ("accept", "estimate", "reject"):
        assert post(client, f"/api/v1/readings/{high.pk}/{action}", {"note": "x"}).status_code == 404
    assert post(client, f"/api/v1/readings/{high.pk}/correct", {"current_index": "1", "note": "x"}).status_code == 404
    assert post(client, f"/api/v1/readings/{high.pk}/adjust", {"current_index": "1", "reason": "x"}).status_code == 404
    assert client.get("/api/v1/readings/review").json()["items"] == []
    assert client.get("/api/v1/anomaly-report?date_from=2026-01-01&date_to=2026-12-31").json() == []
    assert not IndexAdjustment.objects.exists()
    high.refresh_from_db()
    assert high.status == "review"
