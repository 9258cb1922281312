"""In a real browser: an operator's admin registers a customer, adds a connection with opening arrears, and opens
the connection's account page, where payments see what it owes."""

import pytest
from playwright.sync_api import Page, expect

from mita.accounts.roles import Role
from mita.testing.browser import sign_in
from mita.testing.factories import DEFAULT_PASSWORD, DistrictFactory, OperatorFactory, member

pytestmark = pytest.mark.browser


def test_an_admin_registers_a_customer_and_a_connection_then_opens_its_account(page: Page, live_server):
    # given an operator with a district, and its admin signed in
    operator = OperatorFactory(name="Amazi Alpha Ltd", prefix="AAL")
    district = DistrictFactory(name="Bugesera")
    operator.districts.add(district)
    admin = member(Role.OPERATOR_ADMIN, operator, name="Alice Admin")
    sign_in(page, admin.phone, DEFAULT_PASSWORD)

    # when they register Jeanne from the customer list
    page.goto("/customers/")
    page.get_by_test_id("customer-create-link").click()
    form = page.get_by_test_id("customer-form")
    form.locator("input[name=name]").fill("Jeanne Uwase")
    form.locator("input[name=phone]").fill("0788 123 456")
    form.locator("select[name=district]").select_option(label="Bugesera")
    form.locator("input[name=village]").fill("Nyamata")
    with page.expect_navigation():
        page.get_by_test_id("customer-submit").click()

    # then her page shows her number and her phone in E.164
    expect(page.get_by_test_id("customer-number")).to_have_text("AAL-C-000001")
    expect(page.get_by_test_id("customer-phone")).to_have_text("+250788123456")

    # when they add her connection with 3,000 of arrears from the old register
    page.get_by_test_id("connection-create-link").click()
    form = page.get_by_test_id("connection-form")
    form.locator("input[name=number]").fill("AAL-0001")
    form.locator("select[name=utility]").select_option("water")
    form.locator("select[name=property_type]").select_option("residential")
    form.locator("input[name=opening_arrears]").fill("3000")
    form.locator("input[name=arrears_as_of]").fill("2026-01-31")
    with page.expect_navigation():
        page.get_by_test_id("connection-submit").click()

    # then the connection is listed on her page
    row = page.get_by_test_id("connection-row-AAL-0001")
    expect(row).to_contain_text("Water")

    # when they try the same number again, in lower case
    page.get_by_test_id("connection-create-link").click()
    form = page.get_by_test_id("connection-form")
    form.locator("input[name=number]").fill("aal-0001")
    with page.expect_navigation():
        page.get_by_test_id("connection-submit").click()
    # then it is refused, saying so
    expect(page.get_by_test_id("connection-form")).to_contain_text("already in use at your operator")

    # and from her page, the connection opens its account, which owes the arrears
    page.goto("/customers/")
    page.get_by_role("link", name="AAL-C-000001").click()
    with page.expect_navigation():
        page.get_by_test_id("connection-account-link").click()
    expect(page.get_by_test_id("account-balance")).to_have_text("3,000 RWF")
