"""Online payment pages: the public link page and return, the staff settings, checkouts and "Send a payment link",
each with its roles and its 404 for another operator."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mita.accounts.roles import Role
from mita.notifications.models import OutboxMessage
from mita.payments.models_online import OnlineChannelConfig, OnlineCheckout, PaymentLink
from mita.payments.online import checkout_start, online_channel_configure, payment_link_for
from mita.testing.factories import member

from .conftest import HOLDER, PAYER

pytestmark = pytest.mark.django_db


@pytest.fixture
def cashier_a(operator_a):  # type: ignore[no-untyped-def]
    return member(Role.CASHIER, operator_a, name="Carla Cashier")


def pay_url(link: PaymentLink) -> str:
    return reverse("online:pay", args=[link.token])


# The customer's pages ----------------------------------------------------------------------------------------------


def test_the_link_page_shows_the_operator_the_account_and_what_it_owes(link_a):
    page = Client().get(pay_url(link_a))
    body = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="pay-operator">Amazi Alpha Ltd<' in body
    assert f'data-testid="pay-account">{HOLDER}<' in body
    assert 'data-testid="pay-owed">1,500 RWF<' in body
    assert 'name="amount"' in body and 'value="1500' in body


def test_a_wrong_token_is_not_found(link_a):
    assert Client().get(reverse("online:pay", args=["not-a-token"])).status_code == 404
    assert Client().get(reverse("online:return", args=["not-a-token"]) + "?tx_ref=x").status_code == 404


def test_an_expired_link_says_so_and_takes_no_payment(gateway, link_a):
    PaymentLink.objects.filter(pk=link_a.pk).update(expires_at=timezone.now() - datetime.timedelta(days=1))
    page = Client().get(pay_url(link_a))
    assert page.status_code == 410 and 'data-testid="pay-expired"' in page.content.decode()
    posted = Client().post(pay_url(link_a), {"amount": "1500", "payer_phone": PAYER})
    assert posted.status_code == 410 and gateway.checkouts == []


def test_a_link_of_an_operator_that_stopped_online_payments_says_so(gateway, link_a, operator_a, admin_a):
    online_channel_configure(operator=operator_a, acting_user=admin_a, enabled=False)
    page = Client().get(pay_url(link_a))
    assert 'data-testid="pay-unavailable"' in page.content.decode() and 'data-testid="pay-form"' not in (
        page.content.decode()
    )


def test_paying_sends_the_customer_to_the_gateway(gateway, link_a):
    response = Client().post(pay_url(link_a), {"amount": "1200", "payer_phone": "0788123456"})
    [held] = gateway.checkouts
    assert (
        response.status_code == 302 and response["Location"] == f"{gateway.base_url}/v3/hosted/pay/{held.checkout_id}"
    )
    assert held.amount == Decimal("1200")


def test_a_wrong_amount_or_phone_is_shown_on_the_form_and_nothing_is_started(gateway, link_a, operator_a, admin_a):
    online_channel_configure(operator=operator_a, acting_user=admin_a, min_amount=Decimal("500"))
    response = Client().post(pay_url(link_a), {"amount": "100", "payer_phone": PAYER})
    assert response.status_code == 400 and "At least 500." in response.content.decode()
    response = Client().post(pay_url(link_a), {"amount": "1500.50", "payer_phone": PAYER})
    assert response.status_code == 400 and "RWF amounts have no smaller units than this: write 1501." in (
        response.content.decode()
    )
    response = Client().post(pay_url(link_a), {"amount": "1500", "payer_phone": "12"})
    assert response.status_code == 400 and "is not a valid phone number" in response.content.decode()
    assert gateway.checkouts == [] and not OnlineCheckout.objects.exists()


def test_without_leave_to_change_it_the_page_shows_the_amount_and_no_field(gateway, link_a, operator_a, admin_a):
    online_channel_configure(operator=operator_a, acting_user=admin_a, allow_amount_change=False)
    body = Client().get(pay_url(link_a)).content.decode()
    assert 'name="amount"' not in body and "You pay 1,500 RWF." in body
    Client().post(pay_url(link_a), {"amount": "5", "payer_phone": PAYER})
    assert gateway.checkouts[0].amount == Decimal("1500")


def test_the_gateway_out_of_reach_is_told_to_the_customer(gateway, link_a):
    gateway.fail("http500")
    response = Client().post(pay_url(link_a), {"amount": "1500", "payer_phone": PAYER})
    assert response.status_code == 502
    assert "The payment service is not available just now." in response.content.decode()


def test_a_return_for_another_link_s_checkout_is_not_found(gateway, link_a, operator_a):
    checkout = checkout_start(link=link_a, amount=Decimal("1500"), payer_phone=PAYER)
    other = payment_link_for(operator=operator_a, holder=HOLDER, amount=Decimal("100"))
    assert other is not None
    url = reverse("online:return", args=[other.token]) + f"?tx_ref={checkout.tx_ref}"
    assert Client().get(url).status_code == 404


# Settings (operator admin) -----------------------------------------------------------------------------------------


def settings_body(**fields: str) -> dict[str, str]:
    return {
        "enabled": "on",
        "allow_amount_change": "on",
        "min_amount": "100",
        "max_amount": "",
        "allowed_ips": "",
    } | fields


def test_an_admin_turns_online_payments_on_and_sees_what_to_set_in_the_gateway(
    operator_a, admin_a, client_for, settings
):
    settings.MITA_PUBLIC_URL = "https://mita.example.rw"
    client = client_for(admin_a)
    assert client.get(reverse("online:settings")).status_code == 200
    response = client.post(reverse("online:settings"), settings_body(allowed_ips="52.31.139.0/24\n"))
    assert response.status_code == 302
    config = OnlineChannelConfig.objects.get(operator=operator_a)
    assert (config.enabled, config.min_amount, config.max_amount, config.allowed_ips) == (
        True,
        Decimal("100"),
        None,
        ["52.31.139.0/24"],
    )
    page = client.get(reverse("online:settings")).content.decode()
    webhook = f"https://mita.example.rw/pay/hooks/{operator_a.pk}/{config.callback_secret}/"
    assert f'data-testid="online-webhook-url">{webhook}<' in page
    assert f'data-testid="online-secret-hash">{config.secret_hash}<' in page


def test_the_admin_s_own_secret_key_is_kept_unless_changed_and_never_shown(operator_a, admin_a, client_for):
    client = client_for(admin_a)
    client.post(reverse("online:settings"), settings_body(secret_key="FLWSECK-own-key-of-amazi"))
    client.post(reverse("online:settings"), settings_body(max_amount="50000"))
    config = OnlineChannelConfig.objects.get(operator=operator_a)
    assert (config.secret_key, config.max_amount) == ("FLWSECK-own-key-of-amazi", Decimal("50000"))
    assert "FLWSECK-own-key-of-amazi" not in client.get(reverse("online:settings")).content.decode()
    client.post(reverse("online:settings"), settings_body(clear_secret_key="on"))
    assert OnlineChannelConfig.objects.get(operator=operator_a).secret_key == ""


def test_wrong_settings_are_shown_on_the_form(operator_a, admin_a, client_for):
    response = client_for(admin_a).post(reverse("online:settings"), settings_body(min_amount="500", max_amount="10"))
    assert response.status_code == 400 and "At least the smallest payment." in response.content.decode()
    assert not OnlineChannelConfig.objects.exists()


@pytest.mark.parametrize("role", [Role.CASHIER, Role.TREASURER, Role.BILLING_OFFICER])
def test_only_the_operator_admin_changes_the_settings(operator_a, client_for, role):
    assert client_for(member(role, operator_a)).get(reverse("online:settings")).status_code == 403


def test_the_regulator_has_no_online_payment_pages(regulator_admin, client_for):
    client = client_for(regulator_admin)
    assert client.get(reverse("online:settings")).status_code == 403
    assert client.get(reverse("online:checkout_list")).status_code == 403


# Checkouts (payment roles) -----------------------------------------------------------------------------------------


def test_a_cashier_sees_the_checkouts_and_checks_one_now(gateway, link_a, cashier_a, client_for):
    checkout = checkout_start(link=link_a, amount=Decimal("1500"), payer_phone=PAYER)
    client = client_for(cashier_a)
    page = client.get(reverse("online:checkout_list")).content.decode()
    assert f'data-testid="checkout-status-{checkout.pk}"' in page and f"checkout-check-{checkout.pk}" in page
    gateway.pay(checkout.tx_ref, webhook=False)
    assert client.post(reverse("online:checkout_check", args=[checkout.pk])).status_code == 302
    checkout.refresh_from_db()
    assert checkout.status == "successful"
    assert "AAL-R-000001" in client.get(reverse("online:checkout_list")).content.decode()


def test_another_operator_s_checkout_is_not_found(gateway, link_a, admin_b, client_for):
    checkout = checkout_start(link=link_a, amount=Decimal("1500"), payer_phone=PAYER)
    client = client_for(admin_b)
    assert client.post(reverse("online:checkout_check", args=[checkout.pk])).status_code == 404
    assert f"checkout-row-{checkout.pk}" not in client.get(reverse("online:checkout_list")).content.decode()
    checkout.refresh_from_db()
    assert checkout.checks == 0


def test_a_billing_officer_sees_no_checkouts(operator_a, staff_a, client_for):
    assert client_for(staff_a).get(reverse("online:checkout_list")).status_code == 403


# Sending a link from the account page ------------------------------------------------------------------------------


def test_a_cashier_sends_a_payment_link_from_the_account_page(gateway, customer_a, online_a, cashier_a, client_for):
    client = client_for(cashier_a)
    account = client.get(reverse("payments:account_detail", args=[HOLDER])).content.decode()
    send_url = reverse("online:link_send", args=[HOLDER])
    assert f'href="{send_url}" data-testid="send-payment-link"' in account
    assert client.get(send_url).status_code == 200
    response = client.post(send_url, {"phone": "0788 123 456", "amount": ""})
    assert response.status_code == 302 and response["Location"] == reverse("payments:account_detail", args=[HOLDER])
    message = OutboxMessage.objects.get()
    link = PaymentLink.objects.get()
    assert message.to == PAYER and f"/pay/{link.token}/" in message.body and HOLDER in message.body


def test_a_link_for_a_fixed_amount_may_be_sent(gateway, customer_a, online_a, cashier_a, client_for):
    client_for(cashier_a).post(reverse("online:link_send", args=[HOLDER]), {"phone": PAYER, "amount": "700"})
    assert PaymentLink.objects.get().amount == Decimal("700")
    assert "(amount due: 700 RWF)" in OutboxMessage.objects.get().body


def test_without_online_payments_the_account_page_has_no_link_button(customer_a, cashier_a, client_for):
    client = client_for(cashier_a)
    account = client.get(reverse("payments:account_detail", args=[HOLDER])).content.decode()
    assert "send-payment-link" not in account
    page = client.get(reverse("online:link_send", args=[HOLDER]))
    assert 'data-testid="online-disabled"' in page.content.decode()
    response = client.post(reverse("online:link_send", args=[HOLDER]), {"phone": PAYER})
    assert response.status_code == 400 and not OutboxMessage.objects.exists()


def test_a_wrong_phone_is_shown_on_the_send_form(gateway, customer_a, online_a, cashier_a, client_for):
    response = client_for(cashier_a).post(reverse("online:link_send", args=[HOLDER]), {"phone": "12"})
    assert response.status_code == 400 and "is not a valid phone number" in response.content.decode()
    assert not OutboxMessage.objects.exists()


def test_another_operator_s_account_has_no_send_page(gateway, customer_a, online_a, admin_b, client_for):
    client = client_for(admin_b)
    assert client.get(reverse("online:link_send", args=[HOLDER])).status_code == 404
    assert client.post(reverse("online:link_send", args=[HOLDER]), {"phone": PAYER}).status_code == 404
    assert not PaymentLink.objects.exists() and not OutboxMessage.objects.exists()
