"""Online payments end to end: payment links, checkouts on the fake gateway over real HTTP, the webhook as a hint
always verified, the customer's return, the poller, and exactly one payment however many webhooks arrive at once."""

import datetime
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mita.accounts.roles import Role
from mita.core.errors import DomainError
from mita.core.models import AuditEntry
from mita.core.schedule import periodic_tasks
from mita.integrations.gateway.fake import json_bytes
from mita.ledger.models import Transfer
from mita.ledger.selectors import holder_balance, ledger_verify, trial_balance
from mita.notifications.models import OutboxMessage
from mita.payments.models import Payment, Receipt
from mita.payments.models_online import OnlineChannelConfig, OnlineCheckout, PaymentLink
from mita.payments.online import (
    online_channel_configure,
    online_confirm,
    online_poll,
    online_webhook_target,
    online_webhook_url,
    payment_link_for,
    payment_link_send,
    payment_link_url,
)
from mita.payments.services import payment_receive
from mita.testing.factories import member
from mita.testing.threads import in_threads

from .conftest import HOLDER, OTHER_HOLDER, PAYER, charge, csrf_of, deliver, start, webhook_path

CONCURRENT = 50


# The whole journey over HTTP -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_customer_pays_a_link_over_http_and_a_receipt_lands_on_the_account(
    gateway, customer_a, operator_a, admin_a, live_server, settings, client_for
):
    # given the site's public address, operator A's online payments set up in the gateway's dashboard
    settings.MITA_PUBLIC_URL = live_server.url
    config = online_channel_configure(operator=operator_a, acting_user=admin_a)
    gateway.dashboard(webhook_url=online_webhook_url(config=config), secret_hash=config.secret_hash)
    # and a payment link for an account owing 1,500, as a bill's SMS would carry it
    link = payment_link_for(operator=operator_a, holder=HOLDER)
    assert link is not None
    url = payment_link_url(link=link)
    assert url == f"{live_server.url}/pay/{link.token}/"
    with httpx.Client(timeout=10) as browser:
        # when the customer opens it
        page = browser.get(url)
        # then it shows who is paid, for which account, and what it owes
        assert page.status_code == 200
        assert "Amazi Alpha Ltd" in page.text and HOLDER in page.text and "1,500 RWF" in page.text
        # when they pay 1,500 from their phone
        started = browser.post(
            url, data={"csrfmiddlewaretoken": csrf_of(page.text), "amount": "1500", "payer_phone": "0788 123 456"}
        )
        # then they are sent to the gateway's checkout page for exactly that
        assert started.status_code == 302
        checkout_url = started.headers["Location"]
        assert checkout_url.startswith(gateway.base_url + "/v3/hosted/pay/")
        [held] = gateway.checkouts
        assert (held.amount, held.currency, held.customer["phonenumber"]) == (Decimal("1500"), "RWF", PAYER)
        assert held.redirect_url == f"{live_server.url}/pay/{link.token}/return/"
        assert "1500 RWF" in browser.get(checkout_url).text
        # when they pay there: the gateway sends its webhook to the site, then the customer back
        back = browser.post(checkout_url, data={"outcome": "successful"})
        # then the webhook, verified with the gateway, made the payment and its receipt
        [transaction] = gateway.transactions
        payment = Payment.objects.get()
        assert (payment.channel, payment.amount, payment.holder, payment.status) == (
            "online",
            Decimal("1500"),
            HOLDER,
            Payment.Status.COMPLETED,
        )
        assert payment.idempotency_key == f"online:{transaction.transaction_id}"
        assert payment.provider_reference == transaction.transaction_id
        assert payment.memo["tx_ref"] == held.tx_ref and payment.payer_phone == PAYER
        assert Receipt.objects.get(payment=payment).number == "AAL-R-000001"
        checkout = OnlineCheckout.objects.get()
        assert (checkout.status, checkout.payment, checkout.confirmed_amount) == (
            "successful",
            payment,
            Decimal("1500"),
        )
        assert checkout.gateway_reference == transaction.flw_ref
        # and the customer, back on the site, sees their receipt
        assert back.status_code == 303
        returned = browser.get(back.headers["Location"])
        assert returned.status_code == 200 and "AAL-R-000001" in returned.text and "Thank you." in returned.text
    # and the account owes nothing; the cashier sees the receipt on it; the ledger balances
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("0")
    assert holder_balance(operator=operator_a, holder=OTHER_HOLDER) == Decimal("1500")
    cashier = member(Role.CASHIER, operator_a, name="Claire Cashier")
    account = client_for(cashier).get(reverse("payments:account_detail", args=[HOLDER])).content.decode()
    assert "AAL-R-000001" in account and "Online payment" in account
    assert trial_balance(operator=operator_a) == 0 and ledger_verify() == []
    assert Payment.objects.count() == 1


def test_without_a_webhook_the_customer_s_return_is_verified_and_makes_the_payment(
    gateway, link_a, online_a, operator_a
):
    checkout = start(link_a)
    paid = gateway.pay(checkout.tx_ref, webhook=False)
    # the browser comes back with the gateway's query
    query = urlsplit(gateway.redirect_for(paid.transaction_id)).query
    response = Client().get(reverse("online:return", args=[link_a.token]) + "?" + query)
    assert response.status_code == 200 and "AAL-R-000001" in response.content.decode()
    checkout.refresh_from_db()
    assert checkout.status == "successful" and checkout.payment.amount == Decimal("1500")
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("0")


# The webhook is only a hint ------------------------------------------------------------------------------------


def test_a_replayed_webhook_makes_one_payment(gateway, link_a, online_a, operator_a):
    checkout = start(link_a)
    paid = gateway.pay(checkout.tx_ref, webhook=False)
    answers = [deliver(gateway, online_a, paid.transaction_id) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].json() == {"received": True, "matched": True}
    payment = Payment.objects.get()
    assert Transfer.objects.filter(reference=payment.ledger_reference).count() == 1
    assert Receipt.objects.count() == 1
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("0")


def test_a_webhook_lying_about_the_amount_records_what_the_gateway_verifies(gateway, link_a, online_a, operator_a):
    checkout = start(link_a)
    paid = gateway.pay(checkout.tx_ref, webhook=False)
    assert deliver(gateway, online_a, paid.transaction_id, amount=Decimal("999999")).status_code == 200
    assert Payment.objects.get().amount == Decimal("1500")
    checkout.refresh_from_db()
    assert checkout.confirmed_amount == Decimal("1500") and checkout.reason == ""
    assert holder_balance(operator=operator_a, holder=HOLDER, purpose="credit") == Decimal("0")


def test_when_the_gateway_collected_another_amount_that_amount_is_recorded_and_noted(
    gateway, link_a, online_a, operator_a
):
    checkout = start(link_a)
    paid = gateway.pay(checkout.tx_ref, amount=Decimal("1000"), webhook=False)
    deliver(gateway, online_a, paid.transaction_id, amount=Decimal("1500"))  # the webhook says 1,500
    checkout.refresh_from_db()
    assert (checkout.status, checkout.confirmed_amount) == ("successful", Decimal("1000"))
    assert "1000" in checkout.reason and "1500" in checkout.reason
    assert Payment.objects.get().amount == Decimal("1000")
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("500")


def test_a_webhook_claiming_success_for_a_declined_payment_records_nothing(gateway, link_a, online_a, operator_a):
    checkout = start(link_a)
    declined = gateway.pay(checkout.tx_ref, "failed", webhook=False)
    assert deliver(gateway, online_a, declined.transaction_id, status="successful").status_code == 200
    checkout.refresh_from_db()
    assert (checkout.status, checkout.reason) == ("failed", "Declined by the issuer")
    assert not Payment.objects.exists()
    # and the customer, trying again on the same page, pays: that money is taken although the checkout had failed
    paid = gateway.pay(checkout.tx_ref, webhook=False)
    deliver(gateway, online_a, paid.transaction_id)
    checkout.refresh_from_db()
    assert checkout.status == "successful" and checkout.transaction_id == paid.transaction_id
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("0")


def test_a_webhook_of_a_transaction_of_another_operator_changes_nothing_of_theirs(
    gateway, customer_a, online_a, link_a, operator_a, operator_b, admin_b
):
    # operator B's customer pays on B's checkout
    charge(operator_b, "BWC-000001")
    online_channel_configure(operator=operator_b, acting_user=admin_b)
    link_b = payment_link_for(operator=operator_b, holder="BWC-000001")
    assert link_b is not None
    checkout_b = start(link_b)
    paid_b = gateway.pay(checkout_b.tx_ref, webhook=False)
    # when its webhook is sent to operator A's URL with A's hash
    response = deliver(gateway, online_a, paid_b.transaction_id)
    # then A has no such checkout, and B's checkout is left to B's own webhook
    assert response.json() == {"received": True, "matched": False}
    checkout_b.refresh_from_db()
    assert checkout_b.status == "pending" and checkout_b.checks == 0
    assert not Payment.objects.exists()


def test_a_webhook_naming_a_checkout_but_no_transaction_is_verified_by_reference(gateway, link_a, online_a, operator_a):
    checkout = start(link_a)
    gateway.pay(checkout.tx_ref, webhook=False)
    body = {"event": "charge.completed", "data": {"tx_ref": checkout.tx_ref, "status": "successful"}}
    response = Client().post(
        webhook_path(online_a), body, content_type="application/json", HTTP_VERIF_HASH=online_a.secret_hash
    )
    assert response.json() == {"received": True, "matched": True}
    checkout.refresh_from_db()
    assert checkout.status == "successful"


def test_a_gateway_out_of_reach_during_a_webhook_leaves_the_checkout_to_the_poller(
    gateway, link_a, online_a, operator_a, settings
):
    settings.MITA_ONLINE_POLL_AFTER_SECONDS = 0
    checkout = start(link_a)
    paid = gateway.pay(checkout.tx_ref, webhook=False)
    gateway.fail("http500")
    assert deliver(gateway, online_a, paid.transaction_id).status_code == 200
    checkout.refresh_from_db()
    assert checkout.status == "pending" and "HTTP 500" in checkout.last_error
    assert online_poll(now=timezone.now() + datetime.timedelta(minutes=1)).successful == 1
    assert Payment.objects.get().amount == Decimal("1500")


# Authentication of the webhook -----------------------------------------------------------------------------------


@pytest.mark.parametrize("secret_hash", ["not-the-hash", ""])
def test_a_webhook_without_the_secret_hash_is_forbidden(gateway, link_a, online_a, secret_hash):
    checkout = start(link_a)
    paid = gateway.pay(checkout.tx_ref, webhook=False)
    response = deliver(gateway, online_a, paid.transaction_id, secret_hash=secret_hash)
    assert response.status_code == 403 and response.json()["error"]["code"] == "verif_hash_wrong"
    body = json_bytes(gateway.webhook_body(paid.transaction_id))
    assert Client().post(webhook_path(online_a), body, content_type="application/json").status_code == 403
    checkout.refresh_from_db()
    assert checkout.status == "pending" and checkout.checks == 0
    assert not Payment.objects.exists()


def test_a_webhook_to_a_wrong_url_is_not_found(gateway, link_a, online_a, operator_a, operator_b, admin_b):
    online_channel_configure(operator=operator_b, acting_user=admin_b)
    checkout = start(link_a)
    paid = gateway.pay(checkout.tx_ref, webhook=False)
    for operator_id, secret in (
        (operator_a.pk, "not-the-secret"),
        (operator_b.pk, online_a.callback_secret),  # another operator's URL with A's secret
        (999999, online_a.callback_secret),
    ):
        path = reverse("online:webhook", args=[operator_id, secret])
        assert deliver(gateway, online_a, paid.transaction_id, path=path).status_code == 404
    online_channel_configure(operator=operator_a, acting_user=None, enabled=False)
    assert deliver(gateway, online_a, paid.transaction_id).status_code == 404
    checkout.refresh_from_db()
    assert checkout.status == "pending" and checkout.checks == 0


def test_a_webhook_from_an_address_not_allowed_is_forbidden(gateway, link_a, online_a, operator_a, admin_a):
    checkout = start(link_a)
    paid = gateway.pay(checkout.tx_ref, webhook=False)
    online_channel_configure(operator=operator_a, acting_user=admin_a, allowed_ips=["52.31.139.0/24"])
    assert deliver(gateway, online_a, paid.transaction_id).status_code == 403
    assert not Payment.objects.exists()
    allowed = Client(REMOTE_ADDR="52.31.139.75")
    assert deliver(gateway, online_a, paid.transaction_id, client=allowed).status_code == 200
    assert Payment.objects.count() == 1


def test_rotating_the_webhook_secret_retires_the_old_url(gateway, link_a, online_a, operator_a, admin_a):
    checkout = start(link_a)
    paid = gateway.pay(checkout.tx_ref, webhook=False)
    old_path = webhook_path(online_a)
    rotated = online_channel_configure(
        operator=operator_a, acting_user=admin_a, rotate_callback_secret=True, rotate_secret_hash=True
    )
    assert rotated.callback_secret != online_a.callback_secret and rotated.secret_hash != online_a.secret_hash
    assert deliver(gateway, rotated, paid.transaction_id, path=old_path).status_code == 404
    assert deliver(gateway, online_a, paid.transaction_id, path=webhook_path(rotated)).status_code == 403
    assert deliver(gateway, rotated, paid.transaction_id).status_code == 200


@pytest.mark.parametrize(
    "body", [b"not json", b"[1, 2]", b'{"event": "charge.completed"}', b'{"data": {"id": "1; DROP TABLE"}}']
)
def test_a_webhook_body_that_names_no_transaction_is_a_400_with_nothing_saved(gateway, online_a, body):
    response = Client().post(
        webhook_path(online_a), body, content_type="application/json", HTTP_VERIF_HASH=online_a.secret_hash
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "payload_invalid"
    assert not Payment.objects.exists()


def test_the_webhook_answers_only_post(online_a):
    response = Client().get(webhook_path(online_a), HTTP_VERIF_HASH=online_a.secret_hash)
    assert response.status_code == 405 and response["Allow"] == "POST"


# Concurrency -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_identical_webhooks_make_exactly_one_payment_and_one_set_of_transfers(
    gateway, customer_a, operator_a, admin_a
):
    config = online_channel_configure(operator=operator_a, acting_user=admin_a)
    link = payment_link_for(operator=operator_a, holder=HOLDER)
    assert link is not None
    checkout = start(link)
    paid = gateway.pay(checkout.tx_ref, webhook=False)
    body = json_bytes(gateway.webhook_body(paid.transaction_id))
    path = webhook_path(config)

    def deliver_once(_index: int) -> int:
        response = Client().post(path, body, content_type="application/json", HTTP_VERIF_HASH=config.secret_hash)
        return response.status_code

    results = in_threads(deliver_once, CONCURRENT)
    assert results == [200] * CONCURRENT, results
    payment = Payment.objects.get()
    assert payment.amount == Decimal("1500") and Receipt.objects.filter(payment=payment).count() == 1
    assert Transfer.objects.filter(reference=payment.ledger_reference).count() == 1
    assert OnlineCheckout.objects.get().payment == payment
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("0")
    assert trial_balance(operator=operator_a) == 0 and ledger_verify() == []


# Failed, cancelled, paid twice, review ---------------------------------------------------------------------------


def test_a_customer_who_cancels_is_told_nothing_was_taken(gateway, link_a, online_a):
    checkout = start(link_a)
    query = urlsplit(gateway.cancel(checkout.tx_ref)).query
    assert parse_qs(query)["status"] == ["cancelled"]
    page = Client().get(reverse("online:return", args=[link_a.token]) + "?" + query)
    assert page.status_code == 200 and "You cancelled the payment. Nothing was taken." in page.content.decode()
    checkout.refresh_from_db()
    assert checkout.status == "cancelled" and not Payment.objects.exists()


def test_a_return_saying_paid_for_a_checkout_the_gateway_has_nothing_on_stays_pending(gateway, link_a, online_a):
    checkout = start(link_a)
    query = f"status=successful&tx_ref={checkout.tx_ref}&transaction_id=123456"
    page = Client().get(reverse("online:return", args=[link_a.token]) + "?" + query)
    assert page.status_code == 200 and 'data-testid="pay-pending"' in page.content.decode()
    checkout.refresh_from_db()
    assert checkout.status == "pending" and not Payment.objects.exists()


def test_a_declined_payment_is_shown_to_the_customer_with_a_way_to_try_again(gateway, link_a, online_a):
    checkout = start(link_a)
    declined = gateway.pay(checkout.tx_ref, "failed", webhook=False)
    page = Client().get(
        reverse("online:return", args=[link_a.token])
        + "?"
        + urlsplit(gateway.redirect_for(declined.transaction_id)).query
    )
    body = page.content.decode()
    assert "The payment did not go through. Nothing was taken." in body and "Declined by the issuer" in body
    assert reverse("online:pay", args=[link_a.token]) in body


def test_a_second_payment_on_a_paid_checkout_is_taken_too(gateway, link_a, online_a, operator_a):
    checkout = start(link_a, amount="1000")
    first = gateway.pay(checkout.tx_ref, webhook=False)
    deliver(gateway, online_a, first.transaction_id)
    again = gateway.pay(checkout.tx_ref, webhook=False, again=True)
    deliver(gateway, online_a, again.transaction_id)
    deliver(gateway, online_a, again.transaction_id)
    assert sorted(p.provider_reference for p in Payment.objects.all()) == sorted(
        [first.transaction_id, again.transaction_id]
    )
    assert holder_balance(operator=operator_a, holder=HOLDER, purpose="credit") == Decimal("500")
    assert AuditEntry.objects.filter(action="online.paid_again").count() == 2
    checkout.refresh_from_db()
    assert checkout.transaction_id == first.transaction_id


def test_a_verified_payment_that_cannot_be_recorded_waits_for_review(gateway, link_a, online_a, operator_a):
    checkout = start(link_a)
    paid = gateway.pay(checkout.tx_ref, webhook=False)
    # the key is taken by another payment (a mistake made by hand)
    payment_receive(
        operator=operator_a,
        channel="online",
        amount=Decimal("1"),
        account_reference=OTHER_HOLDER,
        idempotency_key=f"online:{paid.transaction_id}",
        received_by=None,
    )
    deliver(gateway, online_a, paid.transaction_id)
    checkout.refresh_from_db()
    assert checkout.status == "review" and checkout.reason.startswith("idempotency_key_reused")
    assert checkout.payment is None and checkout.confirmed_amount == Decimal("1500")
    page = Client().get(reverse("online:return", args=[link_a.token]) + f"?tx_ref={checkout.tx_ref}")
    assert checkout.tx_ref in page.content.decode() and 'data-testid="pay-review"' in page.content.decode()


# The poller ------------------------------------------------------------------------------------------------------


def test_a_checkout_whose_webhook_and_customer_never_came_back_is_completed_by_the_poller(
    gateway, link_a, online_a, operator_a, settings
):
    import mita.payments.tasks as tasks

    settings.MITA_ONLINE_POLL_AFTER_SECONDS = 0
    checkout = start(link_a)
    gateway.pay(checkout.tx_ref, webhook=False)
    assert "payments.online_poll" in {periodic.name for periodic in periodic_tasks()}
    assert tasks.online_poll_pending.enqueue().return_value["successful"] == 1
    checkout.refresh_from_db()
    assert checkout.status == "successful"
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("0")


def test_the_poller_leaves_recent_checkouts_to_their_webhook_and_expires_the_abandoned(gateway, link_a, online_a):
    checkout = start(link_a)
    assert online_poll().checked == 0  # made a moment ago
    OnlineCheckout.objects.filter(pk=checkout.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=11))
    assert online_poll().pending == 1  # nothing paid yet, still in time
    assert online_poll().checked == 0  # just verified
    OnlineCheckout.objects.filter(pk=checkout.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=3), checked_at=None
    )
    assert online_poll().expired == 1
    checkout.refresh_from_db()
    assert checkout.status == "expired" and checkout.checks == 1
    assert online_poll().checked == 0


def test_the_poller_stops_its_run_when_the_gateway_is_down(gateway, link_a, online_a):
    for _ in range(5):
        start(link_a)
    OnlineCheckout.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=11))
    gateway.fail("http500", count=-1)
    result = online_poll()
    assert (result.checked, result.errors, result.pending) == (3, 3, 3)
    gateway.fail("none")
    assert online_poll(now=timezone.now() + datetime.timedelta(minutes=11)).checked == 5


def test_a_checkout_whose_making_was_not_answered_is_found_paid_by_the_poller(gateway, link_a, online_a, settings):
    settings.MITA_GATEWAY_TIMEOUT_SECONDS = 0.5
    settings.MITA_ONLINE_POLL_AFTER_SECONDS = 0
    gateway.fail("accept_then_timeout", delay=2)
    with pytest.raises(DomainError) as raised:
        start(link_a)
    assert (raised.value.code, raised.value.status) == ("gateway_unreachable", 502)
    checkout = OnlineCheckout.objects.get()
    assert checkout.status == "pending" and checkout.last_error and checkout.checkout_url == ""
    gateway.pay(checkout.tx_ref, webhook=False)  # the customer found the page after all
    assert online_poll().successful == 1


# Links and checkouts ---------------------------------------------------------------------------------------------


def test_a_link_is_made_only_when_the_operator_takes_online_payments(gateway, customer_a, operator_a, admin_a):
    assert payment_link_for(operator=operator_a, holder=HOLDER) is None
    online_channel_configure(operator=operator_a, acting_user=admin_a, enabled=False)
    assert payment_link_for(operator=operator_a, holder=HOLDER) is None
    online_channel_configure(operator=operator_a, acting_user=admin_a, enabled=True)
    link = payment_link_for(operator=operator_a, holder=HOLDER.lower())
    assert link is not None and link.holder == HOLDER and link.amount is None
    assert len(link.token) >= 32


def test_each_bill_gets_the_same_link_until_it_is_half_way_to_expiry(gateway, customer_a, online_a, operator_a):
    first = payment_link_for(operator=operator_a, holder=HOLDER)
    assert first is not None
    assert payment_link_for(operator=operator_a, holder=HOLDER) == first
    assert payment_link_for(operator=operator_a, holder=OTHER_HOLDER) != first
    fixed = payment_link_for(operator=operator_a, holder=HOLDER, amount=Decimal("700"))
    assert fixed is not None and fixed != first and fixed.amount == Decimal("700")
    PaymentLink.objects.filter(pk=first.pk).update(expires_at=timezone.now() + datetime.timedelta(days=20))
    renewed = payment_link_for(operator=operator_a, holder=HOLDER)
    assert renewed is not None and renewed not in (first, fixed)


def test_a_link_for_an_unknown_account_is_refused(gateway, customer_a, online_a, operator_a):
    with pytest.raises(DomainError) as raised:
        payment_link_for(operator=operator_a, holder="AAL-999999")
    assert raised.value.code == "account_unknown"


def test_a_link_sent_by_sms_is_in_the_outbox_with_the_account_and_the_amount_due(
    gateway, customer_a, online_a, operator_a, admin_a, settings
):
    settings.MITA_PUBLIC_URL = "https://mita.example.rw"
    link, message = payment_link_send(operator=operator_a, holder=HOLDER, phone="0788 123 456", acting_user=admin_a)
    message = OutboxMessage.objects.get(pk=message.pk)
    assert (message.to, message.template, message.operator) == (PAYER, "payments.online_link", operator_a)
    assert message.body == (
        f"Amazi Alpha Ltd: pay for account {HOLDER} online at https://mita.example.rw/pay/{link.token}/ "
        "(amount due: 1500 RWF)."
    )
    assert not message.sensitive
    assert AuditEntry.objects.filter(action="online.link_sent").count() == 1


def test_no_link_is_sent_while_online_payments_are_off(gateway, customer_a, operator_a, admin_a):
    with pytest.raises(DomainError) as raised:
        payment_link_send(operator=operator_a, holder=HOLDER, phone=PAYER, acting_user=admin_a)
    assert (raised.value.code, raised.value.status) == ("online_disabled", 409)
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize(
    ("amount", "code"),
    [("0", "amount_invalid"), ("50", "amount_too_small"), ("20000", "amount_too_large")],
)
def test_a_customer_pays_what_they_choose_within_the_operator_s_limits(
    gateway, link_a, operator_a, admin_a, amount, code
):
    online_channel_configure(
        operator=operator_a, acting_user=admin_a, min_amount=Decimal("100"), max_amount=Decimal("10000")
    )
    with pytest.raises(DomainError) as raised:
        start(link_a, amount=amount)
    assert raised.value.code == code and "amount" in raised.value.fields
    assert gateway.checkouts == [] and not OnlineCheckout.objects.exists()
    assert start(link_a, amount="2500").amount == Decimal("2500")  # more than owed, within limits: an advance


def test_without_leave_to_change_it_the_customer_pays_what_is_owed(gateway, link_a, operator_a, admin_a):
    online_channel_configure(operator=operator_a, acting_user=admin_a, allow_amount_change=False)
    assert start(link_a, amount="10").amount == Decimal("1500")
    # once the account is paid up at the counter, the link has nothing to ask
    payment_receive(
        operator=operator_a,
        channel="cash_office",
        amount=Decimal("1500"),
        account_reference=HOLDER,
        idempotency_key="cash-1",
        received_by=None,
    )
    with pytest.raises(DomainError) as raised:
        start(link_a, amount=None)
    assert raised.value.code == "nothing_owed"


def test_an_expired_or_switched_off_link_starts_no_checkout(gateway, link_a, operator_a, admin_a):
    PaymentLink.objects.filter(pk=link_a.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    link_a.refresh_from_db()
    with pytest.raises(DomainError) as raised:
        start(link_a)
    assert (raised.value.code, raised.value.status) == ("link_expired", 410)
    PaymentLink.objects.filter(pk=link_a.pk).update(expires_at=timezone.now() + datetime.timedelta(days=1))
    link_a.refresh_from_db()
    online_channel_configure(operator=operator_a, acting_user=admin_a, enabled=False)
    with pytest.raises(DomainError) as raised:
        start(link_a)
    assert raised.value.code == "online_disabled"
    assert gateway.checkouts == []


def test_a_wrong_phone_is_refused_before_the_gateway_hears_of_it(gateway, link_a):
    with pytest.raises(DomainError) as raised:
        start(link_a, phone="12")
    assert raised.value.code == "phone_invalid" and "payer_phone" in raised.value.fields
    assert gateway.checkouts == []


def test_a_link_starts_only_so_many_checkouts_an_hour(gateway, link_a, settings):
    settings.MITA_ONLINE_CHECKOUTS_PER_HOUR = 2
    start(link_a)
    start(link_a)
    with pytest.raises(DomainError) as raised:
        start(link_a)
    assert (raised.value.code, raised.value.status) == ("too_many_checkouts", 429)
    assert len(gateway.checkouts) == 2


def test_a_checkout_the_gateway_refuses_fails_at_once(gateway, link_a, operator_a, admin_a):
    online_channel_configure(operator=operator_a, acting_user=admin_a, secret_key="FLWSECK_TEST-not-a-merchant")
    with pytest.raises(DomainError) as raised:
        start(link_a)
    assert raised.value.code == "gateway_refused"
    checkout = OnlineCheckout.objects.get()
    assert checkout.status == "failed" and "Invalid authorization key" in checkout.reason


def test_confirming_a_paid_checkout_again_changes_nothing(gateway, link_a, online_a):
    checkout = start(link_a)
    paid = gateway.pay(checkout.tx_ref, webhook=False)
    first = online_confirm(checkout=checkout)
    again = online_confirm(checkout=first, transaction_id=paid.transaction_id)
    assert first.payment_id == again.payment_id is not None and again.checks == 1
    assert Payment.objects.count() == 1


# The channel's settings ------------------------------------------------------------------------------------------


def test_the_settings_make_their_secrets_and_the_audit_log_keeps_none(operator_a, admin_a):
    config = online_channel_configure(operator=operator_a, acting_user=admin_a)
    assert len(config.callback_secret) >= 40 and len(config.secret_hash) >= 30
    entry = AuditEntry.objects.get(action="online.configured")
    text = str(entry.after)
    assert config.callback_secret not in text and config.secret_hash not in text
    assert entry.after["secret_hash"] == "made"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"secret_hash": "short"}, "secret_hash_invalid"),
        ({"min_amount": Decimal("500"), "max_amount": Decimal("100")}, "amount_limits_invalid"),
        ({"min_amount": Decimal("0")}, "amount_invalid"),
        ({"allowed_ips": ["gateway.example"]}, "allowed_ips_invalid"),
    ],
)
def test_wrong_settings_are_refused_saying_what_to_fix(operator_a, admin_a, changes, code):
    with pytest.raises(DomainError) as raised:
        online_channel_configure(operator=operator_a, acting_user=admin_a, **changes)
    assert raised.value.code == code and raised.value.fields
    assert not OnlineChannelConfig.objects.exists()


def test_a_secret_hash_already_in_the_dashboard_may_be_typed(operator_a, admin_a):
    config = online_channel_configure(
        operator=operator_a, acting_user=admin_a, secret_hash="  set-in-the-dashboard-1  "
    )
    assert config.secret_hash == "set-in-the-dashboard-1"


def test_the_demo_s_fake_gateway_finds_each_checkout_s_webhook_in_its_operator_s_settings(gateway, link_a, online_a):
    checkout = start(link_a)
    assert online_webhook_target(tx_ref=checkout.tx_ref) == (online_webhook_url(config=online_a), online_a.secret_hash)
    assert online_webhook_target(tx_ref="AAL-unknown") is None
