"""The review pages: the queue and its filters, a reading's decisions, estimates, the anomaly report and its CSV,
adjustments, settings; roles, and another operator's 404."""

import datetime
from decimal import Decimal

import pytest

from mita.accounts.roles import Role
from mita.core.navigation import cards_for
from mita.metering.adjustments import index_adjust
from mita.metering.models import MeteringSettings, Reading
from mita.metering.tests.world_review import active_metered, read, thirty_a_month
from mita.registry.access import WorkspaceAccess, workspaces_of
from mita.testing.factories import member

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def queue(operator_a, staff_a):
    """A connection using 1 a day with a high reading (1400 in April) and another's backwards one, by staff_a."""
    first = active_metered(operator_a, number="AAL-0001", serial="1", initial_index=D(1000))
    thirty_a_month(operator_a, first)
    high = read(operator_a, first, 1400, datetime.date(2026, 4, 30), "2026-04", reader_id=staff_a.pk)
    second = active_metered(operator_a, number="AAL-0002", serial="2", initial_index=D(500))
    backwards = read(operator_a, second, 400, datetime.date(2026, 4, 30), "2026-04")
    return high, backwards


def test_the_queue_shows_each_reading_with_the_connections_average_and_filters_by_anomaly(client_for, staff_a, queue):
    high, backwards = queue
    client = client_for(staff_a)
    page = client.get("/metering/review/").content.decode()
    assert f'data-testid="review-row-{high.pk}"' in page and f'data-testid="review-row-{backwards.pk}"' in page
    assert "AAL-0001" in page and "1400.000" in page and "30.0" in page  # the average per 30 days
    filtered = client.get("/metering/review/?anomaly=backwards").content.decode()
    assert f"review-row-{backwards.pk}" in filtered and f"review-row-{high.pk}" not in filtered
    by_reader = client.get(f"/metering/review/?reader={staff_a.pk}").content.decode()
    assert f"review-row-{high.pk}" in by_reader and f"review-row-{backwards.pk}" not in by_reader


def test_the_home_card_counts_the_readings_to_review(operator_a, staff_a, queue):
    workspaces = workspaces_of(staff_a)
    access = WorkspaceAccess(staff_a, workspaces, workspaces[0])
    badges = {card.key: badge for card, badge in cards_for(access)}
    assert badges["metering.review"] == 2


def test_a_correction_on_the_page_supersedes_the_reading(client_for, staff_a, queue):
    _high, backwards = queue
    client = client_for(staff_a)
    assert client.get(f"/metering/review/{backwards.pk}/").status_code == 200
    response = client.post(
        f"/metering/review/{backwards.pk}/", {"action": "correct", "current_index": "512", "note": "Digits swapped"}
    )
    assert response.status_code == 302 and response.url == "/metering/review/"
    corrected = Reading.objects.get(supersedes=backwards)
    assert (corrected.current_index, corrected.consumption, corrected.status) == (D(512), D(12), "accepted")


def test_accepting_a_backwards_reading_shows_why_and_saves_nothing(client_for, staff_a, queue):
    _high, backwards = queue
    response = client_for(staff_a).post(f"/metering/review/{backwards.pk}/", {"action": "accept", "note": "ok"})
    assert response.status_code == 400
    assert "cannot be accepted" in response.content.decode()
    backwards.refresh_from_db()
    assert backwards.status == "review"


def test_a_decision_without_a_note_is_refused_next_to_the_note(client_for, staff_a, queue):
    high, _backwards = queue
    response = client_for(staff_a).post(f"/metering/review/{high.pk}/", {"action": "reject", "note": ""})
    assert response.status_code == 400 and response.context["form"].errors["note"]


def test_estimating_a_cycle_from_the_queue_page(client_for, staff_a, operator_a, queue):
    other = active_metered(operator_a, number="AAL-0003", serial="3", initial_index=D(1000))
    thirty_a_month(operator_a, other)
    response = client_for(staff_a).post("/metering/review/estimates/", {"cycle": "2026-04"}, follow=True)
    assert "1 connections estimated" in response.content.decode()
    assert Reading.objects.filter(connection_id=other.connection_id, source="estimated").count() == 1


def test_the_anomaly_report_by_route_and_reader_and_its_csv(client_for, staff_a, queue):
    client = client_for(staff_a)
    page = client.get("/metering/review/report/?date_from=2026-04-01&date_to=2026-04-30&by=reader")
    assert page.status_code == 200 and "Sam Staff" in page.content.decode()
    response = client.get("/metering/review/report.csv?date_from=2026-04-01&date_to=2026-04-30&by=reader")
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("reader_id,reader_name,backwards,")
    header = lines[0].split(",")
    rows = {line.split(",")[1]: dict(zip(header, line.split(","), strict=True)) for line in lines[1:]}
    assert rows["Sam Staff"]["high"] == "1" and rows["Sam Staff"]["total"] == "1"
    assert rows[""]["backwards"] == "1"
    bad = client.get("/metering/review/report/?date_from=2026-05-01&date_to=2026-04-01")
    assert bad.status_code == 400


def test_only_an_operator_admin_adjusts_an_index(client_for, admin_a, staff_a, operator_a):
    installation = active_metered(operator_a, initial_index=D(1000))
    thirty_a_month(operator_a, installation)
    march = Reading.objects.get(connection_id=installation.connection_id, cycle="2026-03")
    assert client_for(staff_a).get(f"/metering/readings/{march.pk}/adjust/").status_code == 403
    client = client_for(admin_a)
    response = client.post(f"/metering/readings/{march.pk}/adjust/", {"current_index": "1085", "reason": "Photo"})
    assert response.status_code == 302
    page = client.get("/metering/adjustments/").content.decode()
    assert "1085.000" in page and "Needed" in page
    again = client.post(f"/metering/readings/{march.pk}/adjust/", {"current_index": "1080", "reason": "Photo"})
    assert again.status_code == 400 and "already adjusted" in again.content.decode()


def test_the_settings_page_saves_thresholds_and_refuses_nonsense(client_for, admin_a, staff_a, operator_a):
    assert client_for(staff_a).get("/metering/settings/").status_code == 403
    client = client_for(admin_a)
    fields = {
        "high_factor": "2.5",
        "low_factor": "0.4",
        "min_units": "3",
        "history_readings": "6",
        "rollover_share": "0.1",
        "window_days_before": "5",
        "window_days_after": "10",
    }
    assert client.post("/metering/settings/", fields).status_code == 302
    settings = MeteringSettings.objects.get(operator=operator_a)
    assert (settings.high_factor, settings.zero_is_anomaly) == (D("2.5"), False)
    bad = client.post("/metering/settings/", fields | {"low_factor": "1.5"})
    assert bad.status_code == 400 and bad.context["form"].errors["low_factor"]
    assert MeteringSettings.objects.get(operator=operator_a).low_factor == D("0.4")


def test_another_operators_admin_gets_404_on_every_review_page(client_for, admin_a, admin_b, queue, operator_a):
    high, _backwards = queue
    index_adjust(
        reading=Reading.objects.filter(cycle="2026-03").first(), current_index="1085", reason="x", acting_user=admin_a
    )
    client = client_for(admin_b)
    assert client.get(f"/metering/review/{high.pk}/").status_code == 404
    assert client.post(f"/metering/review/{high.pk}/", {"action": "reject", "note": "x"}).status_code == 404
    assert client.get(f"/metering/readings/{high.pk}/adjust/").status_code == 404
    for url in (
        "/metering/review/",
        "/metering/adjustments/",
        "/metering/review/report/?date_from=2026-01-01&date_to=2026-12-31",
    ):
        body = client.get(url).content.decode()
        assert "AAL-0001" not in body and "Sam Staff" not in body
    high.refresh_from_db()
    assert high.status == "review"


def test_a_cashier_cannot_open_the_queue(client_for, operator_a):
    assert client_for(member(Role.CASHIER, operator_a)).get("/metering/review/").status_code == 403


def test_the_filters_swap_the_table_only_with_htmx(client_for, staff_a, queue):
    high, backwards = queue
    response = client_for(staff_a).get("/metering/review/?anomaly=high", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="review-queue">') and "<html" not in body
    assert f"review-row-{high.pk}" in body and f"review-row-{backwards.pk}" not in body


def test_a_meter_not_read_is_estimated_from_its_page(client_for, staff_a, operator_a):
    installation = active_metered(operator_a, number="AAL-0009", serial="9", initial_index=D(1000))
    thirty_a_month(operator_a, installation)
    dog = read(operator_a, installation, None, datetime.date(2026, 4, 21), "2026-04", reader_code="dog")
    client = client_for(staff_a)
    assert "Dog" in client.get(f"/metering/review/{dog.pk}/").content.decode()
    response = client.post(f"/metering/review/{dog.pk}/", {"action": "estimate", "note": "Dog again"})
    assert response.status_code == 302
    estimated = Reading.objects.get(supersedes=dog)
    assert (estimated.source, estimated.consumption, estimated.current_index) == ("estimated", D(20), D(1110))
