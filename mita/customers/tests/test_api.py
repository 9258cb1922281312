"""The customers API: registering, reading and changing customers; connections with their numbers and arrears."""

import pytest

from mita.accounts.roles import Role
from mita.customers.models import Connection, Customer
from mita.customers.tests.world import clerk_of, connection_of, customer_of
from mita.ledger.selectors import holder_balance
from mita.testing.factories import member

pytestmark = pytest.mark.django_db


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


def test_a_clerk_registers_a_customer_and_a_connection_with_opening_arrears(operator_a, district_a, client_for):
    client = client_for(clerk_of(operator_a))
    # when a customer is registered
    response = post(
        client,
        "/api/v1/customers",
        {"name": "Jeanne Uwase", "phone": "0788123456", "language": "rw", "district_id": district_a.pk},
    )
    # then they get the next number and an E.164 phone
    assert response.status_code == 201, response.json()
    customer = response.json()
    assert (customer["number"], customer["phone"], customer["district_id"]) == (
        "AAL-C-000001",
        "+250788123456",
        district_a.pk,
    )
    # when a connection with 4,500 of arrears is added to them
    response = post(
        client,
        "/api/v1/connections",
        {
            "customer_id": customer["id"],
            "number": "AAL-0001",
            "utility": "water",
            "property_type": "public_tap",
            "latitude": "-2.1534",
            "longitude": "30.0921",
            "opening_arrears": "4500",
            "arrears_as_of": "2026-01-31",
        },
    )
    assert response.status_code == 201, response.json()
    assert response.json()["customer_number"] == "AAL-C-000001"
    assert response.json()["latitude"] == "-2.153400"
    # then the account owes it
    assert holder_balance(operator=operator_a, holder="AAL-0001", purpose="receivable") == 4500


def test_a_duplicate_connection_number_is_a_409_with_a_clear_message(operator_a, client_for):
    connection_of(operator_a, customer_of(operator_a), "AAL-0001")
    other = customer_of(operator_a, name="Eric", phone="+250722000999")
    response = post(
        client_for(clerk_of(operator_a)),
        "/api/v1/connections",
        {"customer_id": other.pk, "number": " aal-0001 ", "utility": "water", "property_type": "residential"},
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "connection_number_taken"
    assert "aal-0001" in error["message"] and error["fields"] == {"number": ["Already in use."]}


def test_bad_customer_data_is_a_400_naming_each_field(operator_a, client_for):
    response = post(
        client_for(clerk_of(operator_a)), "/api/v1/customers", {"name": "X", "phone": "12", "email": "nope"}
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"phone", "email"}
    assert not Customer.objects.exists()


def test_patch_changes_name_and_address_but_refuses_the_customer_number(operator_a, client_for):
    # (phones and e-mail change only with the customer's code: test_contact_changes.py)
    customer = customer_of(operator_a)
    client = client_for(clerk_of(operator_a))
    response = patch(
        client, f"/api/v1/customers/{customer.pk}", {"name": "Jeanne Uwase Mukamana", "village": "Nyamata"}
    )
    assert response.status_code == 200
    assert (response.json()["phone"], response.json()["village"], response.json()["name"]) == (
        "+250788123456",
        "Nyamata",
        "Jeanne Uwase Mukamana",
    )
    response = patch(client, f"/api/v1/customers/{customer.pk}", {"number": "AAL-C-999999", "village": "Other"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "number_not_editable"
    customer.refresh_from_db()
    assert (customer.number, customer.village) == ("AAL-C-000001", "Nyamata")


def test_patch_refuses_a_connection_number_with_a_clear_400(operator_a, client_for):
    connection = connection_of(operator_a, customer_of(operator_a))
    client = client_for(clerk_of(operator_a))
    response = patch(client, f"/api/v1/connections/{connection.pk}", {"number": "AAL-0002"})
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "number_not_editable",
        "message": "A connection number cannot be changed once the connection exists.",
        "fields": {"number": ["Not editable."]},
    }
    response = patch(client, f"/api/v1/connections/{connection.pk}", {"metered": False, "connection_type": "DN15"})
    assert response.status_code == 200 and response.json()["metered"] is False
    assert Connection.objects.get(pk=connection.pk).number == "AAL-0001"


def test_lists_search_by_prefix_of_number_connection_name_and_phone(operator_a, client_for):
    jeanne = customer_of(operator_a, name="Jeanne Uwase", phone="+250788123456")
    eric = customer_of(operator_a, name="Eric Habimana", phone="+250722000111")
    connection_of(operator_a, eric, "KIG-77")
    client = client_for(clerk_of(operator_a))

    def found(term):
        response = client.get("/api/v1/customers", {"q": term})
        assert response.status_code == 200
        return {item["number"] for item in response.json()["items"]}

    assert found("jea") == {jeanne.number}
    assert found("kig-7") == {eric.number}
    assert found("AAL-C-00000") == {jeanne.number, eric.number}
    assert found("0722") == {eric.number}
    assert found("+25078812") == {jeanne.number}
    assert found("Uwase") == {jeanne.number}  # any word of the name (mita.customers.search)
    response = client.get("/api/v1/connections", {"customer_id": eric.pk})
    assert [item["number"] for item in response.json()["items"]] == ["KIG-77"]


def test_read_roles_read_and_only_admin_and_customer_care_write(operator_a, client_for):
    customer = customer_of(operator_a)
    cashier = client_for(member(Role.CASHIER, operator_a, name="Carla"))
    assert cashier.get(f"/api/v1/customers/{customer.pk}").status_code == 200
    assert post(cashier, "/api/v1/customers", {"name": "X", "phone": "+250788000999"}).status_code == 403
    assert patch(cashier, f"/api/v1/customers/{customer.pk}", {"village": "X"}).status_code == 403
    treasurer = client_for(member(Role.TREASURER, operator_a, name="Tom"))
    assert treasurer.get("/api/v1/customers").status_code == 403
    admin = client_for(member(Role.OPERATOR_ADMIN, operator_a, name="Ann"))
    assert post(admin, "/api/v1/customers", {"name": "X", "phone": "+250788000999"}).status_code == 201


def test_another_operators_customer_and_connection_are_404_on_every_endpoint(operator_a, admin_b, client_for):
    customer = customer_of(operator_a)
    connection = connection_of(operator_a, customer)
    outsider = client_for(admin_b)
    assert outsider.get(f"/api/v1/customers/{customer.pk}").status_code == 404
    assert patch(outsider, f"/api/v1/customers/{customer.pk}", {"village": "X"}).status_code == 404
    assert outsider.get(f"/api/v1/connections/{connection.pk}").status_code == 404
    assert patch(outsider, f"/api/v1/connections/{connection.pk}", {"metered": False}).status_code == 404
    assert outsider.get("/api/v1/connections", {"customer_id": customer.pk}).status_code == 404
    assert outsider.get("/api/v1/customers").json()["items"] == []
    assert outsider.get("/api/v1/connections").json()["items"] == []
    # and B cannot hang a connection on A's customer
    response = post(
        outsider,
        "/api/v1/connections",
        {"customer_id": customer.pk, "number": "BWC-1", "utility": "water", "property_type": "residential"},
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "customer_id_invalid"
    assert Connection.objects.count() == 1
