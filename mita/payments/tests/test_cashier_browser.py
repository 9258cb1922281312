"""A cashier's day in a real browser: open the till, take two cash payments, count the till 100 short, explain it,
close it, and find the day on the day-end report."""

import pytest
from playwright.sync_api import Page, expect

from mita.accounts.roles import Role
from mita.payments.models_cashier import TillSession
from mita.payments.tests.cashier_world import charge
from mita.testing.browser import sign_in
from mita.testing.factories import DEFAULT_PASSWORD, member

pytestmark = pytest.mark.browser


def take_cash(page: Page, account: str, amount: str) -> None:
    page.get_by_test_id("take-payment-link").click()
    form = page.get_by_test_id("payment-form")
    form.locator("input[name=account_reference]").fill(account)
    form.locator("input[name=amount]").fill(amount)
    page.get_by_test_id("payment-submit").click()
    expect(page.get_by_test_id("receipt-amount")).to_have_text(f"{amount[:-3]},{amount[-3:]} RWF")


def test_a_cashier_opens_a_till_takes_cash_closes_it_short_with_a_reason_and_sees_the_day_end(
    page: Page, live_server, operator_a
):
    # given a customer account owing 5,000 and a cashier
    charge(operator_a, "5000")
    cashier = member(Role.CASHIER, operator_a, name="Carla Cashier")
    sign_in(page, cashier.phone, DEFAULT_PASSWORD)

    # when she opens her till with a float of 5,000
    page.get_by_test_id("card-payments.tills").click()
    page.get_by_test_id("till-open-link").click()
    page.get_by_test_id("till-open-form").locator("input[name=float_amount]").fill("5000")
    page.get_by_test_id("till-open-submit").click()
    expect(page.get_by_test_id("till-status")).to_have_text("Open")
    expect(page.get_by_test_id("till-float")).to_have_text("5,000 RWF")
    till_url = page.url

    # and takes two cash payments at the counter
    take_cash(page, "AAL-0001", "1200")
    page.goto(till_url)
    take_cash(page, "AAL-0001", "1800")
    page.goto(till_url)
    expect(page.get_by_test_id("till-taken")).to_contain_text("3,000 RWF (2 payments)")
    expect(page.get_by_test_id("till-expected")).to_have_text("8,000 RWF")

    # when she counts 7,900 (one 5,000 note, two 1,000s, one 500, four 100 coins) and closes without a reason
    page.get_by_test_id("till-close-link").click()
    form = page.get_by_test_id("till-close-form")
    for name, pieces in (("count_5000", "1"), ("count_1000", "2"), ("count_500", "1"), ("count_100", "4")):
        form.locator(f"input[name={name}]").fill(pieces)
    page.get_by_test_id("till-close-submit").click()

    # then the page shows the variance and asks for the explanation; the till is still open
    expect(page.get_by_test_id("count-variance")).to_have_text("Variance: -100 RWF (short)")
    expect(page.get_by_role("alert").filter(has_text="100 RWF short")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="Say why the count differs")).to_be_visible()
    expect(form.locator("input[name=count_100]")).to_have_value("4")
    assert TillSession.objects.get().is_open

    # when she explains it and closes
    form.locator("textarea[name=explanation]").fill("Gave 100 too much change to a customer")
    page.get_by_test_id("till-close-submit").click()

    # then the till is closed with the count, the variance and her reason
    expect(page.get_by_test_id("till-status")).to_have_text("Closed")
    expect(page.get_by_test_id("till-counted")).to_have_text("7,900 RWF")
    expect(page.get_by_test_id("till-variance")).to_have_text("-100 RWF (short)")
    expect(page.get_by_test_id("till-explanation")).to_have_text("Gave 100 too much change to a customer")

    # and the day-end report shows her day
    page.get_by_role("link", name="All tills").click()
    page.get_by_test_id("day-end-link").click()
    row = page.get_by_test_id(f"day-end-row-{cashier.pk}")
    expect(row.get_by_test_id("channel-cash_office")).to_have_text("Cash at the office: 2 · 3,000")
    expect(row.get_by_test_id("float")).to_have_text("5,000")
    expect(row.get_by_test_id("expected")).to_have_text("8,000")
    expect(row.get_by_test_id("counted")).to_have_text("7,900")
    expect(row.get_by_test_id("variance")).to_contain_text("-100")
    expect(row.get_by_test_id("variance")).to_contain_text("Gave 100 too much change to a customer")
