"""In a real browser: a reconnection from the request at the office to an active connection — the reconnection fee
charged from the fee schedule, paid at the cashier, the work order done by the technician, the connection active,
and the request on the customer's 360 page."""

import pytest
from playwright.sync_api import Page, expect

from mita.customers.lifecycle import connection_status_change
from mita.customers.models import Connection
from mita.ledger.selectors import holder_balance
from mita.servicing.models import ServiceRequest, WorkOrder
from mita.testing.browser import sign_in, sign_out
from mita.testing.factories import DEFAULT_PASSWORD, OperatorFactory

from .wire_world import WireWorld

pytestmark = pytest.mark.browser


def test_a_reconnection_goes_from_request_to_active_once_the_fee_is_paid(page: Page, live_server):
    # given Jeanne's connection, disconnected for unpaid bills, and a reconnection fee of 5,000 RWF before VAT
    operator = OperatorFactory(name="Amazi Alpha Ltd", prefix="AAL")
    world = WireWorld(operator)
    connection_status_change(connection=world.tap, status="disconnected", reason="unpaid bills", acting_user=None)

    # when customer care records her request for reconnection
    sign_in(page, world.care.phone, DEFAULT_PASSWORD)
    page.goto("/service/")
    page.get_by_test_id("new-reconnection-link").click()
    form = page.get_by_test_id("typed-request-form")
    form.locator("input[name=customer_number]").fill(world.jeanne.number)
    form.locator("input[name=connection_number]").fill("AAL-0001")
    form.locator("select[name=channel]").select_option("office")
    with page.expect_navigation():
        page.get_by_test_id("typed-request-submit").click()
    expect(page.get_by_test_id("request-state")).to_have_text("Received")
    expect(page.get_by_test_id("connection-status")).to_have_text("Disconnected")

    # and accepts it, naming the technician
    step = page.get_by_test_id("transition-accept")
    step.locator("select[name=assignee]").select_option(label="Tom Technician")
    with page.expect_navigation():
        step.get_by_test_id("transition-accept-submit").click()

    # then the fee is due: 5,000 + 18% VAT
    expect(page.get_by_test_id("request-state")).to_have_text("Reconnection fee due")
    expect(page.get_by_test_id("fee-reconnection")).to_contain_text("5,900")
    sign_out(page)

    # when Jeanne pays at the cashier, quoting her connection number
    world.pay("AAL-0001", "5900")

    # then a reconnection work order waits for the technician, whose badge shows it
    request = ServiceRequest.objects.get()
    assert request.state == "work"
    assert WorkOrder.objects.get(kind="reconnection").state == "open"
    sign_in(page, world.technician.phone, DEFAULT_PASSWORD)
    expect(page.get_by_test_id("card-servicing.tasks").locator(".badge")).to_have_text("1")
    page.goto("/service/work-orders/")
    page.get_by_test_id("work-order-link-reconnection").click()
    # when they reopen the valve and say so
    page.get_by_test_id("work-order-form").locator("textarea[name=note]").fill("Valve reopened, supply checked")
    with page.expect_navigation():
        page.get_by_test_id("work-order-submit").click()
    expect(page.get_by_test_id("work-order-result")).to_contain_text("Valve reopened")

    # then the request is done and the connection active, with nothing owed
    page.get_by_test_id("work-order-request").click()
    expect(page.get_by_test_id("request-state")).to_have_text("Reconnected")
    expect(page.get_by_test_id("connection-status")).to_have_text("Active")
    assert Connection.objects.get(number="AAL-0001").status == "active"
    assert holder_balance(operator=operator, holder="AAL-0001") == 0
    sign_out(page)

    # and Jeanne's 360 page lists the request, closed
    sign_in(page, world.care.phone, DEFAULT_PASSWORD)
    page.goto(f"/customers/{world.jeanne.pk}/")
    expect(page.get_by_test_id(f"requests-{request.number}")).to_contain_text("Reconnected")
