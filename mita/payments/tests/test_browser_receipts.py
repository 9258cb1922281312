"""In a real browser: a cashier takes a payment, opens its receipt and the roll PDF, then the customer's statement."""

import datetime
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from pypdf import PdfReader
from reportlab.lib.units import mm

from mita.accounts.roles import Role
from mita.ledger.services import charge_post
from mita.notifications.models import OutboxMessage
from mita.payments.models import Payment
from mita.testing.browser import sign_in
from mita.testing.factories import DEFAULT_PASSWORD, OperatorFactory, member

pytestmark = pytest.mark.browser
HOLDER = "AAL-0001"


def _pdf_text(page: Page, href: str) -> tuple[PdfReader, str]:
    """Fetch a PDF link with the browser's own session, as the PDF viewer would."""
    response = page.request.get(href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.body()))
    return reader, " ".join(" ".join(p.extract_text() for p in reader.pages).split())


def test_a_cashier_takes_a_payment_prints_the_roll_receipt_and_opens_the_statement(page: Page, live_server):
    # given an account owing 1,500 since last month and a cashier
    operator = OperatorFactory(name="Amazi Alpha Ltd", prefix="AAL")
    last_month = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    charge_post(
        operator=operator,
        holder=HOLDER,
        head="water_sales",
        amount=Decimal("1500"),
        vat_rule="exempt",
        reference="bill:last-month",
        due_date=last_month,
        acting_user=None,
    )
    cashier = member(Role.CASHIER, operator, name="Carla Cashier")
    sign_in(page, cashier.phone, DEFAULT_PASSWORD)

    # when the cashier takes 1,000 in cash for the account
    page.goto("/payments/new/")
    form = page.get_by_test_id("payment-form")
    form.locator("input[name=account_reference]").fill(HOLDER)
    form.locator("input[name=amount]").fill("1000")
    form.locator("input[name=payer_name]").fill("Jeanne Uwase")
    form.locator("input[name=payer_phone]").fill("+250788123456")
    with page.expect_navigation():
        page.get_by_test_id("payment-submit").click()

    # then the receipt shows its number, and the payer is texted
    expect(page.get_by_test_id("receipt-number")).to_have_text("AAL-R-000001")
    payment = Payment.objects.get(operator=operator)
    assert OutboxMessage.objects.filter(template="payments.received", to="+250788123456").count() == 1

    # when they open the 58 mm roll PDF from the receipt page
    link = page.get_by_test_id("receipt-pdf-58")
    expect(link).to_be_visible()
    reader, text = _pdf_text(page, link.get_attribute("href"))
    # then it is a 58 mm page with the receipt number, the amount, the charge it paid and the balance left
    assert float(reader.pages[0].mediabox.width) == pytest.approx(58 * mm, abs=0.5)
    for expected in ("AAL-R-000001", "1,000 RWF", "bill:last-month", "Balance after this payment 500 RWF"):
        assert expected in text, expected
    assert "COPY" not in text

    # when they reprint it as A4 from the page
    page.get_by_test_id("receipt-reprint-pdf").locator("select[name=layout]").select_option("a4")
    with page.expect_response(lambda response: response.url.endswith("/reprint.pdf")) as reprint:
        page.get_by_test_id("receipt-reprint-pdf").locator("button[type=submit]").click()
    assert reprint.value.status == 302
    # then every print from now on says COPY
    _reader, copy_text = _pdf_text(page, f"/payments/{payment.pk}/receipt.pdf?layout=a4")
    assert "COPY" in copy_text and "AAL-R-000001" in copy_text

    # when they go to the customer's account and open its statement
    page.goto(f"/payments/{payment.pk}/")
    with page.expect_navigation():
        page.get_by_test_id("receipt-holder").get_by_role("link").click()
    expect(page.get_by_test_id("account-payments")).to_contain_text("AAL-R-000001")
    with page.expect_navigation():
        page.get_by_test_id("account-statement").click()

    # then the last twelve months show the charge, the payment and what is still owed
    expect(page.get_by_test_id("statement-lines")).to_contain_text("bill:last-month")
    expect(page.get_by_test_id("statement-lines")).to_contain_text("AAL-R-000001")
    expect(page.get_by_test_id("statement-closing")).to_have_text("500 RWF")

    # when they ask for a period that ends before it starts
    statement_form = page.get_by_test_id("statement-form")
    statement_form.locator("input[name=start]").fill("2026-03-01")
    statement_form.locator("input[name=end]").fill("2026-02-01")
    with page.expect_navigation():
        page.get_by_test_id("statement-submit").click()
    # then they are told what to fix, and no statement is shown
    expect(page.get_by_test_id("statement-errors")).to_contain_text("before the start date")
    expect(page.get_by_test_id("statement-lines")).to_have_count(0)

    # when they choose a period covering the payment
    today = timezone.localdate()
    statement_form.locator("input[name=start]").fill(last_month.replace(day=1).isoformat())
    statement_form.locator("input[name=end]").fill(today.isoformat())
    with page.expect_navigation():
        page.get_by_test_id("statement-submit").click()
    expect(page.get_by_test_id("statement-opening")).to_have_text("0 RWF")
    expect(page.get_by_test_id("statement-closing")).to_have_text("500 RWF")
    # and its PDF says the same
    _reader, statement_text = _pdf_text(page, page.get_by_test_id("statement-pdf").get_attribute("href"))
    for expected in ("Statement of account", HOLDER, "AAL-R-000001", "bill:last-month", "Closing balance"):
        assert expected in statement_text, expected
