"""The outbox pages: operator admins read their operator's messages, regulator admins all; others never."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mita.accounts.roles import Role
from mita.notifications import selectors
from mita.notifications.models import OutboxMessage

from .conftest import outbox_message

LIST = reverse("notifications:outbox_list")


def _detail(message: OutboxMessage) -> str:
    return reverse("notifications:outbox_detail", args=[message.pk])


def test_the_outbox_role_names_are_those_of_accounts():
    assert (selectors.OPERATOR_ADMIN, selectors.REGULATOR_ADMIN) == (Role.OPERATOR_ADMIN, Role.REGULATOR_ADMIN)


def test_an_operator_admin_sees_their_operators_messages_only(client_for, admin_a, operator_a, operator_b):
    outbox_message(operator=operator_a, to="+250788000001", body="Your bill for October is ready")
    outbox_message(operator=operator_b, to="+250788000002", body="Bravo's own message")
    outbox_message(operator=None, to="+250788000003", body="A code for someone")
    page = client_for(admin_a).get(LIST).content.decode()
    assert "+250788000001" in page
    assert "Your bill for October is ready" in page
    assert "+250788000002" not in page
    assert "+250788000003" not in page


def test_the_list_filters_by_status_channel_and_recipient(client_for, admin_a, operator_a):
    outbox_message(operator=operator_a, to="+250788000001", status=OutboxMessage.Status.FAILED)
    outbox_message(operator=operator_a, to="+250788000002", status=OutboxMessage.Status.SENT)
    outbox_message(
        operator=operator_a,
        to="ann@example.org",
        channel=OutboxMessage.Channel.EMAIL,
        status=OutboxMessage.Status.FAILED,
    )
    client = client_for(admin_a)
    failed = client.get(LIST, {"status": "failed"}).content.decode()
    assert "+250788000001" in failed and "ann@example.org" in failed and "+250788000002" not in failed
    failed_sms = client.get(LIST, {"status": "failed", "channel": "sms"}).content.decode()
    assert "+250788000001" in failed_sms and "ann@example.org" not in failed_sms
    to = client.get(LIST, {"to": "000002"}).content.decode()
    assert "+250788000002" in to and "+250788000001" not in to


def test_a_regulator_admin_sees_every_operators_messages_and_mitas_own(
    client_for, regulator_admin, operator_a, operator_b
):
    a = outbox_message(operator=operator_a, to="+250788000001")
    outbox_message(operator=operator_b, to="+250788000002")
    outbox_message(operator=None, to="+250788000003")
    client = client_for(regulator_admin)
    page = client.get(LIST).content.decode()
    assert all(number in page for number in ("+250788000001", "+250788000002", "+250788000003"))
    assert "Amazi Alpha Ltd" in page
    assert client.get(_detail(a)).status_code == 200


def test_a_billing_officer_may_not_open_the_outbox(client_for, staff_a, operator_a):
    message = outbox_message(operator=operator_a)
    client = client_for(staff_a)
    assert client.get(LIST).status_code == 403
    assert client.get(_detail(message)).status_code == 403


def test_another_operators_message_is_a_404_for_the_outsider(client_for, admin_b, operator_a):
    message = outbox_message(operator=operator_a, body="Secret message of A", status=OutboxMessage.Status.FAILED)
    client = client_for(admin_b)
    response = client.get(_detail(message))
    assert response.status_code == 404
    assert "Secret message of A" not in response.content.decode()
    assert client.post(reverse("notifications:outbox_send_again", args=[message.pk])).status_code == 404
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.FAILED


def test_signed_out_visitors_are_sent_to_sign_in(client, operator_a):
    message = outbox_message(operator=operator_a)
    assert client.get(LIST).status_code == 302
    assert client.get(_detail(message)).status_code == 302


def test_the_detail_shows_the_full_body_attempts_and_last_error(client_for, admin_a, operator_a):
    body = "Dear customer, your water bill for October is 12,400 RWF. " * 3
    message = outbox_message(
        operator=operator_a,
        body=body,
        attempts=4,
        status=OutboxMessage.Status.RETRYING,
        last_error="Africa's Talking answered HTTP 500: Internal Server Error",
    )
    page = client_for(admin_a).get(_detail(message)).content.decode()
    assert body.strip() in page
    assert 'data-testid="attempts">4<' in page
    assert "HTTP 500: Internal Server Error" in page
    assert 'data-testid="send-again"' not in page  # only a failed message can be sent again


def test_a_regulator_admin_resends_mitas_own_messages_but_not_an_operators(
    client_for, regulator_admin, operator_a, django_capture_on_commit_callbacks
):
    operators = outbox_message(operator=operator_a, status=OutboxMessage.Status.FAILED)
    mitas = outbox_message(operator=None, status=OutboxMessage.Status.FAILED)
    client = client_for(regulator_admin)
    assert 'data-testid="send-again"' not in client.get(_detail(operators)).content.decode()
    assert client.post(reverse("notifications:outbox_send_again", args=[operators.pk])).status_code == 403
    assert 'data-testid="send-again"' in client.get(_detail(mitas)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("notifications:outbox_send_again", args=[mitas.pk]))
    operators.refresh_from_db()
    mitas.refresh_from_db()
    assert operators.status == OutboxMessage.Status.FAILED
    assert mitas.status == OutboxMessage.Status.KEPT  # sent again, through the default outbox-only gateway


def test_a_message_carrying_a_secret_is_hidden_once_a_gateway_has_it(client_for, regulator_admin):
    kept = outbox_message(
        template="accounts.password_reset_code",
        sensitive=True,
        status=OutboxMessage.Status.KEPT,
        body="Your Mita code is 424242.",
    )
    sent = outbox_message(
        template="accounts.password_reset_code",
        sensitive=True,
        status=OutboxMessage.Status.SENT,
        body="Your Mita code is 515151.",
    )
    client = client_for(regulator_admin)
    # with no gateway, the outbox is the only way to the recipient, so it shows the code
    assert "424242" in client.get(_detail(kept)).content.decode()
    # sent by SMS, the code is the recipient's alone
    page = client.get(_detail(sent)).content.decode()
    assert "515151" not in page
    assert 'data-testid="body-hidden"' in page
    assert "515151" not in client.get(LIST).content.decode()


def test_the_list_does_not_grow_its_queries_with_its_rows(client_for, regulator_admin, operator_a, operator_b):
    client = client_for(regulator_admin)
    outbox_message(operator=operator_a)
    client.get(LIST)  # warm up the session and workspace
    with CaptureQueriesContext(connection) as few:
        client.get(LIST)
    for operator in (operator_a, operator_b) * 5:
        outbox_message(operator=operator)
    with CaptureQueriesContext(connection) as many:
        client.get(LIST)
    assert len(many) == len(few)
