"""The meters and stores pages: who may read and write them, receiving and moving meters on the pages, the printable
movement document, the report of movements and its CSV, the calibration chart, and another operator getting 404."""

import datetime

import pytest
from django.urls import reverse

from mita.accounts.roles import Role
from mita.core.navigation import cards_for
from mita.metering.models import Calibration, Meter, MeterModel, Movement, Store
from mita.metering.services_movements import meters_move, meters_receive
from mita.metering.tests.world import meter_model_of, store_of
from mita.testing.factories import member

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 3, 2)


@pytest.fixture
def storekeeper_a(operator_a):  # type: ignore[no-untyped-def]
    return member(Role.STOREKEEPER, operator_a, name="Kevin Keeper")


@pytest.fixture
def stock_a(operator_a):  # type: ignore[no-untyped-def]
    """A central store with WM-030001..WM-030005 received, a branch and a lab."""
    central = store_of(operator_a, "CEN", Store.Kind.CENTRAL)
    store_of(operator_a, "BR1", Store.Kind.BRANCH)
    store_of(operator_a, "LAB", Store.Kind.LAB)
    model = meter_model_of(operator_a)
    movement = meters_receive(
        operator=operator_a,
        store=central,
        meter_model=model,
        serials=[f"WM-03000{n}" for n in range(1, 6)],
        received_on=datetime.date(2021, 3, 1),
        supplier="Itron Africa",
        acting_user=None,
    ).movement
    return {"central": central, "model": model, "receipt": movement}


def test_storekeeper_receives_a_range_on_the_page_and_sees_the_document(operator_a, client_for, storekeeper_a, stock_a):
    client = client_for(storekeeper_a)
    form = {
        "store": stock_a["central"].pk,
        "meter_model": stock_a["model"].pk,
        "supplier": "Itron Africa",
        "received_on": "2026-02-01",
        "serial_from": "WM-030006",
        "serial_to": "WM-030010",
        "serials": "",
        "key": "page-key-1",
    }
    response = client.post(reverse("metering:meters_receive"), form)
    assert response.status_code == 302
    movement = Movement.objects.get(kind="receive", reference="", supplier="Itron Africa", moved_on="2026-02-01")
    assert response["Location"] == reverse("metering:movement_detail", args=[movement.pk])
    document = client.get(response["Location"]).content.decode()
    assert "WM-030010" in document and "Amazi Alpha Ltd" in document and 'data-testid="movement-print"' in document
    # the form sent again (the same key) is the same movement, not five more meters
    assert client.post(reverse("metering:meters_receive"), form)["Location"] == response["Location"]
    assert Meter.objects.filter(operator=operator_a).count() == 10
    # sent back with other serials under the same key: refused, and the form carries a new key for the next send
    changed = client.post(reverse("metering:meters_receive"), {**form, "serial_to": "WM-030011"})
    assert changed.status_code == 400 and "This key was used for another movement" in changed.content.decode()
    assert 'value="page-key-1"' not in changed.content.decode()


def test_a_clashing_batch_on_the_page_names_the_serials_and_saves_nothing(client_for, storekeeper_a, stock_a):
    response = client_for(storekeeper_a).post(
        reverse("metering:meters_receive"),
        {
            "store": stock_a["central"].pk,
            "meter_model": stock_a["model"].pk,
            "supplier": "Itron Africa",
            "received_on": "2026-02-01",
            "serials": "WM-030004\nWM-030099\nwm-030005",
        },
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "WM-030004, wm-030005" in body and "Nothing was received" in body
    assert not Meter.objects.filter(serial="WM-030099").exists()


def test_meters_are_moved_on_the_page_by_ticking_them_and_refused_with_the_names(client_for, storekeeper_a, stock_a):
    client = client_for(storekeeper_a)
    branch = Store.objects.get(code="BR1")
    detail = client.get(reverse("metering:meter_detail", args=[Meter.objects.get(serial="WM-030001").pk]))
    assert "kind=to_lab&amp;from_store=" in detail.content.decode()
    prefilled = client.get(
        reverse("metering:movement_create"),
        {"kind": "to_lab", "from_store": stock_a["central"].pk, "serials": "WM-030001"},
    ).content.decode()
    assert "WM-030001</textarea>" in prefilled and "5 meters in CEN can make this movement." in prefilled
    ticks = client.get(
        reverse("metering:movement_store_meters"), {"from_store": stock_a["central"].pk, "kind": "transfer"}
    ).content.decode()
    assert "WM-030001" in ticks and 'name="meter_ids"' in ticks
    ids = list(Meter.objects.filter(serial__in=["WM-030001", "WM-030002"]).values_list("pk", flat=True))
    form = {
        "kind": "transfer",
        "from_store": stock_a["central"].pk,
        "to_store": branch.pk,
        "moved_on": "2026-03-01",
        "serials": "WM-030003",
        "meter_ids": ids,
    }
    response = client.post(reverse("metering:movement_create"), form)
    assert response.status_code == 302
    assert set(Meter.objects.filter(store=branch).values_list("serial", flat=True)) == {
        "WM-030001",
        "WM-030002",
        "WM-030003",
    }
    again = client.post(reverse("metering:movement_create"), {**form, "meter_ids": [], "serials": "WM-030001\nXX-1"})
    body = again.content.decode()
    assert again.status_code == 400 and "WM-030001: not in CEN (BR1)" in body and "XX-1: no such meter" in body
    # what was ticked stays ticked on the form sent back
    fourth = Meter.objects.get(serial="WM-030004").pk
    kept = client.post(reverse("metering:movement_create"), {**form, "meter_ids": [fourth], "serials": "XX-1"})
    assert kept.status_code == 400 and f'value="{fourth}" checked' in kept.content.decode()
    assert Meter.objects.get(pk=fourth).store == stock_a["central"]


def test_the_report_counts_movements_by_kind_and_stores_and_downloads_as_csv(client_for, admin_a, operator_a, stock_a):
    branch = Store.objects.get(code="BR1")
    meters_move(
        operator=operator_a,
        kind="transfer",
        from_store=stock_a["central"],
        to_store=branch,
        serials=["WM-030001", "WM-030002"],
        moved_on=DAY,
        acting_user=None,
    )
    client = client_for(admin_a)
    query = {"date_from": "2021-01-01", "date_to": "2026-12-31"}
    page = client.get(reverse("metering:movement_report"), query).content.decode()
    assert "Sent to another store" in page and "Received from supplier" in page
    assert 'data-testid="report-meter-total">7<' in page  # 5 received + 2 sent
    csv = client.get(reverse("metering:movement_report"), {**query, "format": "csv"})
    assert csv["Content-Type"].startswith("text/csv")
    rows = csv.content.decode().splitlines()
    assert rows[0].startswith("document,date,kind") and len(rows) == 8
    assert any(",transfer,CEN,BR1," in row and "WM-030002" in row for row in rows)


def test_the_calibration_page_draws_the_months_and_records_a_result(client_for, storekeeper_a, stock_a):
    client = client_for(storekeeper_a)
    page = client.get(reverse("metering:calibration_due"), {"year": "2026"}).content.decode()
    assert "<svg" in page and page.count('data-testid="due-bar"') == 12
    assert "5 meters due in 2026" in page  # received 2021-03-01, every 60 months: March 2026
    response = client.post(
        reverse("metering:calibration_create"),
        {"meter": "wm-030001", "calibrated_on": "2026-02-20", "result": "passed", "error_percent": "0.5"},
    )
    assert response.status_code == 302
    assert Calibration.objects.get().meter.serial == "WM-030001"
    assert "4 meters due in 2026" in client.get(reverse("metering:calibration_due"), {"year": "2026"}).content.decode()
    bad = client.post(
        reverse("metering:calibration_create"), {"meter": "NOPE", "calibrated_on": "2026-02-20", "result": "passed"}
    )
    assert bad.status_code == 400 and "No meter has this serial." in bad.content.decode()


def test_a_model_with_meters_refuses_new_dial_digits_on_the_page_and_says_why(client_for, admin_a, stock_a):
    model = stock_a["model"]
    response = client_for(admin_a).post(
        reverse("metering:meter_model_edit", args=[model.pk]),
        {
            "brand": model.brand,
            "name": model.name,
            "utility": "water",
            "kind": "mechanical",
            "dial_digits": "4",
            "calibration_interval_months": "60",
            "active": "on",
            "registers-TOTAL_FORMS": "1",
            "registers-INITIAL_FORMS": "1",
            "registers-0-code": "main",
            "registers-0-unit": "m3",
            "registers-0-multiplier": "1",
        },
    )
    assert response.status_code == 400
    assert "5 meters of this model exist: their dials keep 5 digits" in response.content.decode()
    model.refresh_from_db()
    assert model.dial_digits == 5


def test_the_storekeeper_adds_a_model_with_registers_and_a_store(client_for, storekeeper_a, operator_a):
    client = client_for(storekeeper_a)
    response = client.post(
        reverse("metering:meter_model_create"),
        {
            "code": "HX-CT",
            "brand": "Hexing",
            "name": "HXE310",
            "utility": "electricity",
            "kind": "smart",
            "dial_digits": "6",
            "registers-TOTAL_FORMS": "3",
            "registers-INITIAL_FORMS": "0",
            "registers-0-code": "active",
            "registers-0-unit": "kWh",
            "registers-0-multiplier": "40",
            "registers-1-code": "reactive",
            "registers-1-unit": "kvarh",
            "registers-1-multiplier": "40",
        },
    )
    assert response.status_code == 302
    model = MeterModel.objects.get(code="HX-CT")
    assert [(r.code, str(r.multiplier)) for r in model.registers.all()] == [
        ("active", "40.0000"),
        ("reactive", "40.0000"),
    ]
    assert (
        client.post(reverse("metering:store_create"), {"code": "LAB2", "name": "Lab", "kind": "lab"}).status_code == 302
    )
    listing = client.get(reverse("metering:meter_model_list")).content.decode()
    assert "reactive (kvarh ×40)" in listing


def test_readers_read_writers_write_and_other_roles_are_refused(operator_a, client_for, stock_a):
    technician = client_for(member(Role.TECHNICIAN, operator_a))
    meter = Meter.objects.get(serial="WM-030001")
    detail = technician.get(reverse("metering:meter_detail", args=[meter.pk]))
    assert detail.status_code == 200 and "Received from supplier" in detail.content.decode()
    assert "Send to the lab" not in detail.content.decode()  # a reader sees no buttons to move it
    assert technician.get(reverse("metering:meter_list"), {"q": "wm-03000"}).status_code == 200
    assert technician.get(reverse("metering:meters_receive")).status_code == 403
    assert technician.post(reverse("metering:movement_create"), {}).status_code == 403
    care = member(Role.CUSTOMER_CARE, operator_a)
    assert client_for(care).get(reverse("metering:movement_list")).status_code == 200
    cashier = client_for(member(Role.CASHIER, operator_a))
    assert cashier.get(reverse("metering:meter_list")).status_code == 403
    keys = [card.key for card, _badge in cards_for(_Access(operator_a, {Role.BILLING_OFFICER}))]
    assert "metering.meters" in keys
    assert "metering.meters" not in [card.key for card, _b in cards_for(_Access(operator_a, {Role.CASHIER}))]


class _Access:
    def __init__(self, operator, roles):  # type: ignore[no-untyped-def]
        self.operator, self.roles, self.user = operator, frozenset(roles), None

    def has_role(self, *roles):  # type: ignore[no-untyped-def]
        return bool(self.roles & set(roles))

    def operator_ids(self):  # type: ignore[no-untyped-def]
        return [self.operator.pk]


def test_the_meter_list_filters_by_status_store_model_and_serial(client_for, admin_a, stock_a):
    client = client_for(admin_a)
    page = client.get(reverse("metering:meter_list"), {"q": "WM-030004"}).content.decode()
    assert "WM-030004" in page and "WM-030003" not in page
    page = client.get(reverse("metering:meter_list"), {"status": "installed"}).content.decode()
    assert "WM-030001" not in page
    page = client.get(reverse("metering:meter_list"), {"store": stock_a["central"].pk}, HTTP_HX_REQUEST="true")
    assert "WM-030005" in page.content.decode() and "<html" not in page.content.decode()


def test_the_global_search_finds_a_meter_by_the_start_of_its_serial(client_for, admin_a, admin_b, stock_a):
    meter = Meter.objects.get(serial="WM-030004")
    found = client_for(admin_a).get(reverse("core:search"), {"q": "wm-030004"}).content.decode()
    assert reverse("metering:meter_detail", args=[meter.pk]) in found and "Itron WM-030004" in found
    assert "WM-030004" not in client_for(admin_b).get(reverse("core:search"), {"q": "wm-030004"}).content.decode()


def test_another_operator_gets_404_on_every_page_with_an_object_of_a(client_for, admin_b, stock_a, operator_a):
    meter = Meter.objects.get(serial="WM-030001")
    outsider = client_for(admin_b)
    for name, args in [
        ("metering:meter_detail", [meter.pk]),
        ("metering:meter_model_edit", [stock_a["model"].pk]),
        ("metering:store_edit", [stock_a["central"].pk]),
        ("metering:movement_detail", [stock_a["receipt"].pk]),
    ]:
        assert outsider.get(reverse(name, args=args)).status_code == 404, name
    assert (
        outsider.get(reverse("metering:movement_store_meters"), {"from_store": stock_a["central"].pk}).status_code
        == 404
    )
    assert "WM-030001" not in outsider.get(reverse("metering:meter_list")).content.decode()
    assert (
        "WM-030001"
        not in outsider.get(reverse("metering:movement_report"), {"date_from": "2020-01-01"}).content.decode()
    )
    # a movement naming A's store from B's side is refused without moving anything
    response = outsider.post(
        reverse("metering:movement_create"),
        {"kind": "scrap", "from_store": stock_a["central"].pk, "moved_on": "2026-03-01", "serials": "WM-030001"},
    )
    assert response.status_code == 400
    assert Meter.objects.get(serial="WM-030001").status == Meter.Status.IN_STORE


def test_the_list_pages_do_not_grow_their_queries_with_their_rows(client_for, admin_a, operator_a, stock_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(admin_a)
    urls = [
        reverse("metering:meter_list"),
        reverse("metering:meter_model_list"),
        reverse("metering:store_list"),
        reverse("metering:movement_list"),
        reverse("metering:movement_report") + "?date_from=2020-01-01",
        reverse("metering:calibration_due") + "?year=2026",
    ]

    def counts() -> list[int]:
        found = []
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            found.append(len(queries))
        return found

    before = counts()
    # given more meters, models, stores and movements
    for number in range(2, 6):
        model = meter_model_of(operator_a, code=f"M{number}")
        store = store_of(operator_a, f"ST{number}", Store.Kind.BRANCH)
        meters_receive(
            operator=operator_a,
            store=store,
            meter_model=model,
            serials=[f"Q{number}-{n}" for n in range(6)],
            received_on=datetime.date(2021, 5, 1),
            supplier="Itron Africa",
            acting_user=None,
        )
    # then every list page runs the same number of queries
    assert counts() == before
