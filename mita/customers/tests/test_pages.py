"""The customer pages: the list and its prefix search, registering a customer, their page, status changes,
adding a connection with opening arrears; roles, and another operator's 404 on every page."""

from decimal import Decimal

import pytest

from mita.accounts.roles import Role
from mita.customers.models import Connection, Customer
from mita.customers.tests.world import clerk_of, connection_of, customer_of
from mita.ledger.selectors import holder_balance
from mita.testing.factories import member

pytestmark = pytest.mark.django_db

CONNECTION = {"number": "AAL-0001", "utility": "water", "property_type": "residential", "metered": "on"}


def test_a_clerk_registers_a_customer_and_lands_on_their_page(operator_a, district_a, client_for):
    client = client_for(clerk_of(operator_a))
    assert client.get("/customers/new/").status_code == 200
    response = client.post(
        "/customers/new/",
        {
            "kind": "person",
            "name": "Jeanne Uwase",
            "phone": "0788 123 456",
            "district": district_a.pk,
            "village": "Nyamata",
        },
    )
    customer = Customer.objects.get(operator=operator_a)
    assert response.status_code == 302 and response.url == f"/customers/{customer.pk}/"
    page = client.get(response.url).content.decode()
    assert "AAL-C-000001" in page and "+250788123456" in page and "Nyamata" in page


def test_a_bad_phone_is_shown_on_its_field_and_saves_nothing(operator_a, client_for):
    response = client_for(clerk_of(operator_a)).post("/customers/new/", {"kind": "person", "name": "X", "phone": "12"})
    assert response.status_code == 400 and response.context["form"].errors["phone"]
    assert not Customer.objects.exists()


def test_adding_a_connection_with_arrears_links_to_its_account(operator_a, client_for):
    customer = customer_of(operator_a)
    client = client_for(clerk_of(operator_a))
    assert client.get(f"/customers/{customer.pk}/connections/new/").status_code == 200
    response = client.post(
        f"/customers/{customer.pk}/connections/new/",
        CONNECTION | {"opening_arrears": "2500", "arrears_as_of": "2026-01-31"},
    )
    assert response.status_code == 302
    assert holder_balance(operator=operator_a, holder="AAL-0001", purpose="receivable") == Decimal("2500")
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'href="/payments/accounts/AAL-0001/"' in page


def test_a_duplicate_connection_number_is_refused_on_the_form(operator_a, client_for):
    connection_of(operator_a, customer_of(operator_a))
    other = customer_of(operator_a, name="Eric Habimana", phone="+250722000999")
    response = client_for(clerk_of(operator_a)).post(
        f"/customers/{other.pk}/connections/new/", CONNECTION | {"number": "aal-0001"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["number"] == ["Already in use."]
    assert "already in use at your operator" in response.content.decode()
    assert Connection.objects.count() == 1


def test_arrears_without_their_date_are_refused_and_nothing_is_made(operator_a, client_for):
    customer = customer_of(operator_a)
    response = client_for(clerk_of(operator_a)).post(
        f"/customers/{customer.pk}/connections/new/", CONNECTION | {"opening_arrears": "2500"}
    )
    assert response.status_code == 400 and response.context["form"].errors["arrears_as_of"]
    assert not Connection.objects.exists()


def test_a_status_change_with_its_reason_shows_in_the_history(operator_a, client_for):
    customer = customer_of(operator_a)
    client = client_for(clerk_of(operator_a))
    refused = client.post(f"/customers/{customer.pk}/status/", {"status": "banned", "reason": ""})
    assert refused.status_code == 400
    response = client.post(f"/customers/{customer.pk}/status/", {"status": "banned", "reason": "Illegal connection"})
    assert response.status_code == 302
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "Illegal connection" in page and "Banned" in page


def test_a_clerk_corrects_the_name_and_address_but_not_the_phone_on_the_edit_page(operator_a, client_for):
    customer = customer_of(operator_a, name="Jeane Uwase")
    client = client_for(clerk_of(operator_a))
    form = client.get(f"/customers/{customer.pk}/edit/").content.decode()
    assert 'value="Jeane Uwase"' in form and 'name="phone"' not in form and 'name="email"' not in form
    # a bad bank account is shown on its field and nothing changes
    refused = client.post(
        f"/customers/{customer.pk}/edit/",
        {"kind": "person", "name": "Jeanne Uwase", "bank_name": "", "bank_account": "12345678"},
    )
    assert refused.status_code == 400
    customer.refresh_from_db()
    assert customer.name == "Jeane Uwase"
    # a phone sent anyway is not a field of the form: it changes nothing
    saved = client.post(
        f"/customers/{customer.pk}/edit/",
        {"kind": "person", "name": "Jeanne Uwase", "village": "Gashora", "phone": "+250722999999"},
    )
    assert saved.status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.village, customer.phone) == ("Jeanne Uwase", "Gashora", "+250788123456")
    assert "Jeanne Uwase" in client.get("/customers/", {"q": "Jeanne"}).content.decode()


def test_the_list_searches_by_prefix_and_shows_only_matches(operator_a, client_for):
    customer_of(operator_a, name="Jeanne Uwase")
    eric = customer_of(operator_a, name="Eric Habimana", phone="+250722000111")
    connection_of(operator_a, eric, "KIG-77")
    client = client_for(clerk_of(operator_a))
    page = client.get("/customers/", {"q": "kig"}).content.decode()
    assert "Eric Habimana" in page and "Jeanne Uwase" not in page
    page = client.get("/customers/").content.decode()
    assert "Eric Habimana" in page and "Jeanne Uwase" in page


@pytest.mark.parametrize("role", [Role.CASHIER, Role.BILLING_OFFICER])
def test_read_roles_see_customers_but_may_not_change_them(operator_a, client_for, role):
    customer = customer_of(operator_a)
    client = client_for(member(role, operator_a, name="Reader"))
    assert client.get("/customers/").status_code == 200
    assert client.get(f"/customers/{customer.pk}/").status_code == 200
    assert client.get("/customers/new/").status_code == 403
    assert client.post(f"/customers/{customer.pk}/status/", {"status": "banned", "reason": "x"}).status_code == 403
    assert client.post(f"/customers/{customer.pk}/edit/", {"kind": "person", "name": "X"}).status_code == 403
    assert client.post(f"/customers/{customer.pk}/connections/new/", CONNECTION).status_code == 403
    assert Connection.objects.count() == 0 and Customer.objects.get().status == "active"


def test_other_roles_may_not_open_the_customer_pages(operator_a, client_for):
    client = client_for(member(Role.TREASURER, operator_a, name="Tom"))
    assert client.get("/customers/").status_code == 403


def test_home_cards_show_for_customer_roles(operator_a, client_for):
    page = client_for(clerk_of(operator_a)).get("/").content.decode()
    assert 'href="/customers/"' in page and 'href="/customers/new/"' in page


@pytest.mark.parametrize(
    "url",
    ["/customers/{pk}/", "/customers/{pk}/edit/", "/customers/{pk}/status/", "/customers/{pk}/connections/new/"],
)
def test_another_operators_customer_pages_are_404(operator_a, admin_b, client_for, url):
    customer = customer_of(operator_a)
    outsider = client_for(admin_b)
    assert outsider.get(url.format(pk=customer.pk)).status_code == 404
    assert (
        outsider.post(url.format(pk=customer.pk), CONNECTION | {"status": "banned", "reason": "x"}).status_code == 404
    )
    customer.refresh_from_db()
    assert customer.status == "active" and customer.name != "X" and not Connection.objects.exists()


def test_another_operators_customers_are_not_in_the_list(operator_a, admin_b, client_for):
    customer_of(operator_a, name="Secret Jeanne")
    page = client_for(admin_b).get("/customers/", {"q": "Secret"}).content.decode()
    assert "Secret Jeanne" not in page
