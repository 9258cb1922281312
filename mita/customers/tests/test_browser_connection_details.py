"""In a real browser: a clerk looks a land parcel up on the connection form (htmx) without losing what was typed,
saves the connection with it, then changes the customer's phone with the code texted to the old phone."""

import re

import pytest
from playwright.sync_api import Page, expect

from mita.accounts.roles import Role
from mita.customers.services import customer_create
from mita.integrations.landregistry.fake import FakeLandRegistry
from mita.notifications.models import OutboxMessage
from mita.testing.browser import sign_in
from mita.testing.factories import DEFAULT_PASSWORD, OperatorFactory, member

pytestmark = pytest.mark.browser


def test_a_clerk_looks_a_parcel_up_saves_it_and_changes_the_phone_with_the_code(page: Page, live_server, settings):
    operator = OperatorFactory(name="Amazi Alpha Ltd", prefix="AAL")
    clerk = member(Role.CUSTOMER_CARE, operator, name="Cleo Care")
    customer = customer_create(operator=operator, acting_user=None, name="Jeanne Uwase", phone="+250788123456")
    with FakeLandRegistry(api_key="browser-key") as registry:
        settings.MITA_LAND_REGISTRY_BASE_URL = registry.base_url
        settings.MITA_LAND_REGISTRY_API_KEY = "browser-key"
        sign_in(page, clerk.phone, DEFAULT_PASSWORD)

        # when the clerk types a number and a UPI, and looks the UPI up
        page.goto(f"/customers/{customer.pk}/connections/new/")
        form = page.get_by_test_id("connection-form")
        form.locator("input[name=number]").fill("AAL-0001")
        form.locator("input[name=parcel_upi]").fill("5/01/02/03/9999")
        page.get_by_test_id("parcel-lookup").click()
        # then an unknown UPI is said so, and what was typed is still there
        expect(page.get_by_test_id("parcel-error")).to_contain_text("no parcel with UPI 5/01/02/03/9999")
        expect(form.locator("input[name=number]")).to_have_value("AAL-0001")
        # when the right UPI is looked up, the registry's owner shows
        form.locator("input[name=parcel_upi]").fill("5/01/02/03/1235")
        page.get_by_test_id("parcel-lookup").click()
        expect(page.get_by_test_id("parcel-owner")).to_have_text("Emmanuel Habimana; Claudine Mukamana")
        form.locator("select[name=billing_cycle]").select_option("quarterly")
        with page.expect_navigation():
            page.get_by_test_id("connection-submit").click()
        expect(page.get_by_test_id("connection-parcel")).to_contain_text("5/01/02/03/1235")

    # when the clerk changes the customer's phone
    page.get_by_test_id("contact-change-link").click()
    page.get_by_test_id("contact-change-form").locator("input[name=phone]").fill("0722 111 222")
    with page.expect_navigation():
        page.get_by_test_id("contact-change-send").click()
    sms = OutboxMessage.objects.get(template="customers.contact_change_code")
    assert sms.to == "+250788123456"
    code = re.search(r"\b(\d{6})\b", sms.body).group(1)
    # a wrong code is refused in place
    page.get_by_test_id("contact-code-form").locator("input[name=code]").fill(f"{(int(code) + 1) % 10**6:06d}")
    page.get_by_test_id("contact-code-submit").click()
    expect(page.get_by_test_id("contact-confirm")).to_contain_text("Wrong code. 4 tries left.")
    # the right one changes the phone and goes back to the customer
    page.get_by_test_id("contact-code-form").locator("input[name=code]").fill(code)
    with page.expect_navigation():
        page.get_by_test_id("contact-code-submit").click()
    expect(page.get_by_test_id("customer-phone")).to_have_text("+250722111222")
