"""In a real browser: a billing officer adds a tariff and its first version (fixing a mistake the engine finds),
publishes it, and simulates a bill with it; then compares it with a draft of new prices."""

import json

import pytest
from playwright.sync_api import Page, expect

from mita.accounts.roles import Role
from mita.tariffs.tests.world_tariffs import WASAC_2019, water
from mita.testing.browser import sign_in
from mita.testing.factories import DEFAULT_PASSWORD, OperatorFactory, member

pytestmark = pytest.mark.browser


def test_a_billing_officer_publishes_a_tariff_and_simulates_and_compares_bills(page: Page, live_server, screenshot):
    operator = OperatorFactory(name="Amazi Alpha Ltd", prefix="AAL")
    officer = member(Role.BILLING_OFFICER, operator, name="Bea Billing")
    sign_in(page, officer.phone, DEFAULT_PASSWORD)

    # when they add a residential tariff
    page.goto("/tariffs/")
    page.get_by_test_id("tariff-create-link").click()
    form = page.get_by_test_id("tariff-form")
    form.locator("input[name=code]").fill("RES")
    form.locator("input[name=name]").fill("Residential water")
    with page.expect_navigation():
        page.get_by_test_id("tariff-submit").click()

    # and type its first version with a negative rate
    form = page.get_by_test_id("version-form")
    form.locator("input[name=effective_from]").fill("2026-01-01")
    form.locator("textarea[name=definition]").fill(json.dumps(water((5, 340), (None, -720)), indent=2))
    with page.expect_navigation():
        page.get_by_test_id("version-submit").click()
    # then the problem is shown with its place, and the text is kept to fix
    expect(form).to_contain_text("components[0].bands[1].rate")
    expect(form.locator("textarea[name=definition]")).to_contain_text("-720")
    screenshot(page, "version-form-errors")

    # when they fix it and publish
    form.locator("textarea[name=definition]").fill(json.dumps(WASAC_2019, indent=2))
    with page.expect_navigation():
        page.get_by_test_id("version-submit").click()
    with page.expect_navigation():
        page.get_by_test_id("publish-submit").click()

    # then the simulator prices 25 m3: 5 x 340 + 15 x 720 + 5 x 845
    simulator = page.get_by_test_id("simulate-form")
    simulator.locator("input[name=usage]").fill("25")
    simulator.get_by_test_id("simulate-submit").click()
    expect(page.get_by_test_id("quote-total")).to_have_text("16725")
    expect(page.get_by_test_id("quote-lines")).to_contain_text("Water 5-20 m3")
    screenshot(page, "simulator")

    # when a draft with higher prices is saved, the comparison shows what it does to bills
    page.get_by_test_id("version-create-link").click()
    form = page.get_by_test_id("version-form")
    form.locator("input[name=effective_from]").fill("2026-07-01")
    form.locator("textarea[name=definition]").fill(json.dumps(water((5, 400), (None, 800)), indent=2))
    with page.expect_navigation():
        page.get_by_test_id("version-submit").click()
    page.get_by_role("link", name="RES Residential water").click()
    comparison = page.get_by_test_id("compare-form")
    comparison.locator("input[name=up_to]").fill("10")
    comparison.get_by_test_id("compare-submit").click()
    # 10 m3: 5,300 before, 6,000 after, +700
    expect(page.get_by_test_id("comparison-rows")).to_contain_text("5300")
    expect(page.get_by_test_id("comparison-rows")).to_contain_text("6000")
    expect(page.get_by_test_id("comparison-rows")).to_contain_text("700")
    screenshot(page, "comparison")
