"""In a real browser: an operator's customer care clerk uploads an old register (one row wrong), reads the preview's
counts and the row to fix, imports, and finds the imported customer with her two connections."""

import pytest
from playwright.sync_api import Page, expect

from mita.accounts.roles import Role
from mita.testing.browser import sign_in
from mita.testing.factories import DEFAULT_PASSWORD, DistrictFactory, OperatorFactory, member

pytestmark = pytest.mark.browser

REGISTER = (
    "\ufeffconnection_number;name;phone;utility;property_type;village;opening_arrears;arrears_as_of\n"
    "AAL-0001;Jeanne Uwase;0788 123 456;water;residential;Nyamata;2500;2025-12-31\n"
    "AAL-0002;Jeanne Uwase;0788 123 456;water;commercial;Nyamata;;\n"
    "AAL-0003;Eric Habimana;12;water;residential;Gako;;\n"
)


def test_a_clerk_uploads_previews_and_imports_customers(page: Page, live_server, screenshot):
    # given an operator and its customer care clerk signed in
    operator = OperatorFactory(name="Amazi Alpha Ltd", prefix="AAL")
    operator.districts.add(DistrictFactory(name="Bugesera"))
    clerk = member(Role.CUSTOMER_CARE, operator, name="Cleo Care")
    sign_in(page, clerk.phone, DEFAULT_PASSWORD)

    # when they upload the register from the imports page
    page.goto("/customers/imports/")
    page.get_by_test_id("import-upload-link").click()
    page.locator("input[name=file]").set_input_files(
        files=[{"name": "register.csv", "mimeType": "text/csv", "buffer": REGISTER.encode("utf-8")}]
    )
    with page.expect_navigation():
        page.get_by_test_id("import-preview").click()

    # then the preview counts two new rows and one error, and says which cell to fix
    expect(page.get_by_test_id("count-new")).to_have_text("2")
    expect(page.get_by_test_id("count-error")).to_have_text("1")
    error = page.get_by_test_id("import-error-4")
    expect(error).to_contain_text("AAL-0003")
    expect(error).to_contain_text("phone")
    expect(page.get_by_test_id("import-errors-csv")).to_be_visible()
    screenshot(page, "preview")

    # when they import
    with page.expect_navigation():
        page.get_by_test_id("import-run").click()

    # then the page shows the import done: two rows, one customer, the bad row still listed
    expect(page.get_by_test_id("import-status")).to_have_attribute("data-status", "done")
    expect(page.get_by_test_id("count-imported")).to_have_text("2")
    expect(page.get_by_test_id("count-customers")).to_have_text("1")
    expect(page.get_by_test_id("import-error-4")).to_be_visible()

    # and Jeanne is a customer with her two connections
    page.goto("/customers/?q=Jeanne")
    page.locator('[data-testid="search-card"][data-customer="AAL-C-000001"] a').first.click()
    expect(page.get_by_test_id("customer-phone")).to_have_text("+250788123456")
    expect(page.get_by_test_id("connection-row-AAL-0001")).to_be_visible()
    expect(page.get_by_test_id("connection-row-AAL-0002")).to_be_visible()
