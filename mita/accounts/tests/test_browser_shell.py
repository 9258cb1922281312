"""The shell in a real browser: signing in and out, the language and workspace switchers, throttling, invitations."""

import re

import pytest
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import Locator, Page, Response, expect

from mita.accounts.models import Membership
from mita.accounts.roles import Role
from mita.accounts.services import invitation_send, membership_grant, user_create
from mita.testing.browser import LOGIN_PATH, sign_in, sign_out
from mita.testing.factories import DEFAULT_PASSWORD, OperatorFactory, member

pytestmark = pytest.mark.browser


def _in(language: str, text: str) -> str:
    """The text as the page shows it in that language (English while the catalogue lacks it)."""
    with translation.override(language):
        return translation.gettext(text)


def _role_label(role: str, language: str) -> str:
    with translation.override(language):
        return str(Role(role).label)


def _login_form_alert(page: Page) -> Locator:
    return page.get_by_test_id("login-form").get_by_role("alert")


def test_a_treasurer_of_two_operators_switches_language_and_workspace_then_signs_out(page: Page, live_server):
    # given a treasurer at two operators
    amazi = OperatorFactory(name="Amazi Alpha Ltd")
    bravo = OperatorFactory(name="Bravo Water Co")
    treasurer = member(Role.TREASURER, amazi, name="Patrick Habimana")
    Membership.objects.create(user=treasurer, role=Role.TREASURER, operator=bravo)

    # when they sign in through the login form
    sign_in(page, treasurer.phone, DEFAULT_PASSWORD)

    # then they are home, working for the first operator by name
    expect(page).to_have_url(live_server.url + reverse("core:home"))
    expect(page.get_by_test_id("role-line")).to_have_text("Amazi Alpha Ltd · Treasurer")
    switcher = page.get_by_test_id("workspace-switcher")
    expect(switcher.locator("option:checked")).to_have_text("Amazi Alpha Ltd")

    # when they choose French in the header
    page.get_by_test_id("language-switcher").select_option("fr")

    # then the page is in French
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page).to_have_title("Accueil · Mita")
    expect(page.get_by_test_id("logout")).to_have_text("Se déconnecter")

    # when they switch to the second operator
    switcher.select_option(label="Bravo Water Co")

    # then they work for it, and are told so
    expect(page.locator(".messages li.success")).to_contain_text("Bravo Water Co")
    expect(switcher.locator("option:checked")).to_have_text("Bravo Water Co")
    expect(page.get_by_test_id("role-line")).to_have_text(f"Bravo Water Co · {_role_label(Role.TREASURER, 'fr')}")

    # when they sign out
    sign_out(page)

    # then they are on the login page, and home asks them to sign in again
    expect(page).to_have_url(live_server.url + LOGIN_PATH)
    expect(page.get_by_test_id("login-form")).to_be_visible()
    page.goto(reverse("core:home"))
    expect(page).to_have_url(re.compile(re.escape(LOGIN_PATH) + r"\?next=/$"))


def test_wrong_passwords_are_refused_and_the_eleventh_is_throttled(page: Page, live_server):
    # given a cashier
    cashier = member(Role.CASHIER, OperatorFactory(), name="Diane Uwimana")

    # when they type a wrong password
    sign_in(page, cashier.phone, "not my password")

    # then the form says so, and they are not signed in
    expect(_login_form_alert(page)).to_have_text("The phone number or the password is wrong.")
    expect(page).to_have_url(live_server.url + LOGIN_PATH)

    # when they try nine more wrong passwords and then an eleventh
    for attempt in range(2, 12):
        sign_in(page, cashier.phone, f"wrong password {attempt}")

    # then the account is throttled for the 15-minute window
    expect(_login_form_alert(page)).to_have_text(
        "Too many wrong passwords for this account. Wait 15 minutes and try again, or reset your password."
    )

    # and even the right password is refused until the window passes
    sign_in(page, cashier.phone, DEFAULT_PASSWORD)
    expect(_login_form_alert(page)).to_contain_text("Too many wrong passwords")
    expect(page.get_by_test_id("logout")).to_have_count(0)


def test_an_invited_user_sets_a_password_and_lands_signed_in(page: Page, live_server):
    # given a person invited as a cashier at an operator, without a password yet
    operator = OperatorFactory(name="Amazi Alpha Ltd")
    admin = member(Role.OPERATOR_ADMIN, operator, name="Claudine Uwase")
    person = user_create(phone="+250788123001", name="Aline Mukamana", password=None, acting_user=admin)
    membership_grant(user=person, role=Role.CASHIER, organisation=operator, acting_user=admin)
    _invitation, token = invitation_send(
        user=person, role=Role.CASHIER, organisation=operator, acting_user=admin, operator=operator
    )
    invitation_path = reverse("accounts:invitation_accept", args=[token])

    # when they open the link, type a password twice, choose French and submit
    page.goto(invitation_path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Aline Mukamana")
    form = page.locator("main form")
    form.get_by_label("New password:", exact=True).fill("blue river morning 42")
    form.get_by_label("New password again:", exact=True).fill("blue river morning 42")
    form.get_by_label("Language:", exact=True).select_option("fr")
    with page.expect_navigation():
        form.get_by_role("button", name="Set password and sign in").click()

    # then they are signed in at home, in French, working for the operator
    expect(page).to_have_url(live_server.url + reverse("core:home"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator(".messages li.success")).to_be_visible()
    expect(page.get_by_test_id("role-line")).to_have_text(f"Amazi Alpha Ltd · {_role_label(Role.CASHIER, 'fr')}")
    expect(page.get_by_test_id("logout")).to_be_visible()

    # and the password they chose works next time, while the link does not work twice
    sign_out(page)
    sign_in(page, person.phone, "blue river morning 42")
    expect(page).to_have_url(live_server.url + reverse("core:home"))
    page.goto(invitation_path)
    expect(page.get_by_role("heading", level=1)).to_have_text(_in("fr", "This link no longer works"))
    expect(page.locator("main form")).to_have_count(0)


def test_the_login_page_loads_its_stylesheet_and_icon(page: Page, live_server):
    # given a browser that notes every request of the page that does not succeed
    broken: list[str] = []

    def note_error(response: Response) -> None:
        if not response.ok:
            broken.append(f"{response.status} {response.url}")

    page.on("response", note_error)
    page.on("requestfailed", lambda request: broken.append(f"{request.failure} {request.url}"))

    # when someone opens the login page
    page.goto(LOGIN_PATH, wait_until="load")

    # then the stylesheet, the icon and the script all arrived, so the page looks as designed
    expect(page.get_by_test_id("login-form")).to_be_visible()
    assert broken == [], "\n".join(broken)
