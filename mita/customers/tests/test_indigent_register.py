"""The indigent register (register, overlap, end, who is on it on a day; pages, API, audit, another operator's 404)
and a connection's assessed usage (its bulk demand without a meter) on the edit page and the API."""

import datetime
from decimal import Decimal

import pytest

from mita.core.errors import Conflict
from mita.core.models import AuditEntry
from mita.customers.indigent import IndigentError, indigent_customer_ids, indigent_end, indigent_register
from mita.customers.models import IndigentRegistration
from mita.customers.services import CustomerError, connection_update
from mita.customers.tests.world import clerk_of, connection_of, customer_of

pytestmark = pytest.mark.django_db
JSON = "application/json"
D = Decimal
day = datetime.date


def _register(operator, customer, start, end=None, reference="SR-1"):
    return indigent_register(
        operator=operator, customer=customer, reference=reference, valid_from=start, valid_to=end, acting_user=None
    )


def test_who_is_on_the_register_on_a_day_follows_the_registrations_dates(operator_a):
    # given three households: one registered from March, one for January only, one never
    march = customer_of(operator_a, name="From March", phone="+250788100001")
    january = customer_of(operator_a, name="January only", phone="+250788100002")
    customer_of(operator_a, name="Never", phone="+250788100003")
    _register(operator_a, march, day(2026, 3, 1))
    _register(operator_a, january, day(2026, 1, 1), day(2026, 1, 31))
    # then the register of a day holds those whose dates cover it, first and last days included
    assert indigent_customer_ids(operator_id=operator_a.pk, on=day(2026, 1, 31)) == {january.pk}
    assert indigent_customer_ids(operator_id=operator_a.pk, on=day(2026, 2, 28)) == set()
    assert indigent_customer_ids(operator_id=operator_a.pk, on=day(2026, 3, 1)) == {march.pk}
    assert indigent_customer_ids(operator_id=operator_a.pk, on=day(2030, 1, 1)) == {march.pk}


def test_a_household_is_registered_once_for_a_day_and_an_ended_registration_makes_room(operator_a, admin_a):
    customer = customer_of(operator_a)
    first = _register(operator_a, customer, day(2026, 1, 1))
    with pytest.raises(Conflict) as refused:
        _register(operator_a, customer, day(2026, 6, 1))
    assert refused.value.code == "already_registered"
    # when the first registration is ended on May 31, a new one from June fits
    ended = indigent_end(registration=first, acting_user=admin_a, valid_to=day(2026, 5, 31), reason="Moved away")
    assert (ended.valid_to, ended.ended_by, ended.end_reason) == (day(2026, 5, 31), admin_a, "Moved away")
    second = _register(operator_a, customer, day(2026, 6, 1), reference="SR-2")
    assert second.valid_from == day(2026, 6, 1)
    with pytest.raises(Conflict):
        indigent_end(registration=first, acting_user=admin_a)  # already ended
    # and an end before the first day is refused, naming the field
    with pytest.raises(IndigentError) as bad:
        indigent_end(registration=second, acting_user=admin_a, valid_to=day(2026, 5, 1))
    assert "valid_to" in bad.value.fields
    actions = list(
        AuditEntry.objects.filter(target_type="customers.indigentregistration").values_list("action", flat=True)
    )
    assert sorted(actions) == [
        "customers.indigent_ended",
        "customers.indigent_registered",
        "customers.indigent_registered",
    ]


def test_a_registration_needs_a_reference_and_dates_in_order(operator_a):
    customer = customer_of(operator_a)
    with pytest.raises(IndigentError) as bad:
        indigent_register(
            operator=operator_a,
            customer=customer,
            reference=" ",
            valid_from=day(2026, 5, 1),
            valid_to=day(2026, 4, 1),
            acting_user=None,
        )
    assert set(bad.value.fields) == {"reference", "valid_to"}
    assert not IndigentRegistration.objects.exists()


def test_the_register_page_registers_by_connection_number_lists_and_ends(operator_a, admin_a, client_for):
    customer = customer_of(operator_a, name="Mukamana Aline")
    connection_of(operator_a, customer, number="AAL-0042")
    client = client_for(clerk_of(operator_a))
    form = {
        "account": "aal-0042",
        "reference": "UBUDEHE-1-0042",
        "evidence": "Letter of the cell",
        "valid_from": "2026-01-01",
    }
    assert client.post("/customers/indigent/", form).status_code == 302
    registration = IndigentRegistration.objects.get()
    assert (registration.customer, registration.reference, registration.registered_by.name) == (
        customer,
        "UBUDEHE-1-0042",
        "Cleo Care",
    )
    assert b'data-testid="customer-indigent"' in client.get(f"/customers/{customer.pk}/").content
    page = client.get("/customers/indigent/?on=2026-02-01")
    assert page.status_code == 200 and b"Mukamana Aline" in page.content and b"UBUDEHE-1-0042" in page.content
    assert (
        f'data-testid="indigent-{customer.number}"'.encode()
        not in client.get("/customers/indigent/?on=2025-12-31").content
    )
    # a second registration over the same days is refused next to the field, and an unknown number too
    again = client.post("/customers/indigent/", form)
    assert again.status_code == 400 and b"already on the indigent register" in again.content
    unknown = client.post("/customers/indigent/", {**form, "account": "NOPE-1"})
    assert unknown.status_code == 400 and b"No customer or connection of yours" in unknown.content
    # ending it
    response = client.post(
        f"/customers/indigent/{registration.pk}/end/", {"valid_to": "2026-03-31", "reason": "Employed"}
    )
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.valid_to == day(2026, 3, 31) and registration.ended_at is not None
    row = f'data-testid="indigent-{customer.number}"'.encode()
    assert row not in client.get("/customers/indigent/?on=2026-04-01").content
    assert b"Employed" in client.get("/customers/indigent/?all=1").content
    assert b'data-testid="customer-indigent"' not in client.get(f"/customers/{customer.pk}/").content


def test_a_cashier_reads_the_register_but_cannot_change_it(operator_a, client_for):
    from mita.accounts.roles import Role
    from mita.testing.factories import member

    customer = customer_of(operator_a)
    registration = _register(operator_a, customer, day(2026, 1, 1))
    client = client_for(member(Role.CASHIER, operator_a, name="Cash"))
    assert client.get("/customers/indigent/").status_code == 200
    form = {"account": customer.number, "reference": "X", "valid_from": "2026-01-01"}
    assert client.post("/customers/indigent/", form).status_code == 403
    assert client.post(f"/customers/indigent/{registration.pk}/end/", {}).status_code == 403
    assert (
        client.post("/api/v1/indigent-register", {**form, "account": customer.number}, content_type=JSON).status_code
        == 403
    )


def test_the_api_registers_reads_lists_and_ends(operator_a, admin_a, client_for):
    customer = customer_of(operator_a, name="Habimana Eric")
    client = client_for(admin_a)
    created = client.post(
        "/api/v1/indigent-register",
        {"customer_id": customer.pk, "reference": "SR-77", "valid_from": "2026-01-01"},
        content_type=JSON,
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["customer_number"], body["reference"], body["valid_to"], body["registered_by"]) == (
        customer.number,
        "SR-77",
        None,
        "Alice Admin",
    )
    listed = client.get("/api/v1/indigent-register?on=2026-06-30").json()
    assert [row["id"] for row in listed["items"]] == [body["id"]]
    assert client.get("/api/v1/indigent-register?on=2025-06-30").json()["items"] == []
    clash = client.post(
        "/api/v1/indigent-register",
        {"customer_id": customer.pk, "reference": "SR-78", "valid_from": "2026-02-01"},
        content_type=JSON,
    )
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "already_registered"
    bad = client.post(f"/api/v1/indigent-register/{body['id']}/end", {"valid_to": "2025-12-01"}, content_type=JSON)
    assert bad.status_code == 400 and "valid_to" in bad.json()["error"]["fields"]
    ended = client.post(f"/api/v1/indigent-register/{body['id']}/end", {"valid_to": "2026-06-30"}, content_type=JSON)
    assert (
        ended.status_code == 200
        and ended.json()["valid_to"] == "2026-06-30"
        and ended.json()["ended_by"] == "Alice Admin"
    )
    assert client.get(f"/api/v1/indigent-register/{body['id']}").json()["valid_to"] == "2026-06-30"
    assert len(client.get("/api/v1/indigent-register?every=true").json()["items"]) == 1


def test_another_operator_gets_404_for_the_register(operator_a, admin_b, client_for):
    customer = customer_of(operator_a, name="Secret Household")
    registration = _register(operator_a, customer, day(2026, 1, 1))
    client = client_for(admin_b)
    assert client.post(f"/customers/indigent/{registration.pk}/end/", {}).status_code == 404
    assert client.get(f"/api/v1/indigent-register/{registration.pk}").status_code == 404
    assert client.post(f"/api/v1/indigent-register/{registration.pk}/end", {}, content_type=JSON).status_code == 404
    assert b"Secret Household" not in client.get("/customers/indigent/?all=1").content
    assert client.get("/api/v1/indigent-register?every=true").json()["items"] == []
    # nor can they register operator A's customer, by id or by number
    by_id = client.post(
        "/api/v1/indigent-register",
        {"customer_id": customer.pk, "reference": "X", "valid_from": "2026-01-01"},
        content_type=JSON,
    )
    by_number = client.post(
        "/api/v1/indigent-register",
        {"account": customer.number, "reference": "X", "valid_from": "2026-01-01"},
        content_type=JSON,
    )
    assert by_id.status_code == 400 and by_number.status_code == 400
    registration.refresh_from_db()
    assert registration.ended_at is None and IndigentRegistration.objects.count() == 1


# A connection's assessed usage (bulk demand without a meter) -----------------------------------------------------


def test_the_edit_page_and_the_api_set_and_clear_a_connections_assessed_usage(operator_a, client_for):
    connection = connection_of(operator_a, customer_of(operator_a), metered=False)
    client = client_for(clerk_of(operator_a))
    page = client.get(f"/customers/connections/{connection.pk}/edit/")
    assert page.status_code == 200 and b'name="assessed_usage"' in page.content
    form = {"connection_type": "", "billing_cycle": "monthly", "parcel_upi": "", "assessed_usage": "7.5"}
    assert client.post(f"/customers/connections/{connection.pk}/edit/", form).status_code == 302
    connection.refresh_from_db()
    assert connection.assessed_usage == D("7.5")
    bad = client.post(f"/customers/connections/{connection.pk}/edit/", {**form, "assessed_usage": "-1"})
    assert bad.status_code == 400
    patched = client.patch(f"/api/v1/connections/{connection.pk}", {"assessed_usage": "12"}, content_type=JSON)
    assert patched.status_code == 200 and D(patched.json()["assessed_usage"]) == D(12)
    cleared = client.patch(f"/api/v1/connections/{connection.pk}", {"assessed_usage": None}, content_type=JSON)
    assert cleared.status_code == 200 and cleared.json()["assessed_usage"] is None
    negative = client.patch(f"/api/v1/connections/{connection.pk}", {"assessed_usage": "-3"}, content_type=JSON)
    assert negative.status_code == 400 and "assessed_usage" in negative.json()["error"]["fields"]
    audited = [entry.after for entry in AuditEntry.objects.filter(action="connection.updated").order_by("pk")]
    assert [D(after["assessed_usage"]) if after["assessed_usage"] else None for after in audited] == [
        D("7.5"),
        D(12),
        None,
    ]


def test_the_service_refuses_a_negative_or_too_precise_assessed_usage(operator_a):
    connection = connection_of(operator_a, customer_of(operator_a), metered=False)
    for value in (D("-1"), D("1.0001")):
        with pytest.raises(CustomerError) as bad:
            connection_update(connection=connection, acting_user=None, assessed_usage=value)
        assert "assessed_usage" in bad.value.fields
    connection_update(connection=connection, acting_user=None, assessed_usage=D("4"))
    connection.refresh_from_db()
    assert connection.assessed_usage == D(4)
