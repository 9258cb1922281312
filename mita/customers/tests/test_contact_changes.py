"""Contact changes need the customer's code: a clerk starts a change of phone or e-mail, a code goes by SMS to the
customer's current phone, the change applies only with that code; an operator admin may apply one without a code,
with a reason, and the old phone is told. Pages (htmx), API, roles, and another operator's 404."""

import datetime
import re

import pytest
from django.utils import timezone

from mita.accounts.roles import Role
from mita.core.audit import audit_for
from mita.core.errors import PermissionDenied, Throttled
from mita.customers.models import ContactChange, Customer
from mita.customers.services import CustomerError, customer_update
from mita.customers.services_contacts import (
    MAX_ATTEMPTS,
    contact_change_confirm,
    contact_change_start,
    contact_change_without_code,
)
from mita.customers.tests.world import clerk_of, customer_of
from mita.notifications.models import OutboxMessage
from mita.testing.factories import member

pytestmark = pytest.mark.django_db

OLD_PHONE = "+250788123456"
NEW_PHONE = "+250722111222"


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def code_sent_to(phone: str) -> str:
    """The code in the last SMS to this phone, as the customer would read it."""
    message = OutboxMessage.objects.filter(to=phone, template="customers.contact_change_code").latest("pk")
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_a_phone_changes_only_with_the_code_sent_to_the_current_phone(operator_a):
    clerk = clerk_of(operator_a)
    customer = customer_of(operator_a, phone=OLD_PHONE)
    # when the clerk starts a change of phone and e-mail
    change = contact_change_start(
        customer=customer, changes={"phone": "0722 111 222", "email": "jeanne@example.rw"}, acting_user=clerk
    )
    # then a code goes to the OLD phone, and nothing has changed yet
    assert OutboxMessage.objects.get(template="customers.contact_change_code").to == OLD_PHONE
    customer.refresh_from_db()
    assert (customer.phone, customer.email) == (OLD_PHONE, "")
    assert change.changes == {"phone": NEW_PHONE, "email": "jeanne@example.rw"}
    assert change.code_hash and code_sent_to(OLD_PHONE) not in change.code_hash
    # when the customer reads the code back
    contact_change_confirm(change=change, code=code_sent_to(OLD_PHONE), acting_user=clerk)
    # then the change is applied and audited with before and after
    customer.refresh_from_db()
    assert (customer.phone, customer.email) == (NEW_PHONE, "jeanne@example.rw")
    change.refresh_from_db()
    assert (change.status, change.applied_at is not None) == (ContactChange.Status.APPLIED, True)
    entry = audit_for(customer).first()
    assert entry.action == "customer.contact_changed"
    assert (entry.before, entry.after) == (
        {"phone": OLD_PHONE, "email": ""},
        {"phone": NEW_PHONE, "email": "jeanne@example.rw"},
    )


def test_a_wrong_code_is_counted_the_change_waits_and_five_wrong_codes_end_it(operator_a):
    customer = customer_of(operator_a)
    change = contact_change_start(customer=customer, changes={"phone": NEW_PHONE}, acting_user=None)
    code = code_sent_to(OLD_PHONE)
    with pytest.raises(CustomerError) as refused:
        contact_change_confirm(change=change, code=wrong(code), acting_user=None)
    assert refused.value.code == "contact_code_wrong"
    assert "4 tries left" in str(refused.value.message)
    change.refresh_from_db()
    assert (change.status, change.attempts) == (ContactChange.Status.PENDING, 1)
    # the right code still works after a wrong one
    contact_change_confirm(change=change, code=f" {code} ", acting_user=None)
    customer.refresh_from_db()
    assert customer.phone == NEW_PHONE
    # a second change, with only wrong codes
    change = contact_change_start(customer=customer, changes={"phone": OLD_PHONE}, acting_user=None)
    code = code_sent_to(NEW_PHONE)
    for _try in range(MAX_ATTEMPTS):
        with pytest.raises(CustomerError) as refused:
            contact_change_confirm(change=change, code=wrong(code), acting_user=None)
    assert refused.value.code == "contact_change_failed"
    with pytest.raises(CustomerError) as closed:
        contact_change_confirm(change=change, code=code, acting_user=None)
    assert closed.value.code == "contact_change_closed"
    customer.refresh_from_db()
    assert customer.phone == NEW_PHONE


def test_an_expired_code_is_refused_and_changes_nothing(operator_a):
    customer = customer_of(operator_a)
    change = contact_change_start(customer=customer, changes={"email": "a@b.rw"}, acting_user=None)
    ContactChange.objects.filter(pk=change.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(CustomerError) as refused:
        contact_change_confirm(change=change, code=code_sent_to(OLD_PHONE), acting_user=None)
    assert refused.value.code == "contact_change_expired"
    customer.refresh_from_db()
    assert customer.email == ""


def test_a_newer_request_replaces_the_waiting_one_and_its_code_stops_working(operator_a):
    customer = customer_of(operator_a)
    first = contact_change_start(customer=customer, changes={"email": "first@b.rw"}, acting_user=None)
    first_code = code_sent_to(OLD_PHONE)
    second = contact_change_start(customer=customer, changes={"email": "second@b.rw"}, acting_user=None)
    with pytest.raises(CustomerError) as closed:
        contact_change_confirm(change=first, code=first_code, acting_user=None)
    assert closed.value.code == "contact_change_closed"
    contact_change_confirm(change=second, code=code_sent_to(OLD_PHONE), acting_user=None)
    customer.refresh_from_db()
    assert customer.email == "second@b.rw"


def test_bad_or_unchanged_values_are_refused_before_any_code_is_sent(operator_a):
    customer = customer_of(operator_a)
    with pytest.raises(CustomerError) as bad:
        contact_change_start(customer=customer, changes={"phone": "12", "email": "nope"}, acting_user=None)
    assert set(bad.value.fields) == {"phone", "email"}
    with pytest.raises(CustomerError) as same:
        contact_change_start(customer=customer, changes={"phone": "0788123456"}, acting_user=None)
    assert same.value.code == "contact_unchanged"
    with pytest.raises(CustomerError) as other_field:
        contact_change_start(customer=customer, changes={"name": "X"}, acting_user=None)
    assert other_field.value.code == "field_not_editable"
    assert not OutboxMessage.objects.exists()
    assert not ContactChange.objects.exists()


def test_codes_to_one_phone_are_limited_per_hour(operator_a):
    customer = customer_of(operator_a)
    for number in range(5):
        contact_change_start(customer=customer, changes={"email": f"n{number}@b.rw"}, acting_user=None)
    with pytest.raises(Throttled):
        contact_change_start(customer=customer, changes={"email": "again@b.rw"}, acting_user=None)


def test_contacts_cannot_be_changed_directly_any_more_but_name_and_address_can(operator_a):
    customer = customer_of(operator_a)
    for field, value in (("phone", NEW_PHONE), ("phone_2", NEW_PHONE), ("email", "x@y.rw")):
        with pytest.raises(CustomerError) as refused:
            customer_update(customer=customer, acting_user=None, **{field: value})
        assert refused.value.code == "contact_change_needs_code"
        assert list(refused.value.fields) == [field]
    customer_update(customer=customer, acting_user=None, name="Jeanne U.", village="Ruhuha", phone=OLD_PHONE)
    customer.refresh_from_db()
    assert (customer.name, customer.village, customer.phone) == ("Jeanne U.", "Ruhuha", OLD_PHONE)


def test_an_admin_changes_a_lost_phone_without_a_code_with_a_reason_and_the_old_phone_is_told(operator_a, admin_a):
    customer = customer_of(operator_a)
    waiting = contact_change_start(customer=customer, changes={"email": "w@b.rw"}, acting_user=None)
    # a clerk may not skip the code
    with pytest.raises(PermissionDenied):
        contact_change_without_code(
            customer=customer, changes={"phone": NEW_PHONE}, reason="stolen", acting_user=clerk_of(operator_a)
        )
    # an admin must say why
    with pytest.raises(CustomerError) as no_reason:
        contact_change_without_code(customer=customer, changes={"phone": NEW_PHONE}, reason=" ", acting_user=admin_a)
    assert no_reason.value.code == "reason_required"
    change = contact_change_without_code(
        customer=customer, changes={"phone": NEW_PHONE}, reason="Phone stolen at the market", acting_user=admin_a
    )
    customer.refresh_from_db()
    assert customer.phone == NEW_PHONE
    assert (change.status, change.reason) == (ContactChange.Status.APPLIED_WITHOUT_CODE, "Phone stolen at the market")
    notice = OutboxMessage.objects.get(template="customers.contact_changed_without_code")
    assert notice.to == OLD_PHONE and customer.number in notice.body
    entry = audit_for(customer).first()
    assert (entry.action, entry.detail["reason"]) == (
        "customer.contact_changed_without_code",
        "Phone stolen at the market",
    )
    waiting.refresh_from_db()
    assert waiting.status == ContactChange.Status.SUPERSEDED


def test_an_admin_of_another_operator_cannot_skip_the_code(operator_a, admin_b):
    customer = customer_of(operator_a)
    with pytest.raises(PermissionDenied):
        contact_change_without_code(customer=customer, changes={"phone": NEW_PHONE}, reason="x", acting_user=admin_b)


# Pages -------------------------------------------------------------------------------------------------------


def test_the_clerk_walks_the_change_on_the_pages_with_a_wrong_then_the_right_code(operator_a, client_for):
    customer = customer_of(operator_a)
    client = client_for(clerk_of(operator_a))
    page = client.get(f"/customers/{customer.pk}/contacts/").content.decode()
    assert OLD_PHONE in page and 'data-testid="without-code"' not in page
    response = client.post(f"/customers/{customer.pk}/contacts/", {"phone": NEW_PHONE, "email": ""})
    change = ContactChange.objects.get(customer=customer)
    assert response.status_code == 302 and response.url == f"/customers/{customer.pk}/contacts/{change.pk}/"
    assert NEW_PHONE in client.get(response.url).content.decode()
    # the customer's page lists the change still waiting, linking back to the code page
    assert f'href="/customers/{customer.pk}/contacts/{change.pk}/">Waiting for the code' in (
        client.get(f"/customers/{customer.pk}/").content.decode()
    )
    # a wrong code through htmx: the part comes back with the error, and the change still waits
    wrong_answer = client.post(response.url, {"code": wrong(code_sent_to(OLD_PHONE))}, HTTP_HX_REQUEST="true")
    assert wrong_answer.status_code == 200
    assert "Wrong code. 4 tries left." in wrong_answer.content.decode()
    assert "<html" not in wrong_answer.content.decode()
    # the right code: htmx is told to go to the customer's page
    right = client.post(response.url, {"code": code_sent_to(OLD_PHONE)}, HTTP_HX_REQUEST="true")
    assert right.headers["HX-Redirect"] == f"/customers/{customer.pk}/"
    customer.refresh_from_db()
    assert customer.phone == NEW_PHONE


def test_a_bad_new_phone_is_shown_on_its_field_and_sends_nothing(operator_a, client_for):
    customer = customer_of(operator_a)
    response = client_for(clerk_of(operator_a)).post(
        f"/customers/{customer.pk}/contacts/", {"phone": "12", "email": "jeanne@example.rw"}
    )
    assert response.status_code == 400 and response.context["form"].errors["phone"]
    assert response.context["form"]["email"].value() == "jeanne@example.rw"
    assert not OutboxMessage.objects.exists()


def test_the_admin_page_applies_a_change_without_code(operator_a, admin_a, client_for):
    customer = customer_of(operator_a)
    client = client_for(admin_a)
    assert 'data-testid="without-code"' in client.get(f"/customers/{customer.pk}/contacts/").content.decode()
    missing_reason = client.post(f"/customers/{customer.pk}/contacts/", {"phone": NEW_PHONE, "without_code": "1"})
    assert missing_reason.status_code == 400 and missing_reason.context["form"].errors["reason"]
    response = client.post(
        f"/customers/{customer.pk}/contacts/", {"phone": NEW_PHONE, "reason": "Lost phone", "without_code": "1"}
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.phone == NEW_PHONE


def test_a_cashier_cannot_start_a_change_and_an_outsider_gets_404(operator_a, admin_b, client_for):
    customer = customer_of(operator_a)
    change = contact_change_start(customer=customer, changes={"email": "a@b.rw"}, acting_user=None)
    cashier = client_for(member(Role.CASHIER, operator_a))
    assert cashier.get(f"/customers/{customer.pk}/contacts/").status_code == 403
    assert post(cashier, f"/api/v1/customers/{customer.pk}/contact-changes", {"email": "c@d.rw"}).status_code == 403
    outsider = client_for(admin_b)
    assert outsider.get(f"/customers/{customer.pk}/contacts/").status_code == 404
    assert outsider.get(f"/customers/{customer.pk}/contacts/{change.pk}/").status_code == 404
    assert outsider.post(f"/customers/{customer.pk}/contacts/{change.pk}/", {"code": "000000"}).status_code == 404
    assert post(outsider, f"/api/v1/customers/{customer.pk}/contact-changes", {"email": "c@d.rw"}).status_code == 404
    confirm = post(outsider, f"/api/v1/customers/{customer.pk}/contact-changes/{change.pk}/confirm", {"code": "1"})
    assert confirm.status_code == 404
    change.refresh_from_db()
    assert change.attempts == 0


# API ---------------------------------------------------------------------------------------------------------


def test_the_api_starts_and_confirms_a_change_and_patch_refuses_the_phone(operator_a, client_for):
    customer = customer_of(operator_a)
    client = client_for(clerk_of(operator_a))
    refused = client.patch(f"/api/v1/customers/{customer.pk}", {"phone": NEW_PHONE}, content_type="application/json")
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "contact_change_needs_code")
    started = post(client, f"/api/v1/customers/{customer.pk}/contact-changes", {"phone": NEW_PHONE})
    assert started.status_code == 201, started.json()
    body = started.json()
    assert (body["status"], body["sent_to"], body["changes"]) == ("pending", OLD_PHONE, {"phone": NEW_PHONE})
    assert "code" not in body and "code_hash" not in body
    url = f"/api/v1/customers/{customer.pk}/contact-changes/{body['id']}/confirm"
    wrong_answer = post(client, url, {"code": wrong(code_sent_to(OLD_PHONE))})
    assert (wrong_answer.status_code, wrong_answer.json()["error"]["code"]) == (400, "contact_code_wrong")
    assert client.get(f"/api/v1/customers/{customer.pk}/contact-changes/{body['id']}").json()["attempts"] == 1
    confirmed = post(client, url, {"code": code_sent_to(OLD_PHONE)})
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "applied"
    assert client.get(f"/api/v1/customers/{customer.pk}").json()["phone"] == NEW_PHONE
    again = post(client, url, {"code": code_sent_to(OLD_PHONE)})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "contact_change_closed")


def test_the_api_lets_only_an_admin_skip_the_code(operator_a, admin_a, client_for):
    customer = customer_of(operator_a)
    payload = {"phone": NEW_PHONE, "without_code": True, "reason": "Phone stolen"}
    clerk = client_for(clerk_of(operator_a))
    assert post(clerk, f"/api/v1/customers/{customer.pk}/contact-changes", payload).status_code == 403
    response = post(client_for(admin_a), f"/api/v1/customers/{customer.pk}/contact-changes", payload)
    assert response.status_code == 201 and response.json()["status"] == "applied_without_code"
    assert Customer.objects.get(pk=customer.pk).phone == NEW_PHONE
