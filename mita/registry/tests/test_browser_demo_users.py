"""Every login the demo publishes works in a real browser and lands on a home page naming the user's role."""

import io
import json
from collections import defaultdict

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import Page, expect

from mita.accounts.models import User
from mita.accounts.roles import Role
from mita.registry.services import boundaries_seed
from mita.testing.browser import LOGIN_PATH, sign_in, sign_out


@pytest.mark.browser
def test_every_demo_user_signs_in_and_sees_their_role(page: Page, live_server, settings, tmp_path, screenshot):
    # given the demo deployment, built on the boundaries the migrations seed (emptied by earlier live-server tests)
    settings.VAR_DIR = tmp_path
    # Argon2 costs ~0.3 s a hash here, twice per user (demo build, sign-in); the login path is the same with MD5.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    boundaries_seed()
    call_command("demo", accounts=0, stdout=io.StringIO())
    logins = json.loads((tmp_path / "demo-users.json").read_text(encoding="utf-8"))
    assert {login["role"] for login in logins} == set(Role), "the demo has a user for every role"
    roles_by_phone: dict[str, list[dict[str, str]]] = defaultdict(list)
    for login in logins:
        roles_by_phone[login["phone"]].append(login)

    failures = []
    for phone, entries in roles_by_phone.items():
        # Home opens on the first workspace, operators in order of name; a regulator or district has no operator.
        workspace = min(entry["operator"] for entry in entries)
        with translation.override(User.objects.get(phone=phone).language):
            role_labels = [str(Role(entry["role"]).label) for entry in entries if entry["operator"] == workspace]
        page.context.clear_cookies()  # each person signs in on their own phone
        try:
            # when they sign in with the published password
            sign_in(page, phone, entries[0]["password"])
            # then home names their workspace and their role
            expect(page).to_have_url(live_server.url + reverse("core:home"))
            role_line = page.get_by_test_id("role-line")
            for label in role_labels:
                expect(role_line).to_contain_text(label)
            if workspace:
                expect(role_line).to_contain_text(workspace)
            # and they can sign out
            sign_out(page)
            expect(page).to_have_url(live_server.url + LOGIN_PATH)
        except AssertionError as error:
            failures.append(f"{phone} ({', '.join(role_labels)}): {error}")
            screenshot(page, phone)

    assert len(roles_by_phone) >= 30
    assert not failures, f"{len(failures)} of {len(roles_by_phone)} demo users failed:\n" + "\n".join(failures)
