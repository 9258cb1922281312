"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server.

One Chromium runs for the whole session; every test gets a fresh context (no cookies, no storage) and a
page whose relative URLs point at the live server. When a test fails, its pages are saved as screenshots
(and their HTML) under test-results/ for debugging.
"""

import os
import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from pytest_django.live_server_helper import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
# Pages of a local server answer in well under a second; a short wait makes a failing test fail fast.
TIMEOUT_MS = 10_000
LOGIN_PATH = "/accounts/login/"

_call_failed = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """Remember whether the test body failed, so the page fixture knows to keep a screenshot."""
    report: pytest.TestReport = yield
    if report.when == "call":
        item.stash[_call_failed] = report.failed
    return report


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, for the whole session; never a downloaded browser."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"The browser tests need Debian's Chromium at {CHROMIUM}, which is missing. Install it with "
            "`sh scripts/install-chromium` as root (or `sudo apt-get install -y chromium`); "
            "do not run `playwright install`.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _save_pages(context: BrowserContext, directory: Path, stem: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for number, page in enumerate(context.pages):
        name = stem if number == 0 else f"{stem}-{number}"
        try:
            page.screenshot(path=directory / f"{name}.png", full_page=True)
            (directory / f"{name}.html").write_text(page.content(), encoding="utf-8")
        except Exception as error:  # a crashed or closed page must not hide the test's own failure
            warnings.warn(f"Could not save {name} under {directory}: {error}", stacklevel=1)


def _file_stem(text: str) -> str:
    return re.sub(r"[^\w.-]+", "_", text).strip("_")[:150]


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Page, str], None]:
    """screenshot(page, label) saves the page under test-results/ now, for failures a test collects itself."""
    directory = request.config.rootpath / "test-results"

    def save(page: Page, label: str) -> None:
        _save_pages(page.context, directory, _file_stem(f"{request.node.nodeid}-{label}"))

    return save


@pytest.fixture
def page(browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a fresh context (a new device: no cookies) whose relative URLs go to the live server."""
    context = browser.new_context(base_url=live_server.url, locale="en-GB", timezone_id="Africa/Kigali")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    if request.node.stash.get(_call_failed, False):
        _save_pages(context, request.config.rootpath / "test-results", _file_stem(request.node.nodeid))
    context.close()


def sign_in(page: Page, phone: str, password: str) -> None:
    """Open the login page and submit the phone and password, in whatever language the page is in."""
    page.goto(LOGIN_PATH)
    form = page.get_by_test_id("login-form")
    form.locator("input[name=phone]").fill(phone)
    form.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def sign_out(page: Page) -> None:
    with page.expect_navigation():
        page.get_by_test_id("logout").click()
