"""In a real browser: a new connection from the application at the office to an active connection — the survey, the
connection fee paid at the cashier, the material fee paid online through the itemised public page, the installation
with its meter, and the connection active."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from mita.customers.models import Connection
from mita.integrations.gateway.fake import FakeFlutterwave
from mita.notifications.models import OutboxMessage
from mita.payments.models import Payment
from mita.payments.online import online_channel_configure, online_webhook_url
from mita.servicing.models import ServiceRequest, WorkOrder
from mita.testing.browser import sign_in, sign_out
from mita.testing.factories import DEFAULT_PASSWORD, OperatorFactory

from .world import PDF, World

pytestmark = pytest.mark.browser


def test_a_new_connection_goes_from_application_to_active(page: Page, live_server, settings):
    # given operator A with its terms, connection fee, catalogue, and online payments through the fake gateway
    settings.MITA_PUBLIC_URL = live_server.url
    operator = OperatorFactory(name="Amazi Alpha Ltd", prefix="AAL")
    world = World(operator)
    with FakeFlutterwave() as gateway:
        settings.MITA_GATEWAY_BASE_URL = gateway.base_url
        config = online_channel_configure(operator=operator, acting_user=world.admin)
        gateway.dashboard(webhook_url=online_webhook_url(config=config), secret_hash=config.secret_hash)
        _walk(page, live_server, world, gateway)


def _walk(page: Page, live_server, world: World, gateway: FakeFlutterwave) -> None:  # type: ignore[no-untyped-def]
    # when customer care receives Jeanne's application at the office, with the signed form, terms accepted
    sign_in(page, world.care.phone, DEFAULT_PASSWORD)
    page.goto("/service/")
    page.get_by_test_id("new-connection-link").click()
    expect(page.get_by_test_id("terms")).to_contain_text("version 2026-1")
    form = page.get_by_test_id("new-connection-form")
    form.locator("input[name=name]").fill("Jeanne Uwase")
    form.locator("input[name=phone]").fill("0788 123 456")
    form.locator("select[name=utility]").select_option("water")
    form.locator("select[name=property_type]").select_option("residential")
    form.locator("select[name=channel]").select_option("office")
    form.locator("input[name=signed_form]").set_input_files(
        files=[{"name": "application.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    form.locator("input[name=terms_accepted]").check()
    with page.expect_navigation():
        page.get_by_test_id("new-connection-submit").click()

    # then the request is received, the connection pending, the terms' version recorded
    expect(page.get_by_test_id("request-number")).to_have_text("AAL-SR-000001")
    expect(page.get_by_test_id("request-state")).to_have_text("Received")
    expect(page.get_by_test_id("request-connection")).to_have_text("AAL-N-000001")
    expect(page.get_by_test_id("connection-status")).to_have_text("Pending")
    expect(page.get_by_test_id("terms-accepted")).to_contain_text("Version 2026-1")
    expect(page.get_by_test_id("attachments")).to_contain_text("application.pdf")

    # when they send the technician to survey
    step = page.get_by_test_id("transition-assign_survey")
    step.locator("select[name=assignee]").select_option(label="Tom Technician")
    with page.expect_navigation():
        step.get_by_test_id("transition-assign_survey-submit").click()
    expect(page.get_by_test_id("request-state")).to_have_text("Survey")
    expect(page.get_by_test_id("request-assignee")).to_have_text("Tom Technician")
    sign_out(page)

    # then the technician's home shows a task waiting, and the survey is in their work orders
    sign_in(page, world.technician.phone, DEFAULT_PASSWORD)
    expect(page.get_by_test_id("card-servicing.tasks").locator(".badge")).to_have_text("1")
    page.get_by_test_id("card-servicing.tasks").click()
    page.get_by_test_id("work-order-link-survey").click()
    # when they record the road crossing, the distance and the materials
    form = page.get_by_test_id("work-order-form")
    form.locator("input[name=distance_m]").fill("24.5")
    form.locator("input[name=crossing_road_count]").fill("1")
    form.locator("input[name=crossing_road_length]").fill("6")
    form.locator("select[name=material_0]").select_option(label="PIPE-20 HDPE pipe 20 mm (m)")
    form.locator("input[name=quantity_0]").fill("25")
    form.locator("select[name=material_1]").select_option(label="KIT-M Meter kit (piece)")
    form.locator("input[name=quantity_1]").fill("1")
    with page.expect_navigation():
        page.get_by_test_id("work-order-submit").click()
    expect(page.get_by_test_id("work-order-state")).to_have_text("Done")
    page.get_by_test_id("work-order-request").click()
    # then the connection fee is due
    expect(page.get_by_test_id("request-state")).to_have_text("Connection fee due")
    expect(page.get_by_test_id("fee-connection")).to_contain_text("10,000")
    sign_out(page)

    # when the applicant pays the connection fee at the cashier, quoting the connection number
    world.pay("AAL-N-000001", "10000")

    # then the material fee is charged and the applicant's SMS links to the itemised quote
    request = ServiceRequest.objects.get()
    assert request.state == "material_fee_due"
    sms = OutboxMessage.objects.get(template="servicing.material_fee")
    path = re.search(r"/q/[\w-]+/", sms.body)
    assert path is not None

    # when the applicant opens the link (no login)
    page.goto(path.group(0))
    expect(page.get_by_test_id("quote-operator")).to_have_text("Amazi Alpha Ltd")
    expect(page.get_by_test_id("quote-request")).to_have_text("AAL-SR-000001")
    expect(page.get_by_test_id("quote-item-PIPE-20")).to_contain_text("25 m")
    expect(page.get_by_test_id("quote-item-PIPE-20")).to_contain_text("20,000")
    expect(page.get_by_test_id("quote-item-KIT-M")).to_contain_text("15,000")
    expect(page.get_by_test_id("quote-fee-connection")).to_contain_text("paid")
    expect(page.get_by_test_id("quote-open")).to_have_text("35,000 RWF")
    # and pays online: Mita's payment page, the gateway's checkout, and back
    page.get_by_test_id("quote-pay-online").click()
    page.get_by_test_id("pay-form").get_by_label("Your phone number").fill("0788123456")
    page.get_by_test_id("pay-submit").click()
    expect(page).to_have_url(re.compile(re.escape(gateway.base_url) + r"/v3/hosted/pay/\w+$"))
    expect(page.get_by_test_id("gateway-amount")).to_have_text("35000 RWF")
    page.get_by_test_id("gateway-pay").click()
    expect(page.get_by_test_id("pay-paid")).to_contain_text("Amazi Alpha Ltd received 35,000 RWF")
    assert Payment.objects.filter(channel="online", amount=Decimal("35000")).exists()

    # then the quote says all is paid, and an installation work order waits for the technician
    page.goto(path.group(0))
    expect(page.get_by_test_id("quote-all-paid")).to_be_visible()
    assert WorkOrder.objects.get(kind="installation").state == "open"

    # when the technician installs the meter
    sign_in(page, world.technician.phone, DEFAULT_PASSWORD)
    page.goto("/service/work-orders/")
    page.get_by_test_id("work-order-link-installation").click()
    form = page.get_by_test_id("work-order-form")
    form.locator("input[name=meter_serial]").fill("SN-2026-0001")
    form.locator("input[name=meter_brand]").fill("Itron")
    form.locator("input[name=initial_index]").fill("0")
    with page.expect_navigation():
        page.get_by_test_id("work-order-submit").click()
    expect(page.get_by_test_id("work-order-result")).to_contain_text("SN-2026-0001")

    # then the request is done and the connection active
    page.get_by_test_id("work-order-request").click()
    expect(page.get_by_test_id("request-state")).to_have_text("Connected")
    expect(page.get_by_test_id("connection-status")).to_have_text("Active")
    assert Connection.objects.get(number="AAL-N-000001").status == "active"
