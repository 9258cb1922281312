"""GET /api/v1/notifications/outbox and /outbox/{id}: the same readers as the pages, paginated."""

from mita.notifications.models import OutboxMessage

from .conftest import outbox_message

API = "/api/v1/notifications/outbox"


def test_an_operator_admin_lists_their_operators_messages_paginated(client_for, admin_a, operator_a, operator_b):
    for n in range(3):
        outbox_message(operator=operator_a, to=f"+25078800000{n}")
    outbox_message(operator=operator_b, to="+250788999999")
    response = client_for(admin_a).get(API, {"limit": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert len(body["items"]) == 2
    assert {item["operator_id"] for item in body["items"]} == {operator_a.pk}
    rest = client_for(admin_a).get(API, {"limit": 2, "offset": 2}).json()
    assert len(rest["items"]) == 1
    assert "+250788999999" not in {item["to"] for item in body["items"] + rest["items"]}


def test_the_list_filters_by_status_and_channel(client_for, admin_a, operator_a):
    outbox_message(operator=operator_a, to="+250788000001", status=OutboxMessage.Status.FAILED)
    outbox_message(operator=operator_a, to="+250788000002")
    outbox_message(operator=operator_a, to="ann@example.org", channel="email", status=OutboxMessage.Status.FAILED)
    client = client_for(admin_a)
    failed = client.get(API, {"status": "failed"}).json()
    assert sorted(item["to"] for item in failed["items"]) == ["+250788000001", "ann@example.org"]
    failed_sms = client.get(API, {"status": "failed", "channel": "sms"}).json()
    assert [item["to"] for item in failed_sms["items"]] == ["+250788000001"]


def test_one_message_reads_with_its_delivery_details(client_for, admin_a, operator_a):
    message = outbox_message(
        operator=operator_a,
        body="Your bill is ready",
        attempts=2,
        last_error="HTTP 500",
        status=OutboxMessage.Status.RETRYING,
    )
    body = client_for(admin_a).get(f"{API}/{message.pk}").json()
    assert (body["id"], body["body"], body["attempts"], body["last_error"], body["status"]) == (
        message.pk,
        "Your bill is ready",
        2,
        "HTTP 500",
        "retrying",
    )
    assert body["body_hidden"] is False


def test_another_operators_message_is_a_404_for_the_outsider(client_for, admin_b, operator_a):
    message = outbox_message(operator=operator_a, body="Secret message of A")
    response = client_for(admin_b).get(f"{API}/{message.pk}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "Secret message of A" not in response.content.decode()


def test_a_billing_officer_is_refused(client_for, staff_a, operator_a):
    message = outbox_message(operator=operator_a)
    client = client_for(staff_a)
    response = client.get(API)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert client.get(f"{API}/{message.pk}").status_code == 403


def test_a_regulator_admin_lists_every_message(client_for, regulator_admin, operator_a, operator_b):
    outbox_message(operator=operator_a)
    outbox_message(operator=operator_b)
    outbox_message(operator=None)
    assert client_for(regulator_admin).get(API).json()["count"] == 3


def test_a_secret_is_not_in_the_api_once_a_gateway_has_it(client_for, regulator_admin):
    message = outbox_message(sensitive=True, body="Your Mita code is 515151.", status=OutboxMessage.Status.SENT)
    body = client_for(regulator_admin).get(f"{API}/{message.pk}").json()
    assert body["body"] is None
    assert body["body_hidden"] is True


def test_the_api_needs_a_signed_in_user(client):
    assert client.get(API).status_code == 401
