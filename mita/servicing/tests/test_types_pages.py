"""The connection request types on the pages and the API: opening each on the generic page, bad input refused
without losing anything, the ownership change's arrears checkbox, the final reading form, the customer 360 panels and
their open-requests count, the billing officer's badge, and another operator's user getting 404."""

from decimal import Decimal

import pytest
from django.urls import reverse

from mita.servicing.models import ServiceRequest, WorkOrder
from mita.servicing.selectors import tasks_waiting_count
from mita.servicing.services import request_transition
from mita.servicing.types.disconnection import disconnection_open
from mita.servicing.types.ownership_change import ownership_change_open
from mita.servicing.types.termination import termination_open

from .wire_world import WireWorld

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(operator_a):  # type: ignore[no-untyped-def]
    return WireWorld(operator_a)


def post_json(client, url, data):  # type: ignore[no-untyped-def]
    return client.post(url, data, content_type="application/json")


@pytest.mark.parametrize(
    ("key", "extra", "state"),
    [
        ("disconnection", {"reason": "customer"}, "received"),
        ("meter_transfer", {"to_connection_number": "AAL-0002"}, "received"),
        ("ownership_change", {"to_customer_number": "AAL-C-000002"}, "received"),
        ("package_change", {"package": "LARGE", "effective": "now"}, "received"),
        ("termination", {}, "received"),
    ],
)
def test_customer_care_opens_each_type_on_its_page(client_for, world, key, extra, state):
    client = client_for(world.care)
    url = reverse(f"servicing:new_{key}")
    assert client.get(url).status_code == 200
    data = {"customer_number": world.jeanne.number, "connection_number": "AAL-0001", "channel": "office", **extra}
    if key == "ownership_change":
        data["to_customer_number"] = world.eric.number
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    request = ServiceRequest.objects.get(type=key)
    assert (request.state, request.connection, request.customer) == (state, world.tap, world.jeanne)
    assert response["Location"] == reverse("servicing:request_detail", args=[request.pk])
    assert client.get(response["Location"]).status_code == 200


def test_bad_input_is_refused_with_what_to_fix_and_the_form_keeps_what_was_typed(client_for, world):
    client = client_for(world.care)
    response = client.post(
        reverse("servicing:new_meter_transfer"),
        {
            "customer_number": world.jeanne.number,
            "connection_number": "AAL-0001",
            "channel": "office",
            "to_connection_number": "NOPE-9",
            "details": "the neighbour takes the meter",
        },
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "No connection with this number at your operator." in page
    assert "the neighbour takes the meter" in page
    assert not ServiceRequest.objects.exists()


def test_the_reconnection_of_an_active_connection_is_refused_on_the_page(client_for, world):
    response = client_for(world.care).post(
        reverse("servicing:new_reconnection"),
        {"customer_number": world.jeanne.number, "connection_number": "AAL-0001", "channel": "office"},
    )
    assert response.status_code == 400
    assert "only a disconnected one is reconnected" in response.content.decode()


def test_only_billing_officers_and_admins_start_a_disconnection_for_the_operator(client_for, world):
    data = {
        "customer_number": world.jeanne.number,
        "connection_number": "AAL-0001",
        "channel": "office",
        "reason": "non_payment",
        "assignee": world.technician.pk,
    }
    refused = client_for(world.care).post(reverse("servicing:new_disconnection"), data)
    assert refused.status_code == 400 and not ServiceRequest.objects.exists()
    response = client_for(world.billing).post(reverse("servicing:new_disconnection"), data)
    assert response.status_code == 302
    request = ServiceRequest.objects.get()
    assert request.state == "approved" and request.work_orders.get().assignee == world.technician
    # a technician opens no request; a cashier may not start a disconnection
    assert client_for(world.technician).get(reverse("servicing:new_disconnection")).status_code == 403
    assert client_for(world.cashier).get(reverse("servicing:new_package_change")).status_code == 403


def test_the_ownership_change_approval_asks_for_the_arrears_checkbox(client_for, world):
    world.bill(world.tap.number, "2500")
    request = ownership_change_open(
        operator=world.operator,
        customer=world.jeanne,
        connection=world.tap,
        to_customer=world.eric,
        channel="office",
        acting_user=world.care,
    )
    client = client_for(world.care)
    page = client.get(reverse("servicing:request_detail", args=[request.pk])).content.decode()
    assert "The new owner takes the arrears on" in page and "Arrears on the account now" in page
    url = reverse("servicing:request_transition", args=[request.pk])
    refused = client.post(url, {"transition": "approve"})
    assert refused.status_code == 400 and "2500" in refused.content.decode()
    request.refresh_from_db()
    assert request.state == "received"
    done = client.post(url, {"transition": "approve", "arrears_acknowledged": "on"})
    assert done.status_code == 302
    world.tap.refresh_from_db()
    assert world.tap.customer == world.eric


def test_the_final_reading_is_recorded_on_the_work_order_page(client_for, world):
    request = termination_open(
        operator=world.operator, customer=world.jeanne, connection=world.tap, channel="office", acting_user=world.care
    )
    request_transition(request=request, transition="assign_reading", acting_user=world.care, assignee=world.technician)
    work_order = request.work_orders.get()
    client = client_for(world.technician)
    url = reverse("servicing:work_order_detail", args=[work_order.pk])
    assert "Final bill before VAT" in client.get(url).content.decode()
    bad = client.post(url, {"final_index": "-1", "final_amount": "abc", "note": "kept"})
    assert bad.status_code == 400 and "kept" in bad.content.decode()
    assert client.post(url, {"final_index": "1234", "final_amount": "1500"}).status_code == 302
    request.refresh_from_db()
    work_order.refresh_from_db()
    assert request.state == "settlement" and work_order.result["final_amount"] == "1500"


def test_the_customer_360_page_shows_requests_complaints_and_the_open_count(client_for, world):
    disconnection_open(
        operator=world.operator, customer=world.jeanne, connection=world.tap, channel="office", acting_user=world.care
    )
    closed = termination_open(
        operator=world.operator, customer=world.jeanne, connection=world.tap, channel="office", acting_user=world.care
    )
    request_transition(request=closed, transition="reject", acting_user=world.care, note="no")
    from mita.servicing.types.complaint import complaint_open

    complaint = complaint_open(
        operator=world.operator,
        customer=world.jeanne,
        category="leak",
        summary="Leak at the meter",
        channel="phone",
        acting_user=world.care,
    )
    client = client_for(world.care)
    page = client.get(reverse("customers:customer_detail", args=[world.jeanne.pk])).content.decode()
    assert "AAL-SR-000001" in page and "AAL-SR-000002" in page
    assert "Leak at the meter" in page and complaint.number in page
    overview = client.get(f"/api/v1/customers/{world.jeanne.pk}/overview").json()
    assert overview["counts"]["open_requests"] == 2  # the disconnection and the complaint; the rejection is closed
    numbers = [row["number"] for row in overview["panels"]["servicing.requests"]["requests"]]
    assert numbers == [complaint.number, closed.number, "AAL-SR-000001"]
    assert [row["number"] for row in overview["panels"]["servicing.complaints"]["complaints"]] == [complaint.number]
    # Eric has none
    assert client.get(f"/api/v1/customers/{world.eric.pk}/overview").json()["counts"].get("open_requests", 0) == 0


def test_the_billing_officer_s_badge_counts_the_disconnections_to_approve(client_for, world):
    from mita.accounts.roles import Role

    from .test_engine import AccessOf

    request = disconnection_open(
        operator=world.operator, customer=world.jeanne, connection=world.tap, channel="office", acting_user=world.care
    )
    access = AccessOf(world.billing, world.operator, frozenset({Role.BILLING_OFFICER}))
    assert tasks_waiting_count(access) == 0  # under review by customer care first
    request_transition(request=request, transition="review", acting_user=world.care)
    assert tasks_waiting_count(access) == 1
    page = client_for(world.billing).get(reverse("servicing:my_tasks")).content.decode()
    assert request.number in page


def test_the_api_opens_and_moves_the_new_types(client_for, world):
    client = client_for(world.care)
    response = post_json(
        client,
        "/api/v1/service-requests",
        {
            "type": "ownership_change",
            "channel": "phone",
            "customer_id": world.jeanne.pk,
            "connection_id": world.tap.pk,
            "to_customer_id": world.eric.pk,
        },
    )
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["state"] == "received" and created["allowed_transitions"] == ["approve", "reject"]
    world.bill(world.tap.number, "700")
    url = f"/api/v1/service-requests/{created['id']}/transitions"
    refused = post_json(client, url, {"transition": "approve"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "arrears_outstanding"
    done = post_json(client, url, {"transition": "approve", "arrears_acknowledged": True})
    assert done.status_code == 200 and done.json()["state"] == "done"
    assert Decimal(done.json()["data"]["arrears_taken_on"]) == Decimal("700")
    # a billing officer starts a disconnection for non-payment through the API
    started = post_json(
        client_for(world.billing),
        "/api/v1/service-requests",
        {
            "type": "disconnection",
            "channel": "office",
            "customer_id": world.eric.pk,
            "connection_id": world.shop.pk,
            "reason": "non_payment",
            "assignee_id": world.technician.pk,
        },
    )
    assert started.status_code == 201 and started.json()["state"] == "approved"
    work_order_id = started.json()["work_order_ids"][0]
    finished = post_json(client_for(world.technician), f"/api/v1/work-orders/{work_order_id}/complete", {"result": {}})
    assert finished.status_code == 200
    world.shop.refresh_from_db()
    assert world.shop.status == "disconnected"
    assert WorkOrder.objects.get(pk=work_order_id).state == "done"


def test_another_operator_s_users_get_404_on_the_new_types(client_for, world, admin_b):
    request = disconnection_open(
        operator=world.operator, customer=world.jeanne, connection=world.tap, channel="office", acting_user=world.care
    )
    outsider = client_for(admin_b)
    assert outsider.get(reverse("servicing:request_detail", args=[request.pk])).status_code == 404
    assert (
        outsider.post(reverse("servicing:request_transition", args=[request.pk]), {"transition": "review"}).status_code
        == 404
    )
    assert outsider.get(f"/api/v1/service-requests/{request.pk}").status_code == 404
    # naming operator A's customer and connection on B's page finds nothing and opens nothing
    response = outsider.post(
        reverse("servicing:new_termination"),
        {"customer_number": world.jeanne.number, "connection_number": "AAL-0001", "channel": "office"},
    )
    assert response.status_code == 400 and "No customer with this number" in response.content.decode()
    api = post_json(
        outsider,
        "/api/v1/service-requests",
        {"type": "termination", "channel": "office", "customer_id": world.jeanne.pk, "connection_id": world.tap.pk},
    )
    assert api.status_code == 400
    assert ServiceRequest.objects.count() == 1
    assert outsider.get(f"/api/v1/customers/{world.jeanne.pk}/overview").status_code == 404
