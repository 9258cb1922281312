"""Connection details: routes and reading sequences, meter chambers, billing cycles, and the land parcel filled from
the (fake) land registry by UPI; their pages, API, roles, and another operator's 404."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from mita.accounts.roles import Role
from mita.core.audit import audit_for
from mita.customers.models import Connection, MeterChamber, Route
from mita.customers.parcels import ParcelError, upi_clean
from mita.customers.services import CustomerError, connection_parcel_resolve, connection_update
from mita.customers.services_places import CodeTaken, chamber_create, chamber_update, route_create, route_update
from mita.customers.tests.world import clerk_of, connection_of, customer_of
from mita.integrations.landregistry.fake import FakeLandRegistry
from mita.registry.models import Cluster, ClusterAssignment, SupplySystem
from mita.testing.factories import member

pytestmark = pytest.mark.django_db

UPI = "5/01/02/03/1235"  # two owners in the fake's seed
API_KEY = "customers-test-land-key"


@pytest.fixture
def land_registry(settings):
    """The fake land registry on loopback, and Mita's settings pointing at it."""
    with FakeLandRegistry(api_key=API_KEY) as fake:
        settings.MITA_LAND_REGISTRY_BASE_URL = fake.base_url
        settings.MITA_LAND_REGISTRY_API_KEY = API_KEY
        settings.MITA_LAND_REGISTRY_TIMEOUT_SECONDS = 5  # generous: the test machine may be busy
        yield fake


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


# UPIs and the land registry ----------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["1/02/03/04/1234", " 5/01/02/03/7 ", "3 / 10 / 01 / 02 / 123456"])
def test_a_well_formed_upi_is_kept_without_spaces(raw):
    assert upi_clean(raw) == "".join(raw.split())


@pytest.mark.parametrize(
    "raw",
    ["", "1/2/3/4/1234", "6/02/03/04/1234", "1-02-03-04-1234", "1/02/03/04", "1/02/03/04/1234567", "a/02/03/04/1"],
)
def test_a_malformed_upi_is_refused_with_an_example(raw):
    with pytest.raises(ParcelError) as refused:
        upi_clean(raw)
    assert refused.value.code == "upi_invalid"
    assert "1/02/03/04/1234" in str(refused.value.message)


def test_a_connection_made_with_a_upi_keeps_what_the_land_registry_says(operator_a, land_registry):
    connection = connection_of(operator_a, customer_of(operator_a), parcel=connection_parcel_resolve(UPI))
    connection.refresh_from_db()
    assert connection.parcel_upi == UPI
    assert (connection.parcel_village, connection.parcel_cell, connection.parcel_sector) == (
        "Gasenga I",
        "Nyamata y'Umujyi",
        "Nyamata",
    )
    assert connection.parcel_district == "Bugesera"
    assert connection.parcel_area_m2 == Decimal("612.50")
    assert connection.parcel_land_use == "residential"
    assert connection.parcel_owner_name == "Emmanuel Habimana; Claudine Mukamana"
    assert connection.parcel_looked_up_at is not None
    assert connection.billing_cycle == Connection.BillingCycle.MONTHLY  # the default


def test_an_unknown_upi_is_refused_and_a_registry_that_is_down_keeps_the_upi_without_data(operator_a, land_registry):
    with pytest.raises(ParcelError) as unknown:
        connection_parcel_resolve("5/01/02/03/9999")
    assert unknown.value.code == "parcel_not_found"
    assert "5/01/02/03/9999" in str(unknown.value.message)
    land_registry.fail("http500")
    parcel = connection_parcel_resolve(UPI)
    assert (parcel.upi, parcel.record) == (UPI, None)
    assert "did not answer" in parcel.warning
    connection = connection_of(operator_a, customer_of(operator_a), parcel=parcel)
    connection.refresh_from_db()
    assert (connection.parcel_upi, connection.parcel_owner_name, connection.parcel_looked_up_at) == (UPI, "", None)


def test_a_second_look_up_that_fails_keeps_what_the_registry_said_before(operator_a, land_registry):
    connection = connection_of(operator_a, customer_of(operator_a), parcel=connection_parcel_resolve(UPI))
    land_registry.fail("http500")
    connection_update(connection=connection, acting_user=None, parcel=connection_parcel_resolve(UPI))
    connection.refresh_from_db()
    assert connection.parcel_owner_name == "Emmanuel Habimana; Claudine Mukamana"
    # and an empty UPI clears the parcel
    connection_update(connection=connection, acting_user=None, parcel=connection_parcel_resolve(""))
    connection.refresh_from_db()
    assert (connection.parcel_upi, connection.parcel_owner_name, connection.parcel_area_m2) == ("", "", None)


# Routes and reading sequences --------------------------------------------------------------------------------


def test_a_place_on_a_route_is_taken_once_among_live_connections(operator_a):
    route = route_create(operator=operator_a, code="R-01", name="Nyamata market", acting_user=None)
    customer = customer_of(operator_a)
    first = connection_of(operator_a, customer, "AAL-0001", route=route, reading_sequence=10)
    with pytest.raises(CustomerError) as taken:
        connection_of(operator_a, customer, "AAL-0002", route=route, reading_sequence=10)
    assert taken.value.code == "connection_invalid"
    assert "taken by connection AAL-0001" in taken.value.fields["reading_sequence"][0]
    assert not Connection.objects.filter(number="AAL-0002").exists()
    # the database refuses it too
    with pytest.raises(IntegrityError), transaction.atomic():
        Connection.objects.filter(pk=connection_of(operator_a, customer, "AAL-0003").pk).update(
            route=route, reading_sequence=10
        )
    # a terminated connection frees its place
    Connection.objects.filter(pk=first.pk).update(status=Connection.Status.TERMINATED)
    assert connection_of(operator_a, customer, "AAL-0004", route=route, reading_sequence=10).reading_sequence == 10


def test_a_sequence_needs_a_route_and_a_new_route_drops_the_old_place(operator_a):
    customer = customer_of(operator_a)
    with pytest.raises(CustomerError) as refused:
        connection_of(operator_a, customer, reading_sequence=5)
    assert "Choose the route first" in refused.value.fields["reading_sequence"][0]
    first = route_create(operator=operator_a, code="R-01", name="One", acting_user=None)
    second = route_create(operator=operator_a, code="R-02", name="Two", acting_user=None)
    connection = connection_of(operator_a, customer, route=first, reading_sequence=5)
    connection = connection_update(connection=connection, acting_user=None, route=second)
    assert (connection.route, connection.reading_sequence) == (second, None)
    assert audit_for(connection).first().after == {"route_id": second.pk, "reading_sequence": None}


def test_route_and_chamber_codes_are_unique_per_operator_whatever_their_case(operator_a, operator_b):
    route_create(operator=operator_a, code="R-01", name="One", acting_user=None)
    with pytest.raises(CodeTaken) as taken:
        route_create(operator=operator_a, code="r-01", name="Again", acting_user=None)
    assert taken.value.status == 409
    assert route_create(operator=operator_b, code="R-01", name="B's", acting_user=None).code == "R-01"
    chamber_create(operator=operator_a, code="CH-1", acting_user=None)
    with pytest.raises(CodeTaken):
        chamber_create(operator=operator_a, code="ch-1", acting_user=None)
    other = chamber_create(operator=operator_a, code="CH-2", acting_user=None)
    with pytest.raises(CodeTaken):
        chamber_update(chamber=other, acting_user=None, code="CH-1")
    with pytest.raises(CustomerError) as bad:
        route_create(operator=operator_a, code="R 02", name="Spaces", acting_user=None)
    assert bad.value.code == "code_invalid"


def test_another_operators_route_chamber_or_supply_system_is_refused(operator_a, operator_b):
    route_b = route_create(operator=operator_b, code="R-B", name="B", acting_user=None)
    chamber_b = chamber_create(operator=operator_b, code="CH-B", acting_user=None)
    customer = customer_of(operator_a)
    with pytest.raises(CustomerError) as refused:
        connection_of(operator_a, customer, route=route_b, chamber=chamber_b, billing_cycle="weekly")
    assert set(refused.value.fields) == {"route", "chamber", "billing_cycle"}
    cluster = Cluster.objects.create(name="B's cluster", code="BC1")
    ClusterAssignment.objects.create(
        operator=operator_b, cluster=cluster, starts_on="2025-01-01", expires_on="2099-01-01"
    )
    system_b = SupplySystem.objects.create(
        cluster=cluster, kind="water", technology="gravity", name="B's scheme", code="BS1"
    )
    with pytest.raises(CustomerError) as refused_system:
        route_create(operator=operator_a, code="R-1", name="x", supply_system=system_b, acting_user=None)
    assert refused_system.value.code == "supply_system_invalid"


def test_several_connections_share_a_chamber_and_the_chamber_gps_needs_both_coordinates(operator_a):
    chamber = chamber_create(
        operator=operator_a,
        code="CH-014",
        description="Pit by the market gate",
        latitude=Decimal("-2.1534"),
        longitude=Decimal("30.0921"),
        acting_user=None,
    )
    customer = customer_of(operator_a)
    for number in ("AAL-0001", "AAL-0002", "AAL-0003"):
        connection_of(operator_a, customer, number, chamber=chamber)
    assert chamber.connections.count() == 3
    assert chamber.latitude == Decimal("-2.153400")
    with pytest.raises(CustomerError) as refused:
        chamber_update(chamber=chamber, acting_user=None, latitude=None)
    assert "longitude" not in refused.value.fields and refused.value.fields["latitude"]
    route = route_update(
        route=route_create(operator=operator_a, code="R-9", name="Nine", acting_user=None),
        acting_user=None,
        name="Nine bis",
    )
    assert Route.objects.get(pk=route.pk).name == "Nine bis"
    assert [entry.action for entry in audit_for(route)] == ["route.updated", "route.created"]


# Pages -------------------------------------------------------------------------------------------------------


def test_a_clerk_adds_a_connection_with_route_chamber_cycle_and_parcel_on_the_form(
    operator_a, client_for, land_registry
):
    customer = customer_of(operator_a)
    route = route_create(operator=operator_a, code="R-01", name="Market", acting_user=None)
    chamber = chamber_create(operator=operator_a, code="CH-1", acting_user=None)
    client = client_for(clerk_of(operator_a))
    page = client.get(f"/customers/{customer.pk}/connections/new/").content.decode()
    assert 'data-testid="parcel-lookup"' in page and "R-01" in page
    # the look-up shows the parcel without touching the form
    lookup = client.get("/customers/parcels/lookup/", {"parcel_upi": UPI}, HTTP_HX_REQUEST="true")
    assert lookup.status_code == 200
    assert "Emmanuel Habimana; Claudine Mukamana" in lookup.content.decode()
    response = client.post(
        f"/customers/{customer.pk}/connections/new/",
        {
            "number": "AAL-0001",
            "utility": "water",
            "property_type": "residential",
            "route": route.pk,
            "reading_sequence": "20",
            "chamber": chamber.pk,
            "billing_cycle": "quarterly",
            "parcel_upi": UPI,
        },
    )
    assert response.status_code == 302
    connection = Connection.objects.get(number="AAL-0001")
    assert (connection.route, connection.reading_sequence, connection.chamber) == (route, 20, chamber)
    assert connection.billing_cycle == "quarterly"
    assert connection.parcel_owner_name == "Emmanuel Habimana; Claudine Mukamana"
    detail = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "R-01 #20" in detail and "Quarterly" in detail and UPI in detail


def test_a_look_up_that_fails_says_why_and_the_form_keeps_what_was_typed(operator_a, client_for, land_registry):
    customer = customer_of(operator_a)
    client = client_for(clerk_of(operator_a))
    bad = client.get("/customers/parcels/lookup/", {"parcel_upi": "1/2/3"}).content.decode()
    assert "five parts" in bad
    unknown = client.get("/customers/parcels/lookup/", {"parcel_upi": "5/01/02/03/9999"}).content.decode()
    assert "no parcel with UPI 5/01/02/03/9999" in unknown
    land_registry.fail("http500")
    down = client.get("/customers/parcels/lookup/", {"parcel_upi": UPI}).content.decode()
    assert "did not answer" in down
    # saving with an unknown UPI is refused on its field, and every value typed comes back
    response = client.post(
        f"/customers/{customer.pk}/connections/new/",
        {
            "number": "AAL-0007",
            "utility": "water",
            "property_type": "commercial",
            "connection_type": "DN20",
            "billing_cycle": "yearly",
            "parcel_upi": "5/01/02/03/9999",
        },
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert "no parcel with UPI" in form.errors["parcel_upi"][0]
    assert (form["number"].value(), form["connection_type"].value(), form["billing_cycle"].value()) == (
        "AAL-0007",
        "DN20",
        "yearly",
    )
    assert not Connection.objects.exists()


def test_the_edit_page_changes_details_but_never_the_number(operator_a, client_for, land_registry):
    connection = connection_of(operator_a, customer_of(operator_a))
    route = route_create(operator=operator_a, code="R-01", name="Market", acting_user=None)
    client = client_for(clerk_of(operator_a))
    assert client.get(f"/customers/connections/{connection.pk}/edit/").status_code == 200
    response = client.post(
        f"/customers/connections/{connection.pk}/edit/",
        {
            "number": "AAL-9999",
            "connection_type": "DN15",
            "metered": "on",
            "route": route.pk,
            "reading_sequence": "3",
            "billing_cycle": "bimonthly",
            "parcel_upi": "5/01/04/01/0087",
        },
    )
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.number == "AAL-0001"
    assert (connection.connection_type, connection.route, connection.reading_sequence) == ("DN15", route, 3)
    assert (connection.billing_cycle, connection.parcel_owner_name) == ("bimonthly", "Ruhuha Trading Ltd")


def test_route_and_chamber_pages_list_create_and_edit(operator_a, client_for):
    client = client_for(clerk_of(operator_a))
    assert client.post("/customers/routes/new/", {"code": "R-01", "name": "Market"}).status_code == 302
    route = Route.objects.get(operator=operator_a)
    assert (
        client.post(f"/customers/routes/{route.pk}/edit/", {"code": "R-01", "name": "Market lane"}).status_code == 302
    )
    assert "Market lane" in client.get("/customers/routes/").content.decode()
    duplicate = client.post("/customers/routes/new/", {"code": "r-01", "name": "Again"})
    assert duplicate.status_code == 400 and duplicate.context["form"].errors["code"]
    assert client.post("/customers/chambers/new/", {"code": "CH-1", "description": "Gate pit"}).status_code == 302
    chamber = MeterChamber.objects.get(operator=operator_a)
    response = client.post(f"/customers/chambers/{chamber.pk}/edit/", {"code": "CH-1", "latitude": "-2.1"})
    assert response.status_code == 400 and response.context["form"].errors["longitude"]
    assert "Gate pit" in client.get("/customers/chambers/").content.decode()


def test_a_cashier_reads_routes_but_cannot_write_and_an_outsider_gets_404(operator_a, admin_b, client_for):
    route = route_create(operator=operator_a, code="R-01", name="Market", acting_user=None)
    chamber = chamber_create(operator=operator_a, code="CH-1", acting_user=None)
    connection = connection_of(operator_a, customer_of(operator_a))
    cashier = client_for(member(Role.CASHIER, operator_a))
    assert cashier.get("/customers/routes/").status_code == 200
    assert cashier.get("/customers/routes/new/").status_code == 403
    assert cashier.get(f"/customers/connections/{connection.pk}/edit/").status_code == 403
    assert post(cashier, "/api/v1/routes", {"code": "R-2", "name": "x"}).status_code == 403
    outsider = client_for(admin_b)
    for url in (
        f"/customers/routes/{route.pk}/edit/",
        f"/customers/chambers/{chamber.pk}/edit/",
        f"/customers/connections/{connection.pk}/edit/",
        f"/api/v1/routes/{route.pk}",
        f"/api/v1/chambers/{chamber.pk}",
    ):
        assert outsider.get(url).status_code == 404, url
    assert patch(outsider, f"/api/v1/routes/{route.pk}", {"name": "Mine"}).status_code == 404
    assert "Market" not in outsider.get("/customers/routes/").content.decode()
    # nor may an outsider put their connection on A's route
    response = patch(
        outsider, f"/api/v1/connections/{connection_of(operator_a, customer_of(operator_a), 'AAL-2').pk}", {}
    )
    assert response.status_code == 404


# API ---------------------------------------------------------------------------------------------------------


def test_the_api_makes_routes_and_chambers_and_a_connection_with_its_details(operator_a, client_for, land_registry):
    client = client_for(clerk_of(operator_a))
    route = post(client, "/api/v1/routes", {"code": "R-01", "name": "Market"})
    assert route.status_code == 201, route.json()
    chamber = post(client, "/api/v1/chambers", {"code": "CH-1", "latitude": "-2.15", "longitude": "30.09"})
    assert chamber.status_code == 201 and chamber.json()["latitude"] == "-2.150000"
    customer = customer_of(operator_a)
    response = post(
        client,
        "/api/v1/connections",
        {
            "customer_id": customer.pk,
            "number": "AAL-0001",
            "utility": "water",
            "property_type": "residential",
            "route_id": route.json()["id"],
            "reading_sequence": 10,
            "chamber_id": chamber.json()["id"],
            "billing_cycle": "half_yearly",
            "parcel_upi": UPI,
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["route_id"], body["reading_sequence"], body["billing_cycle"]) == (
        route.json()["id"],
        10,
        "half_yearly",
    )
    assert body["parcel"]["owner_name"] == "Emmanuel Habimana; Claudine Mukamana"
    assert body["parcel"]["area_m2"] == "612.50"
    assert client.get("/api/v1/routes").json()["items"][0]["connection_count"] == 1
    # the same place on the route is refused with the connection holding it
    clash = post(
        client,
        "/api/v1/connections",
        {
            "customer_id": customer.pk,
            "number": "AAL-0002",
            "utility": "water",
            "property_type": "residential",
            "route_id": route.json()["id"],
            "reading_sequence": 10,
        },
    )
    assert clash.status_code == 400
    assert "AAL-0001" in clash.json()["error"]["fields"]["reading_sequence"][0]
    # a PATCH moves it to another cycle and clears its parcel
    moved = patch(client, f"/api/v1/connections/{body['id']}", {"billing_cycle": "yearly", "parcel_upi": ""})
    assert moved.status_code == 200
    assert (moved.json()["billing_cycle"], moved.json()["parcel"]) == ("yearly", None)


def test_the_api_looks_a_parcel_up_and_says_when_the_registry_is_down(operator_a, client_for, land_registry):
    client = client_for(clerk_of(operator_a))
    found = client.get("/api/v1/land-parcels", {"upi": UPI})
    assert found.status_code == 200 and found.json()["district"] == "Bugesera"
    assert client.get("/api/v1/land-parcels", {"upi": "12345"}).json()["error"]["code"] == "upi_invalid"
    unknown = client.get("/api/v1/land-parcels", {"upi": "5/01/02/03/9999"})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (400, "parcel_not_found")
    land_registry.fail("http500")
    down = client.get("/api/v1/land-parcels", {"upi": UPI})
    assert (down.status_code, down.json()["error"]["code"]) == (503, "registry_unreachable")
    wrong_key = land_registry.api_key
    land_registry.api_key = "rotated"
    refused = client.get("/api/v1/land-parcels", {"upi": UPI})
    land_registry.api_key = wrong_key
    assert refused.json()["error"]["code"] == "registry_refused"
