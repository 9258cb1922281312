"""In a real browser: an operator's admin opens the 360 page of a customer with two connections, adds a service note
(htmx swaps the notes panel), posts a miscellaneous charge, and sees the debt across the accounts grow."""

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from mita.accounts.roles import Role
from mita.customers.models import Connection
from mita.customers.services import connection_create, customer_create
from mita.ledger.services import charge_post
from mita.testing.browser import sign_in
from mita.testing.factories import DEFAULT_PASSWORD, OperatorFactory, member

pytestmark = pytest.mark.browser


def test_an_admin_adds_a_note_and_a_misc_charge_on_the_360_page(page: Page, live_server):
    # given Jeanne with a water connection billed 5,000 and an electricity connection, and the admin signed in
    operator = OperatorFactory(name="Amazi Alpha Ltd", prefix="AAL")
    customer = customer_create(operator=operator, acting_user=None, name="Jeanne Uwase", phone="+250788123456")
    for number, utility in (("AAL-0001", "water"), ("AAL-0002", "electricity")):
        connection_create(
            operator=operator,
            customer=customer,
            number=number,
            utility=utility,
            property_type=Connection.PropertyType.RESIDENTIAL,
            acting_user=None,
        )
    charge_post(
        operator=operator,
        holder="AAL-0001",
        head="water_sales",
        amount=Decimal("5000"),
        vat_rule="exempt",
        reference="bill:AAL-0001:2026-11",
        due_date=datetime.date.today(),
        acting_user=None,
    )
    admin = member(Role.OPERATOR_ADMIN, operator, name="Alice Admin")
    sign_in(page, admin.phone, DEFAULT_PASSWORD)

    # when she opens Jeanne's page
    page.goto(f"/customers/{customer.pk}/")
    # then it shows both connections, what each owes, and the total
    expect(page.get_by_test_id("connection-row-AAL-0001")).to_contain_text("Water")
    expect(page.get_by_test_id("connection-row-AAL-0002")).to_contain_text("Electricity")
    expect(page.get_by_test_id("debt-owed-AAL-0001")).to_have_text("5,000 RWF")
    expect(page.get_by_test_id("debt-owed-AAL-0002")).to_have_text("0 RWF")
    expect(page.get_by_test_id("debt-total")).to_have_text("5,000 RWF")
    # and the billing-history chart loads after the page
    expect(page.get_by_test_id("billing-chart")).to_be_visible()

    # when she adds a note about the electricity connection
    notes = page.get_by_test_id("note-form")
    notes.locator("textarea[name=text]").fill("Asked for a meter test on the electricity meter.")
    notes.locator("select[name=connection]").select_option(label="AAL-0002")
    page.get_by_test_id("note-submit").click()
    # then the notes panel shows it, without leaving the page
    expect(page.get_by_test_id("notes")).to_contain_text("Asked for a meter test on the electricity meter.")
    expect(page.get_by_test_id("notes")).to_contain_text("Alice Admin")
    expect(page.get_by_test_id("note-form").locator("textarea[name=text]")).to_have_value("")

    # when she posts the meter test as a miscellaneous charge of 1,000 + VAT to the electricity connection
    form = page.get_by_test_id("misc-charge-form")
    form.locator("select[name=connection]").select_option(label="AAL-0002")
    form.locator("select[name=head]").select_option("other")
    form.locator("input[name=amount]").fill("1000")
    form.locator("select[name=vat_rule]").select_option("standard")
    form.locator("input[name=reason]").fill("Meter accuracy test")
    with page.expect_navigation():
        page.get_by_test_id("misc-charge-submit").click()

    # then the debt across the accounts has grown by 1,180
    expect(page.get_by_test_id("debt-owed-AAL-0002")).to_have_text("1,180 RWF")
    expect(page.get_by_test_id("debt-total")).to_have_text("6,180 RWF")
    expect(page.get_by_test_id("misc-charges")).to_contain_text("Meter accuracy test")
    # and a typo (cents in RWF) is refused in the panel, keeping what she typed
    form = page.get_by_test_id("misc-charge-form")
    form.locator("select[name=connection]").select_option(label="AAL-0001")
    form.locator("input[name=amount]").fill("10.50")
    form.locator("input[name=reason]").fill("Seal")
    page.get_by_test_id("misc-charge-submit").click()
    expect(page.get_by_test_id("panel-payments.charges")).to_contain_text("RWF has no cents")
    expect(page.get_by_test_id("misc-charge-form").locator("input[name=reason]")).to_have_value("Seal")
    expect(page.get_by_test_id("debt-total")).to_have_text("6,180 RWF")
