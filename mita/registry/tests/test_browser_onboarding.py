"""In a real browser: the regulator onboards an operator from the fake CLMS; its new admin signs in from the invitation."""

import re

import pytest
from playwright.sync_api import Page, expect

from mita.accounts.roles import Role
from mita.integrations.clms.fake import FakeClms
from mita.notifications.models import OutboxMessage
from mita.registry.models import Operator
from mita.testing.browser import sign_in, sign_out
from mita.testing.factories import DEFAULT_PASSWORD, RegulatorFactory, member

pytestmark = pytest.mark.browser


@pytest.fixture
def clms(settings):
    with FakeClms() as fake:
        settings.MITA_CLMS_BASE_URL = fake.base_url
        settings.MITA_CLMS_TOKEN = fake.token
        yield fake


def test_the_regulator_onboards_an_operator_whose_admin_then_signs_in_from_the_invitation(
    page: Page, live_server, clms
):
    # given a regulator admin, and licence RURA/WSS/2025/050 in the licensing system
    regulator_admin = member(Role.REGULATOR_ADMIN, RegulatorFactory(), name="Regina Regulator")
    sign_in(page, regulator_admin.phone, DEFAULT_PASSWORD)
    # when they look the licence up and onboard it
    page.goto("/registry/operators/")
    page.get_by_test_id("onboard-link").click()
    lookup = page.get_by_test_id("licence-lookup")
    lookup.locator("input[name=licence_number]").fill("RURA/WSS/2025/050")
    with page.expect_navigation():
        lookup.locator("button[type=submit]").click()
    expect(page.get_by_test_id("licence-preview")).to_contain_text("Umucyo Water Ltd")
    form = page.get_by_test_id("onboard-form")
    form.locator("input[name=licence_number]").fill("RURA/WSS/2025/050")
    form.locator("select[name=kind]").select_option("private_operator")
    form.locator("select[name=utility]").select_option("water")
    form.locator("select[name=language]").select_option("en")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    # then the operator's page shows its prefix and that it may bill
    operator = Operator.objects.get(name="Umucyo Water Ltd")
    expect(page.locator("h1")).to_contain_text("Umucyo Water Ltd")
    expect(page.get_by_test_id("billing-permission")).to_contain_text("May bill today")
    expect(page.locator("main")).to_contain_text(operator.prefix)
    sign_out(page)

    # when the new admin opens the link from their SMS and sets a password
    sms = OutboxMessage.objects.get(to="+250788610050", template="accounts.invitation")
    link = re.search(r"/accounts/invitation/\S+/", sms.body).group(0)
    page.goto(link)
    page.locator("input[name=password]").fill("kivu-lake-sunrise-42")
    page.locator("input[name=password_again]").fill("kivu-lake-sunrise-42")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    # then they are signed in as the operator's admin
    expect(page.get_by_test_id("role-line")).to_contain_text("Umucyo Water Ltd")
    expect(page.get_by_test_id("role-line")).to_contain_text("Operator admin")
    sign_out(page)
    # and can sign in again with their new password
    sign_in(page, "+250788610050", "kivu-lake-sunrise-42")
    expect(page.get_by_test_id("role-line")).to_contain_text("Umucyo Water Ltd")
