"""The outbox card on the home page, with a badge counting the failed messages its reader can see."""

from django.urls import reverse

from mita.notifications.models import OutboxMessage

from .conftest import outbox_message


def _outbox_card(client):  # type: ignore[no-untyped-def]
    cards = client.get(reverse("core:home")).context["cards"]
    return next(((card, badge) for card, badge in cards if card.key == "notifications.outbox"), None)


def test_the_badge_counts_the_failed_messages_of_the_admins_operator(client_for, admin_a, operator_a, operator_b):
    outbox_message(operator=operator_a, status=OutboxMessage.Status.FAILED)
    outbox_message(operator=operator_a, status=OutboxMessage.Status.SENT)
    outbox_message(operator=operator_b, status=OutboxMessage.Status.FAILED)
    outbox_message(operator=operator_b, status=OutboxMessage.Status.FAILED)
    card, badge = _outbox_card(client_for(admin_a))
    assert badge == 1
    assert card.url() == reverse("notifications:outbox_list")


def test_the_regulator_admins_badge_counts_every_failed_message(client_for, regulator_admin, operator_a, operator_b):
    outbox_message(operator=operator_a, status=OutboxMessage.Status.FAILED)
    outbox_message(operator=operator_b, status=OutboxMessage.Status.FAILED)
    outbox_message(operator=None, status=OutboxMessage.Status.FAILED)
    assert _outbox_card(client_for(regulator_admin))[1] == 3


def test_no_failed_message_no_badge(client_for, admin_a, operator_a):
    outbox_message(operator=operator_a, status=OutboxMessage.Status.DELIVERED)
    assert _outbox_card(client_for(admin_a))[1] is None


def test_a_billing_officer_has_no_outbox_card(client_for, staff_a):
    assert _outbox_card(client_for(staff_a)) is None
