"""Africa's Talking posts delivery reports to /notifications/at/delivery/<secret>/; they set the final status."""

import datetime

import pytest
from django.db import transaction
from django.urls import reverse

from mita.notifications.models import OutboxMessage
from mita.notifications.services import message_queue

from .conftest import DELIVERY_SECRET

NUMBER = "+250788123456"


@pytest.fixture
def sent(at_gateway, operator_a, django_capture_on_commit_callbacks) -> OutboxMessage:  # type: ignore[no-untyped-def]
    """An SMS that AT has accepted."""
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = message_queue(
            channel="sms", to=NUMBER, template="notifications.test", context={"name": "Ann"}, operator=operator_a
        )
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    return message


def _url(secret: str = DELIVERY_SECRET) -> str:
    return reverse("notifications:at_delivery_report", args=[secret])


def test_a_success_report_marks_the_message_delivered(client, at_gateway, sent):
    # when AT reports the SMS delivered
    response = client.post(_url(), at_gateway.delivery_report(sent.provider_message_id, "Success"))
    # then the outbox says so, and when
    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.status == OutboxMessage.Status.DELIVERED
    assert sent.delivered_at is not None
    assert sent.provider_status == "Success"


def test_the_same_report_twice_changes_nothing_the_second_time(client, at_gateway, sent):
    report = at_gateway.delivery_report(sent.provider_message_id, "Success")
    client.post(_url(), report)
    sent.refresh_from_db()
    first_delivered_at = sent.delivered_at
    OutboxMessage.objects.filter(pk=sent.pk).update(delivered_at=first_delivered_at - datetime.timedelta(hours=1))
    # when AT posts the same report again (it retries until it gets a 200)
    assert client.post(_url(), report).status_code == 200
    # then the recorded delivery time is the first one's
    sent.refresh_from_db()
    assert sent.delivered_at == first_delivered_at - datetime.timedelta(hours=1)
    assert sent.status == OutboxMessage.Status.DELIVERED


def test_a_failure_report_fails_the_message_with_the_reason_and_offers_to_send_it_again(
    client, client_for, admin_a, at_gateway, sent
):
    report = at_gateway.delivery_report(sent.provider_message_id, "Failed", failure_reason="AbsentSubscriber")
    assert client.post(_url(), report).status_code == 200
    sent.refresh_from_db()
    assert sent.status == OutboxMessage.Status.FAILED
    assert sent.last_error == "Not delivered: Failed (AbsentSubscriber)"
    page = client_for(admin_a).get(reverse("notifications:outbox_detail", args=[sent.pk])).content.decode()
    assert "AbsentSubscriber" in page
    assert 'data-testid="send-again"' in page


def test_a_report_on_the_way_keeps_the_message_sent(client, at_gateway, sent):
    client.post(_url(), at_gateway.delivery_report(sent.provider_message_id, "Buffered"))
    sent.refresh_from_db()
    assert sent.status == OutboxMessage.Status.SENT
    assert sent.provider_status == "Buffered"


def test_a_late_failure_report_does_not_undo_a_delivery(client, at_gateway, sent):
    client.post(_url(), at_gateway.delivery_report(sent.provider_message_id, "Success"))
    client.post(_url(), at_gateway.delivery_report(sent.provider_message_id, "Failed"))
    sent.refresh_from_db()
    assert sent.status == OutboxMessage.Status.DELIVERED


def test_a_report_for_an_unknown_message_is_accepted_and_changes_nothing(client, at_gateway, sent):
    response = client.post(_url(), {"id": "ATXid_unknown", "status": "Failed", "phoneNumber": NUMBER})
    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.status == OutboxMessage.Status.SENT


def test_a_form_without_an_id_is_a_bad_request(client, at_gateway):
    assert client.post(_url(), {"status": "Success"}).status_code == 400


def test_a_wrong_secret_is_a_404_and_changes_nothing(client, at_gateway, sent):
    response = client.post(_url("guessed"), at_gateway.delivery_report(sent.provider_message_id, "Success"))
    assert response.status_code == 404
    sent.refresh_from_db()
    assert sent.status == OutboxMessage.Status.SENT


def test_without_a_configured_secret_every_report_is_a_404(settings, client, at_gateway, sent):
    settings.MITA_AT_DELIVERY_SECRET = ""
    response = client.post(_url("anything"), at_gateway.delivery_report(sent.provider_message_id, "Success"))
    assert response.status_code == 404
    sent.refresh_from_db()
    assert sent.status == OutboxMessage.Status.SENT


def test_the_callback_only_takes_posts(client, at_gateway):
    assert client.get(_url()).status_code == 405


@pytest.mark.django_db(transaction=True)
def test_the_fake_posts_a_delivery_report_over_http_to_the_running_site(live_server, at_gateway, operator_a):
    # given an SMS sent through AT (outside any transaction here, so the site's thread sees it)
    message = message_queue(
        channel="sms", to=NUMBER, template="notifications.test", context={"name": "Ann"}, operator=operator_a
    )
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    # when AT posts its delivery report to the callback URL, as configured in its dashboard
    status = at_gateway.deliver(message.provider_message_id, "Success", callback_url=live_server.url + _url())
    # then the site accepted it and the message is delivered
    assert status == 200
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.DELIVERED
