"""In a real browser: an operator admin runs October's cycle for a route from preview to approval to publication,
then opens a bill's PDF."""

import io

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from mita.accounts.roles import Role
from mita.billing.models import Bill, BillRun
from mita.billing.tests.world_billing import billing_world
from mita.testing.browser import sign_in
from mita.testing.factories import DEFAULT_PASSWORD, OperatorFactory, member

pytestmark = pytest.mark.browser
# The run's steps go on in the background; the page polls its progress. Generous, as the machine may be busy.
RUN_STEP_MS = 60_000


def _status(page: Page, text: str) -> None:
    """Wait until the run's page says the run reached `text` (the progress block refreshes itself while working)."""
    expect(page.get_by_test_id("run-status")).to_have_text(text, timeout=RUN_STEP_MS)


def test_an_admin_runs_a_route_from_preview_to_publish_and_opens_a_bill_pdf(page: Page, live_server):
    # given an operator with October 2026's readings on three routes, and its admin signed in
    operator = OperatorFactory(name="Amazi Alpha Ltd", prefix="AAL")
    world = billing_world(operator, with_exceptions=False)
    route = world["routes"]["R1"]
    admin = member(Role.OPERATOR_ADMIN, operator, name="Alice Admin")
    sign_in(page, admin.phone, DEFAULT_PASSWORD)

    # when they start a run of October for route R1
    page.goto("/billing/runs/new/")
    form = page.get_by_test_id("run-form")
    form.locator("select[name=cycle]").select_option(label="2026-10")
    form.locator("select[name=scope_kind]").select_option("route")
    form.locator("input[name=scope_id]").fill(str(route.pk))
    with page.expect_navigation():
        page.get_by_test_id("run-submit").click()

    # then the preview shows the route's three bills, waiting for approval
    _status(page, "Preview: waiting for approval")
    expect(page.get_by_test_id("run-bills")).to_have_text("3")
    run = BillRun.objects.get(operator=operator)
    assert run.scope_kind == "route" and run.scope_id == route.pk

    # when they approve it, the bills are numbered and issued
    with page.expect_navigation():
        page.get_by_test_id("run-approve").click()
    _status(page, "Issued")
    # and when they publish it, the bills' SMS are queued
    with page.expect_navigation():
        page.get_by_test_id("run-publish").click()
    _status(page, "Published")
    bills = Bill.objects.filter(run=run)
    assert bills.count() == 3 and all(bill.number and bill.published_at for bill in bills)

    # when they open the first bill of the run and its A4 PDF
    rows = page.get_by_test_id("run-bill-rows")
    first = bills.order_by("number").first()
    expect(rows).to_contain_text(first.number)
    with page.expect_navigation():
        rows.get_by_role("link", name=first.account).click()
    link = page.get_by_test_id("bill-pdf-a4")
    expect(link).to_be_visible()
    response = page.request.get(link.get_attribute("href"))

    # then it is a PDF of that bill, with its number, account and total
    assert response.ok and response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.body()))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert first.number in text and first.account in text and "DRAFT" not in text
