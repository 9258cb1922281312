"""The customer search finds a connection by its installed meter's serial (prefix, any case; removed meters find
nothing; only the operator's own), and the customer 360 page's "Meters and readings" panel with its anomalies count."""

import datetime
from decimal import Decimal

import pytest

from mita.customers.tests.world import clerk_of
from mita.metering.installations import meter_remove
from mita.metering.models import Reading
from mita.metering.readings import ReadingInput, readings_record
from mita.metering.selectors_installations_find import meter_search_find
from mita.metering.tests.world import metered_connection, store_of

pytestmark = pytest.mark.django_db
D = Decimal


def _cards(client, query):
    body = client.get("/api/v1/customers/search", {"q": query}).json()
    return sorted(card["connection_number"] for group in body["groups"] for card in group["cards"])


def test_the_customer_search_finds_a_connection_by_the_start_of_its_meter_serial(operator_a, client_for):
    metered_connection(operator_a, number="AAL-0001", serial="WM-030001")
    metered_connection(operator_a, number="AAL-0002", serial="WM-040001")
    metered_connection(operator_a, number="AAL-0003", serial="77001")
    client = client_for(clerk_of(operator_a))
    assert _cards(client, "wm-0300") == ["AAL-0001"]
    assert _cards(client, "WM 04") == ["AAL-0002"]
    assert _cards(client, "7700") == ["AAL-0003"]
    assert _cards(client, "wm") == ["AAL-0001", "AAL-0002"]
    # the list page's search box too
    assert "AAL-0003" in client.get("/customers/", {"q": "77001"}).content.decode()


def test_a_removed_meter_no_longer_finds_its_old_connection(operator_a):
    installation = metered_connection(operator_a, number="AAL-0001", serial="WM-030001")
    assert meter_search_find(operator_a, ["WM", "030001"], 10) != []
    meter_remove(
        connection=installation.connection,
        removed_on=datetime.date(2026, 2, 1),
        final_index=D(5),
        reason="faulty",
        to_store=store_of(operator_a),
        acting_user=None,
    )
    assert meter_search_find(operator_a, ["WM", "030001"], 10) == []


def test_another_operator_does_not_find_the_meter(operator_a, operator_b, admin_b, client_for):
    metered_connection(operator_a, number="AAL-0001", serial="WM-030001")
    assert meter_search_find(operator_b, ["WM"], 10) == []
    assert _cards(client_for(admin_b), "WM-030001") == []


def test_the_360_page_shows_the_meter_the_last_reading_and_the_anomalies(operator_a, client_for):
    # given Jeanne's connection with meter WM-030001 read at 20 and then, implausibly, backwards at 5
    installation = metered_connection(operator_a, number="AAL-0001", serial="WM-030001")
    connection = installation.connection
    readings_record(
        operator=operator_a,
        rows=[
            ReadingInput(connection_id=connection.pk, current_index=D(20), read_on=datetime.date(2026, 1, 28)),
            ReadingInput(connection_id=connection.pk, current_index=D(5), read_on=datetime.date(2026, 2, 26)),
        ],
        source=Reading.Source.MANUAL,
    )
    client = client_for(clerk_of(operator_a))
    # when customer care opens her page
    page = client.get(f"/customers/{connection.customer_id}/").content.decode()
    # then the panel shows the meter, the last reading waiting for review, and the count at the top
    assert 'data-testid="panel-metering.meters"' in page and "Meters and readings" in page
    assert "WM-030001" in page and "2026-02-26" in page and "Index below the previous one" in page
    assert 'data-testid="count-anomalies">1<' in page
    assert f'href="/metering/connections/{connection.pk}/meter/"' in page
    # and the overview API gives the same
    overview = client.get(f"/api/v1/customers/{connection.customer_id}/overview").json()
    assert overview["counts"]["anomalies"] == 1
    [line] = overview["panels"]["metering.meters"]["connections"]
    assert (line["meter_serial"], line["last_reading"]["status"], line["open_anomalies"]) == ("WM-030001", "review", 1)


def test_a_customer_without_a_metered_connection_has_no_anomalies_figure(operator_a, client_for):
    from mita.customers.tests.world import connection_of, customer_of

    customer = customer_of(operator_a, name="Unmetered Customer")
    connection_of(operator_a, customer, "AAL-0009", metered=False)
    page = client_for(clerk_of(operator_a)).get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-testid="panel-metering.meters"' in page and "count-anomalies" not in page
    # and with a metered connection the figure is there, at zero
    metered_connection(operator_a, number="AAL-0010", serial="S-10")
    installation = metered_connection(operator_a, number="AAL-0011", serial="S-11")
    page = client_for(clerk_of(operator_a)).get(f"/customers/{installation.connection.customer_id}/").content.decode()
    assert 'data-testid="count-anomalies">0<' in page
