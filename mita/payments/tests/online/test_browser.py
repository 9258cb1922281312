"""A customer pays a payment link in a real browser: Mita's page, the fake gateway's checkout page, and back."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from mita.ledger.selectors import holder_balance
from mita.payments.models import Payment
from mita.payments.models_online import OnlineCheckout
from mita.payments.online import online_channel_configure, online_webhook_url, payment_link_for

from .conftest import HOLDER

pytestmark = pytest.mark.browser


def test_a_customer_pays_part_of_their_bill_through_the_link_on_the_gateway_s_page(
    page: Page, live_server, settings, gateway, customer_a, operator_a, admin_a
):
    # given operator A takes payments online, with its webhook set in the gateway's dashboard
    settings.MITA_PUBLIC_URL = live_server.url
    config = online_channel_configure(operator=operator_a, acting_user=admin_a)
    gateway.dashboard(webhook_url=online_webhook_url(config=config), secret_hash=config.secret_hash)
    link = payment_link_for(operator=operator_a, holder=HOLDER)
    assert link is not None

    # when the customer opens the link from their SMS
    page.goto(f"/pay/{link.token}/")

    # then they see who they pay, for which account, and what it owes
    expect(page.get_by_test_id("pay-operator")).to_have_text("Amazi Alpha Ltd")
    expect(page.get_by_test_id("pay-account")).to_have_text(HOLDER)
    expect(page.get_by_test_id("pay-owed")).to_have_text("1,500 RWF")

    # when they choose to pay 1,000 now from their phone, and press Pay
    form = page.get_by_test_id("pay-form")
    form.get_by_label("Amount to pay").fill("1000")
    form.get_by_label("Your phone number").fill("0788 123 456")
    form.get_by_test_id("pay-submit").click()

    # then they are on the gateway's checkout page, for that amount
    expect(page).to_have_url(re.compile(re.escape(gateway.base_url) + r"/v3/hosted/pay/\w+$"))
    expect(page.get_by_test_id("gateway-title")).to_have_text("Amazi Alpha Ltd")
    expect(page.get_by_test_id("gateway-amount")).to_have_text("1000 RWF")

    # when they pay there
    page.get_by_test_id("gateway-pay").click()

    # then they are back on Mita's page, told it is paid, with their receipt
    expect(page).to_have_url(re.compile(re.escape(f"{live_server.url}/pay/{link.token}/return/") + r"\?"))
    expect(page.get_by_test_id("pay-paid")).to_contain_text("Amazi Alpha Ltd received 1,000 RWF for account")
    expect(page.get_by_test_id("pay-receipt")).to_have_text("AAL-R-000001")

    # and the account has the payment and owes the rest
    payment = Payment.objects.get()
    assert (payment.channel, payment.amount, payment.holder) == ("online", Decimal("1000"), HOLDER)
    assert OnlineCheckout.objects.get().status == "successful"
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("500")


def test_a_customer_who_cancels_on_the_gateway_is_told_nothing_was_taken_and_may_try_again(
    page: Page, live_server, settings, gateway, customer_a, operator_a, admin_a
):
    settings.MITA_PUBLIC_URL = live_server.url
    online_channel_configure(operator=operator_a, acting_user=admin_a)
    link = payment_link_for(operator=operator_a, holder=HOLDER)
    assert link is not None
    page.goto(f"/pay/{link.token}/")
    page.get_by_test_id("pay-form").get_by_label("Your phone number").fill("0788123456")
    page.get_by_test_id("pay-submit").click()
    page.get_by_test_id("gateway-cancel").click()
    expect(page.get_by_test_id("pay-not-paid")).to_contain_text("You cancelled the payment. Nothing was taken.")
    page.get_by_test_id("pay-try-again").click()
    expect(page.get_by_test_id("pay-form")).to_be_visible()
    assert not Payment.objects.exists() and OnlineCheckout.objects.get().status == "cancelled"
