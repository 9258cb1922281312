"""The customer 360 page: its general data and panels, a panel registered by another app appearing without touching
the page, roles, lazy panels, service notes (page and API), contract history, the overview API, and another
operator's 404 on every new URL."""

import datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from mita.accounts.roles import Role
from mita.customers.models import ConnectionHolding, ServiceNote
from mita.customers.notes import service_note_add
from mita.customers.panels import Panel, panels_for, register_panel, unregister_panel
from mita.customers.tests.world import clerk_of, connection_of, customer_of
from mita.testing.factories import member

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _test_panel_context(access, customer):
    return {"greeting": f"Hello from the test panel to {customer.number}"}


def _test_panel_counts(access, customer):
    return {"open_requests": 3, "test_widgets": 2}


@pytest.fixture
def test_panel():
    """A panel another app would register from its AppConfig.ready(), seen by operator admins only."""
    panel = Panel(
        key="testing.widgets",
        title="Widgets",
        template="customers/tests/test_panel.html",
        context=_test_panel_context,
        roles=frozenset({Role.OPERATOR_ADMIN}),
        order=5,
        counts=_test_panel_counts,
    )
    register_panel(panel)
    yield panel
    unregister_panel(panel.key)


@pytest.fixture
def test_panel_template(settings, tmp_path):
    directory = tmp_path / "customers" / "tests"
    directory.mkdir(parents=True)
    (directory / "test_panel.html").write_text('<p data-testid="greeting">{{ greeting }}</p>')
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0].get("DIRS", []), str(tmp_path)]},
        *settings.TEMPLATES[1:],
    ]


def test_the_page_shows_general_data_and_every_panel_the_clerk_sees(operator_a, client_for):
    # given Jeanne with two connections
    customer = customer_of(operator_a, village="Nyamata")
    connection_of(operator_a, customer, "AAL-0001")
    connection_of(operator_a, customer, "AAL-0002", utility="electricity")
    # when her customer care clerk opens her page
    page = client_for(clerk_of(operator_a)).get(f"/customers/{customer.pk}/").content.decode()
    # then it shows her general data, contacts, connections and each panel, in order
    assert "AAL-C-000001" in page and "+250788123456" in page and "Nyamata" in page
    assert 'data-testid="connection-row-AAL-0001"' in page and 'data-testid="connection-row-AAL-0002"' in page
    keys = [
        "customers.contacts",
        "payments.debt",
        "customers.connections",
        "customers.notes",
        "payments.recent",
        "payments.charges",
        "payments.chart",
        "customers.contracts",
        "customers.status",
    ]
    positions = [page.index(f'data-testid="panel-{key}"') for key in keys]
    assert positions == sorted(positions)


def test_a_panel_registered_by_another_app_appears_with_its_count(
    operator_a, admin_a, client_for, test_panel, test_panel_template
):
    customer = customer_of(operator_a)
    page = client_for(admin_a).get(f"/customers/{customer.pk}/").content.decode()
    # the panel is there, rendered with its context, before the contacts (its order is 5)
    assert f"Hello from the test panel to {customer.number}" in page
    assert page.index('data-testid="panel-testing.widgets"') < page.index('data-testid="panel-customers.contacts"')
    # its counts show in the top strip: a known label and one of its own
    assert 'data-testid="count-open_requests">3<' in page and "Open requests" in page
    assert 'data-testid="count-test_widgets">2<' in page and "Test widgets" in page
    # a count no app contributes is not shown
    assert "count-anomalies" not in page and "Anomalies" not in page
    assert "count-unpaid_bills" not in page


def test_a_panel_is_shown_only_to_the_roles_it_names(operator_a, admin_a, client_for, test_panel, test_panel_template):
    customer = customer_of(operator_a)
    clerk = client_for(clerk_of(operator_a))
    page = clerk.get(f"/customers/{customer.pk}/").content.decode()
    # the clerk sees neither the panel nor its counts (servicing's own open-requests count, 0 here, is not the panel's 3)
    assert (
        "panel-testing.widgets" not in page
        and "count-test_widgets" not in page
        and 'count-open_requests">3<' not in page
    )
    # and cannot load it on its own
    assert clerk.get(f"/customers/{customer.pk}/panels/testing.widgets/").status_code == 404
    assert client_for(admin_a).get(f"/customers/{customer.pk}/panels/testing.widgets/").status_code == 200


class _Roles:
    """Just enough of an Access for panels_for: the roles."""

    def __init__(self, *roles: str) -> None:
        self.roles = frozenset(roles)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))


def test_panels_for_filters_by_role_and_orders_by_order_then_key(operator_a, test_panel):
    customer = customer_of(operator_a)
    keys = [panel.key for panel in panels_for(_Roles(Role.OPERATOR_ADMIN), customer)]
    assert keys[0] == "testing.widgets"
    assert keys.index("customers.contacts") < keys.index("payments.debt") < keys.index("customers.connections")
    assert "testing.widgets" not in [panel.key for panel in panels_for(_Roles(Role.CUSTOMER_CARE), customer)]
    assert panels_for(_Roles(Role.TECHNICIAN), customer) == []


def test_a_key_is_registered_once(test_panel):
    register_panel(test_panel)  # the same panel again: harmless
    with pytest.raises(ValueError, match=r"testing\.widgets"):
        register_panel(
            Panel(
                key="testing.widgets", title="Other", template="x.html", context=_test_panel_context, roles=frozenset()
            )
        )


def test_a_lazy_panel_is_left_for_htmx_and_loads_on_its_own(operator_a, client_for):
    customer = customer_of(operator_a)
    connection_of(operator_a, customer)
    client = client_for(clerk_of(operator_a))
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    # the chart is not rendered in the page, only asked for
    assert f'hx-get="/customers/{customer.pk}/panels/payments.chart/"' in page
    assert 'data-testid="billing-history"' not in page
    # htmx gets the panel alone; a browser without scripts a page around it
    part = client.get(f"/customers/{customer.pk}/panels/payments.chart/", **HTMX).content.decode()
    assert 'data-testid="billing-history"' in part and "<html" not in part
    whole = client.get(f"/customers/{customer.pk}/panels/payments.chart/").content.decode()
    assert 'data-testid="billing-history"' in whole and "<html" in whole


def test_an_unknown_panel_is_a_404(operator_a, client_for):
    customer = customer_of(operator_a)
    assert client_for(clerk_of(operator_a)).get(f"/customers/{customer.pk}/panels/no.such/").status_code == 404


# Service notes ------------------------------------------------------------------------------------------------


def test_a_cashier_adds_a_note_with_htmx_and_sees_it_in_the_panel(operator_a, client_for):
    customer = customer_of(operator_a)
    water = connection_of(operator_a, customer)
    cashier = member(Role.CASHIER, operator_a, name="Cathy Cashier")
    response = client_for(cashier).post(
        f"/customers/{customer.pk}/notes/",
        {"text": "Promised to pay the arrears on Friday.", "connection": water.pk},
        **HTMX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="panel-customers-notes"' in body and "Promised to pay the arrears on Friday." in body
    assert "Cathy Cashier" in body and "AAL-0001" in body
    note = ServiceNote.objects.get()
    assert (note.customer, note.connection, note.author, note.operator) == (customer, water, cashier, operator_a)


def test_a_plain_form_note_goes_back_to_the_page(operator_a, client_for):
    customer = customer_of(operator_a)
    client = client_for(clerk_of(operator_a))
    response = client.post(f"/customers/{customer.pk}/notes/", {"text": "Called about a leak."})
    assert response.status_code == 302 and response.url == f"/customers/{customer.pk}/"
    assert "Called about a leak." in client.get(response.url).content.decode()


def test_an_empty_note_is_refused_and_saves_nothing(operator_a, client_for):
    customer = customer_of(operator_a)
    client = client_for(clerk_of(operator_a))
    response = client.post(f"/customers/{customer.pk}/notes/", {"text": "   "})
    assert response.status_code == 400 and "Write the note." in response.content.decode()
    # htmx swaps only a 2xx: the panel with the error comes back as a 200
    response = client.post(f"/customers/{customer.pk}/notes/", {"text": ""}, **HTMX)
    assert response.status_code == 200 and 'class="field' in response.content.decode()
    assert not ServiceNote.objects.exists()


def test_a_note_about_another_customers_connection_is_refused(operator_a, client_for):
    customer = customer_of(operator_a)
    other = customer_of(operator_a, name="Eric Habimana", phone="+250722000999")
    theirs = connection_of(operator_a, other, "AAL-0009")
    response = client_for(clerk_of(operator_a)).post(
        f"/customers/{customer.pk}/notes/", {"text": "About the meter", "connection": theirs.pk}
    )
    assert response.status_code == 400 and not ServiceNote.objects.exists()


def test_notes_are_append_only(operator_a):
    note = service_note_add(customer=customer_of(operator_a), text="First visit", acting_user=None)
    with pytest.raises(DatabaseError), transaction.atomic():
        ServiceNote.objects.filter(pk=note.pk).update(text="Rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        ServiceNote.objects.filter(pk=note.pk).delete()
    assert ServiceNote.objects.get().text == "First visit"


def test_the_api_adds_a_note_and_the_overview_lists_it(operator_a, client_for):
    customer = customer_of(operator_a)
    water = connection_of(operator_a, customer)
    client = client_for(clerk_of(operator_a, name="Cleo Care"))
    response = client.post(
        f"/api/v1/customers/{customer.pk}/notes",
        {"text": "Meter seal broken", "connection_id": water.pk},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["connection"], response.json()["author"]) == ("AAL-0001", "Cleo Care")
    overview = client.get(f"/api/v1/customers/{customer.pk}/overview").json()
    assert overview["customer"]["number"] == "AAL-C-000001"
    assert [note["text"] for note in overview["panels"]["customers.notes"]["notes"]] == ["Meter seal broken"]
    assert overview["panels"]["customers.connections"]["connections"][0]["number"] == "AAL-0001"


def test_the_api_refuses_an_empty_note_saying_which_field(operator_a, client_for):
    customer = customer_of(operator_a)
    response = client_for(clerk_of(operator_a)).post(
        f"/api/v1/customers/{customer.pk}/notes", {"text": ""}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "note_required" and "text" in response.json()["error"]["fields"]


def test_roles_that_do_not_read_customers_get_403(operator_a, client_for):
    customer = customer_of(operator_a)
    technician = client_for(member(Role.TECHNICIAN, operator_a))
    assert technician.get(f"/customers/{customer.pk}/panels/customers.notes/").status_code == 403
    assert technician.post(f"/customers/{customer.pk}/notes/", {"text": "x"}).status_code == 403
    assert technician.get(f"/api/v1/customers/{customer.pk}/overview").status_code == 403
    assert not ServiceNote.objects.exists()


# Contract history ---------------------------------------------------------------------------------------------


def test_contract_history_shows_every_holder_of_the_customers_connections(operator_a, client_for):
    # given a connection Eric held until last year, now Jeanne's
    jeanne = customer_of(operator_a)
    eric = customer_of(operator_a, name="Eric Habimana", phone="+250722000999")
    water = connection_of(operator_a, jeanne, starts_on=datetime.date(2026, 1, 1))
    ConnectionHolding.objects.create(
        operator=operator_a,
        connection=water,
        customer=eric,
        starts_on=datetime.date(2020, 5, 1),
        ends_on=datetime.date(2025, 12, 31),
    )
    page = client_for(clerk_of(operator_a)).get(f"/customers/{jeanne.pk}/").content.decode()
    history = page[page.index('data-testid="contract-history"') :]
    assert "2020-05-01" in history and "2025-12-31" in history and "Eric Habimana" in history
    assert "2026-01-01" in history
    # and Eric's page shows the connection he held
    eric_page = client_for(clerk_of(operator_a, name="Other Clerk")).get(f"/customers/{eric.pk}/").content.decode()
    assert "AAL-0001" in eric_page[eric_page.index('data-testid="contract-history"') :]


# Queries and tenancy ------------------------------------------------------------------------------------------


def test_the_page_does_not_grow_its_queries_with_the_connections(operator_a, client_for):
    customer = customer_of(operator_a)
    connection_of(operator_a, customer, "AAL-0001")
    client = client_for(clerk_of(operator_a))
    client.get(f"/customers/{customer.pk}/")  # warm the session and the chart of accounts
    with CaptureQueriesContext(connection) as one:
        assert client.get(f"/customers/{customer.pk}/").status_code == 200
    for number in ("AAL-0002", "AAL-0003", "AAL-0004"):
        connection_of(operator_a, customer, number)
    with CaptureQueriesContext(connection) as four:
        assert client.get(f"/customers/{customer.pk}/").status_code == 200
    assert len(four) == len(one)


def test_another_operators_user_gets_404_on_every_new_url(operator_a, admin_b, client_for):
    customer = customer_of(operator_a)
    connection_of(operator_a, customer)
    outsider = client_for(admin_b)
    assert outsider.get(f"/customers/{customer.pk}/").status_code == 404
    assert outsider.get(f"/customers/{customer.pk}/panels/customers.notes/").status_code == 404
    assert outsider.get(f"/customers/{customer.pk}/panels/payments.chart/", **HTMX).status_code == 404
    assert outsider.post(f"/customers/{customer.pk}/notes/", {"text": "Sneaky"}).status_code == 404
    assert outsider.get(f"/api/v1/customers/{customer.pk}/overview").status_code == 404
    response = outsider.post(
        f"/api/v1/customers/{customer.pk}/notes", {"text": "Sneaky"}, content_type="application/json"
    )
    assert response.status_code == 404
    assert not ServiceNote.objects.exists()
