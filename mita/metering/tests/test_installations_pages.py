"""The connection's meter page and its forms: install a meter by its serial, remove it with its final index, replace
it; errors next to their fields with nothing saved; the readings, latest first and paginated; roles; and another
operator's 404 on every page."""

import datetime
from decimal import Decimal

import pytest

from mita.accounts.roles import Role
from mita.core.models import AuditEntry
from mita.customers.services import connection_update
from mita.customers.services_places import chamber_create
from mita.metering.models import Installation, Meter, Reading
from mita.metering.readings import ReadingInput, cycle_consumption, readings_record
from mita.metering.tests.world import metered_connection, store_of
from mita.metering.tests.world_installations import MAR_1, bare_connection, meters_in_store, technician_of
from mita.testing.factories import member

pytestmark = pytest.mark.django_db
D = Decimal


def _meter_url(connection, action=""):
    return f"/metering/connections/{connection.pk}/meter/" + (f"{action}/" if action else "")


def test_a_technician_installs_a_meter_by_its_serial_and_sees_it_on_the_page(operator_a, client_for):
    # given a connection without a meter and meter WM-30001 in the central store
    connection = bare_connection(operator_a)
    [meter] = meters_in_store(operator_a, "WM-30001")
    client = client_for(technician_of(operator_a))
    form = client.get(_meter_url(connection, "install")).content.decode()
    assert 'name="serial"' in form and "WM-30001" in form  # the meters in store are suggested
    # when the technician installs it, typing the serial in lower case
    response = client.post(
        _meter_url(connection, "install"), {"serial": "wm-30001", "installed_on": "2026-03-01", "initial_index": "12.5"}
    )
    # then the meter is on the connection, counting from 12.5, and the page says so
    assert response.status_code == 302 and response.url == _meter_url(connection)
    meter.refresh_from_db()
    assert (meter.status, meter.store) == (Meter.Status.INSTALLED, None)
    installation = Installation.objects.get(connection=connection)
    assert (installation.initial_index, installation.installed_on) == (D("12.5"), MAR_1)
    page = client.get(_meter_url(connection)).content.decode()
    assert 'data-testid="meter-serial">WM-30001<' in page and 'data-testid="meter-initial-index">12.5<' in page
    assert 'data-testid="last-index-main">12.5' in page
    assert AuditEntry.objects.filter(action="meter.installed", target_id=str(installation.pk)).exists()


def test_an_unknown_serial_is_shown_on_its_field_and_nothing_is_installed(operator_a, client_for):
    connection = bare_connection(operator_a)
    meters_in_store(operator_a, "WM-30001")
    response = client_for(technician_of(operator_a)).post(
        _meter_url(connection, "install"), {"serial": "WM-99999", "installed_on": "2026-03-01", "initial_index": "0"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["serial"] == ["Unknown serial."]
    assert "No meter has the serial WM-99999" in response.content.decode()
    assert not Installation.objects.exists()


def test_a_date_in_the_future_and_a_second_meter_are_refused_on_their_fields(operator_a, client_for):
    installation = metered_connection(operator_a, number="AAL-0001", serial="30001")
    connection = installation.connection
    meters_in_store(operator_a, "WM-30002")
    client = client_for(technician_of(operator_a))
    future = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()
    response = client.post(
        _meter_url(connection, "install"), {"serial": "WM-30002", "installed_on": future, "initial_index": "0"}
    )
    assert response.status_code == 400 and response.context["form"].errors["installed_on"] == ["Today or earlier."]
    response = client.post(
        _meter_url(connection, "install"), {"serial": "WM-30002", "installed_on": "2026-03-01", "initial_index": "0"}
    )
    assert response.status_code == 400
    assert "already has a meter" in response.content.decode()
    assert Installation.objects.filter(connection=connection).count() == 1


def test_removing_records_the_final_index_as_a_reading_and_sends_the_meter_to_a_store(operator_a, client_for):
    # given meter 30001 installed at 0 and read at 40 in February
    installation = metered_connection(operator_a, serial="30001")
    connection = installation.connection
    readings_record(
        operator=operator_a,
        rows=[ReadingInput(connection_id=connection.pk, current_index=D(40), read_on=datetime.date(2026, 2, 25))],
        source=Reading.Source.MANUAL,
    )
    lab = store_of(operator_a, "LAB", kind="lab")
    client = client_for(technician_of(operator_a))
    # when it is removed on 10 March at 52 for calibration, to the lab
    response = client.post(
        _meter_url(connection, "remove"),
        {"removed_on": "2026-03-10", "final_index": "52", "reason": "calibration", "to_store": lab.pk},
    )
    # then the meter is in the lab and the connection's last stretch of 12 is counted in March
    assert response.status_code == 302
    meter = Meter.objects.get(pk=installation.meter_id)
    assert (meter.status, meter.store) == (Meter.Status.IN_LAB, lab)
    removal = Reading.objects.get(connection=connection, source=Reading.Source.REMOVAL)
    assert (removal.cycle, removal.consumption) == ("2026-03", D(12))
    page = client.get(_meter_url(connection)).content.decode()
    assert 'data-testid="no-meter"' in page and "Final index at removal" in page and "Due for calibration" in page


def test_a_final_index_below_the_last_one_is_refused_on_its_field(operator_a, client_for):
    installation = metered_connection(operator_a, serial="30001", initial_index=D(100))
    response = client_for(technician_of(operator_a)).post(
        _meter_url(installation.connection, "remove"),
        {"removed_on": "2026-03-10", "final_index": "90", "reason": "faulty", "to_store": store_of(operator_a).pk},
    )
    assert response.status_code == 400 and response.context["form"].errors["final_index"] == ["At least 100.000."]
    assert Installation.objects.get(pk=installation.pk).removed_on is None


def test_replacing_counts_the_old_meters_last_stretch_and_the_new_ones_first_in_the_cycle(operator_a, client_for):
    # given meter 30001 read at 40 in February, and WM-30002 in store
    installation = metered_connection(operator_a, serial="30001")
    connection = installation.connection
    readings_record(
        operator=operator_a,
        rows=[ReadingInput(connection_id=connection.pk, current_index=D(40), read_on=datetime.date(2026, 2, 25))],
        source=Reading.Source.MANUAL,
    )
    meters_in_store(operator_a, "WM-30002")
    client = client_for(technician_of(operator_a))
    # when it is replaced on 12 March (old at 47, new from 3), and the new meter is read at 10 on 27 March
    response = client.post(
        _meter_url(connection, "replace"),
        {
            "replaced_on": "2026-03-12",
            "final_index": "47",
            "reason": "faulty",
            "to_store": store_of(operator_a).pk,
            "serial": "WM-30002",
            "initial_index": "3",
        },
    )
    assert response.status_code == 302
    readings_record(
        operator=operator_a,
        rows=[ReadingInput(connection_id=connection.pk, current_index=D(10), read_on=datetime.date(2026, 3, 27))],
        source=Reading.Source.MANUAL,
    )
    # then March consumed 7 + 7, the old meter is faulty in the store, and the history shows both meters
    assert cycle_consumption(operator=operator_a, connection_ids=[connection.pk], cycle="2026-03") == {
        connection.pk: D(14)
    }
    assert Meter.objects.get(pk=installation.meter_id).status == Meter.Status.FAULTY
    page = client.get(_meter_url(connection)).content.decode()
    assert 'data-testid="meter-serial">WM-30002<' in page
    assert 'data-testid="installation-30001"' in page and 'data-testid="installation-WM-30002"' in page


def test_replacing_with_the_meter_already_installed_is_refused(operator_a, client_for):
    installation = metered_connection(operator_a, serial="30001")
    response = client_for(technician_of(operator_a)).post(
        _meter_url(installation.connection, "replace"),
        {
            "replaced_on": "2026-03-12",
            "final_index": "5",
            "reason": "faulty",
            "to_store": store_of(operator_a).pk,
            "serial": "30001",
            "initial_index": "3",
        },
    )
    assert response.status_code == 400 and response.context["form"].errors["serial"] == ["Another meter."]
    assert Installation.objects.get(pk=installation.pk).removed_on is None


def test_the_readings_are_listed_latest_first_with_status_anomaly_and_source_on_pages(operator_a, client_for):
    # given 26 monthly readings from January 2024, the last one implausibly high
    installation = metered_connection(operator_a, serial="30001", installed_on=datetime.date(2023, 12, 20))
    connection = installation.connection
    rows = [
        ReadingInput(
            connection_id=connection.pk,
            current_index=D(10 * (month + 1)) if month < 25 else D(2000),
            read_on=datetime.date(2024 + month // 12, month % 12 + 1, 25),
        )
        for month in range(26)
    ]
    readings_record(operator=operator_a, rows=rows, source=Reading.Source.MANUAL)
    client = client_for(member(Role.BILLING_OFFICER, operator_a))
    # when a reader opens the meter page
    page = client.get(_meter_url(connection)).content.decode()
    # then the latest reading comes first, waiting for review as higher than usual, and the page has a second page
    table = page[page.index('id="readings-table"') :]
    assert table.index("2026-02-25") < table.index("2026-01-25")
    assert "Higher than usual" in page and "Waiting for review" in page and "Read by a meter reader" in page
    assert "2024-01-25" not in page and "Page 1 of 2" in page
    assert 'data-testid="open-anomalies"' in page
    second = client.get(_meter_url(connection), {"page": 2}).content.decode()
    assert "2024-01-25" in second
    # and an htmx request gets the table alone
    partial = client.get(_meter_url(connection), {"page": 2}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="readings-table"' in partial and "<html" not in partial


def test_readers_and_clerks_read_the_page_but_only_technicians_and_admins_change_meters(operator_a, client_for):
    installation = metered_connection(operator_a, serial="30001")
    connection = installation.connection
    for role in (Role.BILLING_OFFICER, Role.CUSTOMER_CARE, Role.STOREKEEPER):
        client = client_for(member(role, operator_a))
        page = client.get(_meter_url(connection))
        assert page.status_code == 200 and 'data-testid="meter-replace-link"' not in page.content.decode()
        for action in ("install", "remove", "replace"):
            assert client.get(_meter_url(connection, action)).status_code == 403
    admin_page = client_for(member(Role.OPERATOR_ADMIN, operator_a)).get(_meter_url(connection)).content.decode()
    assert 'data-testid="meter-replace-link"' in admin_page
    assert client_for(member(Role.REVENUE_COLLECTOR, operator_a)).get(_meter_url(connection)).status_code == 403


def test_another_operators_admin_gets_404_on_every_page_and_changes_nothing(operator_a, admin_b, client_for):
    installation = metered_connection(operator_a, serial="30001")
    connection = installation.connection
    client = client_for(admin_b)
    for action in ("", "install", "remove", "replace"):
        assert client.get(_meter_url(connection, action)).status_code == 404, action
    response = client.post(
        _meter_url(connection, "remove"),
        {"removed_on": "2026-03-10", "final_index": "52", "reason": "faulty", "to_store": store_of(operator_a).pk},
    )
    assert response.status_code == 404
    assert Installation.objects.get(pk=installation.pk).removed_on is None


# Finding a connection for reading -------------------------------------------------------------------------------


def test_a_reader_finds_a_connection_by_serial_number_or_chamber(operator_a, client_for):
    # given AAL-0001 with meter WM-30001 in chamber CH-9, and AAL-0002 with meter 40001
    first = metered_connection(operator_a, number="AAL-0001", serial="WM-30001").connection
    metered_connection(operator_a, number="AAL-0002", serial="40001")
    chamber = chamber_create(operator=operator_a, code="CH-9", description="By the school", acting_user=None)
    connection_update(connection=first, acting_user=None, chamber=chamber)
    client = client_for(member(Role.BILLING_OFFICER, operator_a))
    assert client.get("/metering/find/").status_code == 200
    # when the reader types the start of a serial, of a number, or a chamber's code
    by_serial = client.get("/metering/find/", {"q": "wm-300"}).content.decode()
    by_number = client.get("/metering/find/", {"q": "AAL-0002"}).content.decode()
    by_chamber = client.get("/metering/find/", {"q": "ch-9"}, HTTP_HX_REQUEST="true").content.decode()
    # then each finds its connection, with a link to its meter page
    assert 'data-testid="found-AAL-0001"' in by_serial and "AAL-0002" not in by_serial
    assert f'href="/metering/connections/{first.pk}/meter/"' in by_serial
    assert 'data-testid="found-AAL-0002"' in by_number and "WM-30001" not in by_number
    assert 'data-testid="found-AAL-0001"' in by_chamber and "<html" not in by_chamber
    nothing = client.get("/metering/find/", {"q": "ZZZ"}).content.decode()
    assert 'data-testid="found-nothing"' in nothing


def test_the_finder_never_shows_another_operators_connections(operator_a, admin_b, client_for):
    metered_connection(operator_a, number="AAL-0001", serial="WM-30001")
    page = client_for(admin_b).get("/metering/find/", {"q": "WM-30001"}).content.decode()
    assert "AAL-0001" not in page and 'data-testid="found-nothing"' in page
