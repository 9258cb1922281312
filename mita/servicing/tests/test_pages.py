"""Servicing pages: who sees what, forms that refuse bad input without losing anything, the public quote page, and
another operator's user getting 404 on every object page."""

import pytest
from django.urls import reverse

from mita.servicing.models import ServiceRequest, WorkOrder
from mita.servicing.services import request_transition, work_order_complete
from mita.servicing.types.new_connection import new_connection_apply

from .world import World, signed_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(operator_a):  # type: ignore[no-untyped-def]
    return World(operator_a)


@pytest.fixture
def application(world):  # type: ignore[no-untyped-def]
    return new_connection_apply(
        operator=world.operator,
        acting_user=world.care,
        channel="office",
        utility="water",
        property_type="residential",
        terms_accepted=True,
        customer_fields={"name": "Jeanne Uwase", "phone": "+250788123456"},
        signed_form=signed_form(),
    )


def test_customer_care_receives_an_application_on_the_page(client_for, world):
    client = client_for(world.care)
    page = client.get(reverse("servicing:new_connection"))
    assert page.status_code == 200 and "2026-1" in page.content.decode()
    response = client.post(
        reverse("servicing:new_connection"),
        {
            "name": "Jeanne Uwase",
            "phone": "0788123456",
            "utility": "water",
            "property_type": "residential",
            "channel": "office",
            "terms_accepted": "on",
            "signed_form": signed_form(),
        },
    )
    request = ServiceRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "servicing:request_detail", args=[request.pk]
    )


def test_an_application_without_terms_or_form_is_refused_and_the_form_keeps_what_was_typed(client_for, world):
    response = client_for(world.care).post(
        reverse("servicing:new_connection"),
        {
            "name": "Jeanne Uwase",
            "phone": "0788123456",
            "utility": "water",
            "property_type": "residential",
            "channel": "office",
        },
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "attach the signed application form" in body and "must accept the terms" in body
    assert 'value="Jeanne Uwase"' in body
    assert not ServiceRequest.objects.exists()


def test_the_request_page_offers_only_the_user_s_transitions(client_for, world, application):
    care_page = client_for(world.care).get(reverse("servicing:request_detail", args=[application.pk])).content.decode()
    assert 'data-testid="transition-assign_survey"' in care_page and 'data-testid="transition-reject"' in care_page
    cashier_page = client_for(world.cashier).get(reverse("servicing:request_detail", args=[application.pk]))
    assert cashier_page.status_code == 200 and 'data-testid="transitions"' not in cashier_page.content.decode()


def test_a_transition_refused_says_why_on_the_page(client_for, world, application):
    response = client_for(world.care).post(
        reverse("servicing:request_transition", args=[application.pk]), {"transition": "assign_survey"}
    )
    assert response.status_code == 400 and "Choose the technician." in response.content.decode()
    response = client_for(world.care).post(
        reverse("servicing:request_transition", args=[application.pk]),
        {"transition": "assign_survey", "assignee": world.technician.pk},
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == "survey"


def test_the_technician_records_the_survey_on_the_work_order_page(client_for, world, application):
    request_transition(
        request=application, transition="assign_survey", acting_user=world.care, assignee=world.technician
    )
    work_order = WorkOrder.objects.get()
    client = client_for(world.technician)
    assert f"work-order-row-{work_order.number}" in client.get(reverse("servicing:my_tasks")).content.decode()
    bad = client.post(reverse("servicing:work_order_detail", args=[work_order.pk]), {"distance_m": "0"})
    assert bad.status_code == 400 and "More than zero." in bad.content.decode()
    done = client.post(
        reverse("servicing:work_order_detail", args=[work_order.pk]),
        {
            "distance_m": "30",
            "crossing_road_count": "1",
            "crossing_road_length": "5",
            "material_0": world.pipe.pk,
            "quantity_0": "30",
        },
    )
    assert done.status_code == 302
    application.refresh_from_db()
    assert application.state == "connection_fee_due"


def test_another_technician_does_not_see_the_work_order(client_for, world, application):
    from mita.accounts.roles import Role
    from mita.testing.factories import member

    request_transition(
        request=application, transition="assign_survey", acting_user=world.care, assignee=world.technician
    )
    other = member(Role.TECHNICIAN, world.operator, name="Other Tech")
    work_order = WorkOrder.objects.get()
    assert client_for(other).get(reverse("servicing:work_order_detail", args=[work_order.pk])).status_code == 404


def test_attachments_are_checked_and_downloaded_by_the_operator_only(client_for, world, application, admin_b):
    client = client_for(world.care)
    refused = client.post(
        reverse("servicing:attachment_add", args=[application.pk]),
        {"kind": "photo", "file": signed_form("virus.exe", b"MZ\x90\x00")},
    )
    assert refused.status_code == 400 and "Attach a PDF, JPEG or PNG file." in refused.content.decode()
    attachment = application.attachments.get()
    url = reverse("servicing:attachment_download", args=[application.pk, attachment.pk])
    download = client.get(url)
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    assert client_for(admin_b).get(url).status_code == 404


def test_the_public_quote_page_needs_its_token_only(client, world, application, django_capture_on_commit_callbacks):
    request_transition(
        request=application, transition="assign_survey", acting_user=world.care, assignee=world.technician
    )
    work_order_complete(work_order=WorkOrder.objects.get(), result=world.survey_result(), acting_user=world.technician)
    with django_capture_on_commit_callbacks(execute=True):
        world.pay(application.connection.number, "10000")
    application.refresh_from_db()
    page = client.get(reverse("quote", args=[application.quote_token]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Amazi Alpha Ltd" in body and application.number in body and "HDPE pipe 20 mm" in body
    assert "35,000 RWF" in body
    assert client.get(reverse("quote", args=["not-the-token"])).status_code == 404


@pytest.mark.parametrize(
    "name",
    ["servicing:request_detail", "servicing:request_transition", "servicing:comment_add", "servicing:attachment_add"],
)
def test_another_operator_s_admin_gets_404_on_a_request(client_for, application, admin_b, name):
    client = client_for(admin_b)
    url = reverse(name, args=[application.pk])
    response = client.get(url) if name == "servicing:request_detail" else client.post(url, {"transition": "reject"})
    assert response.status_code == 404


def test_another_operator_s_admin_gets_404_on_a_work_order_and_sees_none_in_lists(
    client_for, world, application, admin_b
):
    request_transition(
        request=application, transition="assign_survey", acting_user=world.care, assignee=world.technician
    )
    work_order = WorkOrder.objects.get()
    client = client_for(admin_b)
    assert client.get(reverse("servicing:work_order_detail", args=[work_order.pk])).status_code == 404
    assert application.number not in client.get(reverse("servicing:request_list")).content.decode()
    assert work_order.number not in client.get(reverse("servicing:work_order_list")).content.decode()


def test_fees_and_terms_are_set_by_the_operator_admin(client_for, world):
    admin = client_for(world.admin)
    assert (
        admin.post(
            reverse("servicing:fee_list"),
            {"kind": "connection", "utility": "water", "property_type": "commercial", "amount": "25000"},
        ).status_code
        == 302
    )
    assert "25,000" in client_for(world.cashier).get(reverse("servicing:fee_list")).content.decode()
    assert (
        client_for(world.cashier)
        .post(reverse("servicing:fee_list"), {"kind": "connection", "utility": "water", "amount": "1"})
        .status_code
        == 200
    )
    assert client_for(world.cashier).get(reverse("servicing:terms_list")).status_code == 403
    taken = admin.post(
        reverse("servicing:terms_list"), {"version": "2026-1", "effective_from": "2026-02-01", "text": "x"}
    )
    assert taken.status_code == 400 and "already published" in taken.content.decode()


def test_the_home_card_shows_the_badge_of_waiting_tasks(client_for, world, application):
    home = client_for(world.care).get(reverse("core:home")).content.decode()
    assert 'data-testid="card-servicing.tasks"' in home
    assert 'title="Waiting for you">1</span>' in home


def test_the_list_filters_by_type_and_state(client_for, world, application):
    client = client_for(world.care)
    listed = client.get(reverse("servicing:request_list"), {"type": "new_connection", "state": "received"})
    assert f"request-row-{application.number}" in listed.content.decode()
    other = client.get(reverse("servicing:request_list"), {"type": "complaint"})
    assert f"request-row-{application.number}" not in other.content.decode()
    surveyed = client.get(reverse("servicing:request_list"), {"state": "survey"})
    assert f"request-row-{application.number}" not in surveyed.content.decode()
