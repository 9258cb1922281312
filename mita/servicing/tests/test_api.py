"""The servicing API: opening requests, taking transitions (errors naming the allowed ones), work orders and their
results, the fee schedule, and another operator's user getting 404."""

import pytest

from mita.customers.services import customer_create
from mita.servicing.models import ServiceRequest

from .world import World

pytestmark = pytest.mark.django_db


def post(client, url, data):  # type: ignore[no-untyped-def]
    return client.post(url, data, content_type="application/json")


@pytest.fixture
def world(operator_a):  # type: ignore[no-untyped-def]
    return World(operator_a)


def test_an_agent_application_then_the_survey_through_the_api(client_for, world):
    care = client_for(world.care)
    # when an agent's application for a new customer is sent
    response = post(
        care,
        "/api/v1/service-requests",
        {
            "type": "new_connection",
            "channel": "agent",
            "customer": {"name": "Jeanne Uwase", "phone": "0788123456"},
            "utility": "water",
            "property_type": "residential",
            "terms_accepted": True,
        },
    )
    assert response.status_code == 201, response.json()
    created = response.json()
    assert (created["number"], created["state"], created["connection_number"], created["terms_version"]) == (
        "AAL-SR-000001",
        "received",
        "AAL-N-000001",
        "2026-1",
    )
    assert created["allowed_transitions"] == ["assign_survey", "reject"]
    # when a transition not allowed is asked for, the answer names the allowed ones
    refused = post(care, f"/api/v1/service-requests/{created['id']}/transitions", {"transition": "installed"})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "transition_not_allowed"
    assert "assign_survey, reject" in refused.json()["error"]["message"]
    # when the surveyor is assigned
    moved = post(
        care,
        f"/api/v1/service-requests/{created['id']}/transitions",
        {"transition": "assign_survey", "assignee_id": world.technician.pk},
    )
    assert moved.status_code == 200 and moved.json()["state"] == "survey"
    work_order_id = moved.json()["work_order_ids"][0]
    # then the technician sees it among their work orders and records the survey
    technician = client_for(world.technician)
    listed = technician.get("/api/v1/work-orders?mine=true").json()
    assert [row["id"] for row in listed["items"]] == [work_order_id]
    bad = post(technician, f"/api/v1/work-orders/{work_order_id}/complete", {"result": {"distance_m": "x"}})
    assert bad.status_code == 400 and "distance_m" in bad.json()["error"]["fields"]
    done = post(technician, f"/api/v1/work-orders/{work_order_id}/complete", {"result": world.survey_result()})
    assert done.status_code == 200 and done.json()["state"] == "done"
    detail = care.get(f"/api/v1/service-requests/{created['id']}").json()
    assert detail["state"] == "connection_fee_due"
    assert [(fee["kind"], fee["amount"], fee["open"]) for fee in detail["fees"]] == [
        ("connection", "10000.00", "10000.00")
    ]
    assert [event["transition"] for event in detail["events"]][:3] == ["created", "assign_survey", "work_order_opened"]


def test_an_office_application_is_sent_to_the_page_for_its_signed_form(client_for, world):
    response = post(
        client_for(world.care),
        "/api/v1/service-requests",
        {
            "type": "new_connection",
            "channel": "office",
            "customer": {"name": "J", "phone": "0788123456"},
            "utility": "water",
            "property_type": "residential",
            "terms_accepted": True,
        },
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "office_needs_form"
    assert not ServiceRequest.objects.exists()


def test_a_complaint_through_the_api(client_for, world):
    customer = customer_create(operator=world.operator, acting_user=None, name="Eric", phone="+250788123457")
    care = client_for(world.care)
    response = post(
        care,
        "/api/v1/service-requests",
        {
            "type": "complaint",
            "channel": "phone",
            "customer_id": customer.pk,
            "category": "no_supply",
            "summary": "No water since Monday",
        },
    )
    assert response.status_code == 201 and response.json()["data"] == {"category": "no_supply"}
    listed = care.get("/api/v1/service-requests?type=complaint&state=received").json()
    assert listed["count"] == 1
    comment = post(care, f"/api/v1/service-requests/{response.json()['id']}/comments", {"text": "Called back"})
    assert comment.status_code == 201


def test_the_fee_schedule_through_the_api(client_for, world):
    admin = client_for(world.admin)
    response = post(admin, "/api/v1/service-fees", {"kind": "connection", "utility": "water", "amount": "12000"})
    assert response.status_code == 201 and response.json()["amount"] == "12000.00"
    fees = client_for(world.cashier).get("/api/v1/service-fees").json()
    assert [(fee["kind"], fee["amount"]) for fee in fees] == [("connection", "12000.00")]
    assert (
        post(
            client_for(world.cashier), "/api/v1/service-fees", {"kind": "connection", "utility": "water", "amount": "1"}
        ).status_code
        == 403
    )
    bad = post(admin, "/api/v1/service-fees", {"kind": "connection", "utility": "gas", "amount": "-1"})
    assert bad.status_code == 400 and set(bad.json()["error"]["fields"]) == {"utility", "amount"}


def test_another_operator_s_admin_gets_404(client_for, world, admin_b):
    customer = customer_create(operator=world.operator, acting_user=None, name="Eric", phone="+250788123457")
    created = post(
        client_for(world.care),
        "/api/v1/service-requests",
        {"type": "complaint", "channel": "phone", "customer_id": customer.pk, "category": "leak", "summary": "Leak"},
    ).json()
    outsider = client_for(admin_b)
    assert outsider.get(f"/api/v1/service-requests/{created['id']}").status_code == 404
    assert (
        post(outsider, f"/api/v1/service-requests/{created['id']}/transitions", {"transition": "assign"}).status_code
        == 404
    )
    assert outsider.get("/api/v1/service-requests").json()["count"] == 0
    # nor may they open a request on operator A's customer
    refused = post(
        outsider,
        "/api/v1/service-requests",
        {"type": "complaint", "channel": "phone", "customer_id": customer.pk, "category": "leak", "summary": "x"},
    )
    assert refused.status_code == 400 and "customer_id" in refused.json()["error"]["fields"]
