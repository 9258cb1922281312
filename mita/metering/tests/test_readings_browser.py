"""In a real browser: a billing officer finds a connection by its meter's serial, enters a reading and sees it
accepted with its consumption; then enters a zero reading on another connection and sees it sent to review."""

import pytest
from playwright.sync_api import Page, expect

from mita.accounts.roles import Role
from mita.metering.tests.readings_world import D, metered
from mita.testing.browser import sign_in
from mita.testing.factories import DEFAULT_PASSWORD, DistrictFactory, OperatorFactory, member

pytestmark = pytest.mark.browser


def test_a_billing_officer_enters_an_accepted_reading_then_a_zero_one_sent_to_review(page: Page, live_server):
    # given two connections with meters installed at 1,200 and 500, and a billing officer signed in
    operator = OperatorFactory(name="Amazi Alpha Ltd", prefix="AAL")
    operator.districts.add(DistrictFactory(name="Bugesera"))
    metered(operator, number="AAL-0001", serial="30001", customer_name="Jeanne Uwase", initial_index=D(1200))
    metered(operator, number="AAL-0002", serial="30002", customer_name="Eric Mugisha", initial_index=D(500))
    officer = member(Role.BILLING_OFFICER, operator, name="Rita Reader")
    sign_in(page, officer.phone, DEFAULT_PASSWORD)

    # when they open "Enter a reading" from the home page and look meter 30001 up
    page.goto("/")
    page.get_by_role("link", name="Enter a reading").first.click()
    page.get_by_test_id("reading-find-q").fill("30001")
    with page.expect_navigation():
        page.get_by_test_id("reading-find-submit").click()

    # then the connection shows its customer, meter and previous index
    sheet = page.get_by_test_id("reading-sheet")
    expect(sheet).to_contain_text("AAL-0001")
    expect(sheet).to_contain_text("Jeanne Uwase")
    expect(page.get_by_test_id("previous-index-main")).to_have_text("1200")

    # when they enter 1,234.5
    form = page.get_by_test_id("reading-form")
    form.locator("input[name=index_main]").fill("1234.5")
    with page.expect_navigation():
        page.get_by_test_id("reading-submit").click()

    # then it is accepted with a consumption of 34.5 m3
    result = page.get_by_test_id("reading-result")
    expect(result.get_by_role("heading")).to_have_text("Reading accepted")
    expect(page.get_by_test_id("reading-consumption-main")).to_have_text("34.5 m3")
    expect(page.get_by_test_id("reading-status-main")).to_have_text("Accepted")

    # when they go on to meter 30002 and enter its previous index again
    page.get_by_test_id("reading-next").click()
    page.get_by_test_id("reading-find-q").fill("30002")
    with page.expect_navigation():
        page.get_by_test_id("reading-find-submit").click()
    expect(page.get_by_test_id("reading-sheet")).to_contain_text("Eric Mugisha")
    page.get_by_test_id("reading-form").locator("input[name=index_main]").fill("500")
    with page.expect_navigation():
        page.get_by_test_id("reading-submit").click()

    # then it is sent to review, saying why
    expect(page.get_by_test_id("reading-result").get_by_role("heading")).to_have_text("Sent to review")
    expect(page.get_by_test_id("reading-status-main")).to_have_text("Sent to review: Zero consumption")

    # and their readings of these days show both, one waiting for review
    page.goto("/metering/readings/mine/")
    expect(page.get_by_test_id("my-readings")).to_contain_text("AAL-0001")
    expect(page.get_by_test_id("my-readings")).to_contain_text("AAL-0002")
    expect(page.get_by_test_id("my-readings-review")).to_have_text("1 waits for review.")
