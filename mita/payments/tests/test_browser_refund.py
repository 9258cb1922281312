"""In a real browser: a cashier asks for a refund of a customer's credit, a treasurer approves and pays it out, and
the balances on the page follow."""

import pytest
from playwright.sync_api import Page, expect

from mita.accounts.roles import Role
from mita.payments.models import Refund
from mita.payments.tests.deposit_world import HOLDER, balances, bill, money, pay
from mita.testing.browser import sign_in, sign_out
from mita.testing.factories import DEFAULT_PASSWORD, member

pytestmark = pytest.mark.browser


def test_a_refund_is_requested_approved_by_another_user_and_paid_out(page: Page, live_server, operator_a):
    # given a customer account that paid 4,000 against a 1,000 bill: 3,000 of credit
    bill(operator_a, "1000")
    pay(operator_a, "4000")
    cashier = member(Role.CASHIER, operator_a, name="Carla Cashier")
    treasurer = member(Role.TREASURER, operator_a, name="Tom Treasurer")

    # when the cashier opens the account and asks to refund the credit in cash
    sign_in(page, cashier.phone, DEFAULT_PASSWORD)
    page.goto(f"/payments/accounts/{HOLDER}/")
    expect(page.get_by_test_id("account-credit")).to_contain_text("3,000")
    page.get_by_role("link", name="Request a refund").click()
    expect(page.get_by_test_id("refund-available-credit")).to_contain_text("3,000 RWF")
    form = page.get_by_test_id("refund-form")
    form.locator("input[name=amount]").fill("3000")
    form.locator("textarea[name=reason]").fill("The customer moved away")
    form.locator("input[name=payee_name]").fill("Jeanne Uwase")
    form.locator("select[name=method]").select_option("cash")
    with page.expect_navigation():
        page.get_by_test_id("refund-submit").click()
    # then the refund waits for approval, the cashier cannot approve it, and the credit is set aside
    expect(page.get_by_test_id("refund-status")).to_have_text("Requested")
    expect(page.get_by_test_id("refund-approve")).to_have_count(0)
    expect(page.get_by_test_id("account-credit")).to_contain_text("0 RWF")
    refund = Refund.objects.get()
    sign_out(page)

    # when the treasurer finds it in the queue, approves it and records the cash payout
    sign_in(page, treasurer.phone, DEFAULT_PASSWORD)
    page.goto("/payments/refunds/?status=requested")
    page.get_by_test_id(f"refund-row-{refund.pk}").get_by_role("link", name=refund.number).click()
    with page.expect_navigation():
        page.get_by_test_id("refund-approve").click()
    expect(page.get_by_test_id("refund-status")).to_have_text("Approved")
    expect(page.get_by_test_id("refund-approved-by")).to_contain_text("Tom Treasurer")
    payout = page.get_by_test_id("refund-payout-form")
    payout.locator("input[name=payout-payout_reference]").fill("CASH-VOUCHER-17")
    with page.expect_navigation():
        page.get_by_test_id("refund-payout-submit").click()

    # then it is paid out, and the account owes nothing, has no credit and no deposit
    expect(page.get_by_test_id("refund-status")).to_have_text("Paid out")
    expect(page.get_by_test_id("refund-paid")).to_contain_text("CASH-VOUCHER-17")
    expect(page.get_by_test_id("account-balance")).to_have_text("0 RWF")
    expect(page.get_by_test_id("account-credit")).to_have_text("0 RWF")
    expect(page.get_by_test_id("account-deposit")).to_have_text("0 RWF")
    assert balances(operator_a) == money(0, 0, 0)
    page.goto(f"/payments/accounts/{HOLDER}/")
    expect(page.get_by_test_id("account-credit")).to_have_text("0 RWF")
