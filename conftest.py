"""Test setup shared by every app: settings for tests, the append-only guard, and the personas of STYLE.md."""

import os

os.environ.setdefault("MITA_TASKS_IMMEDIATE", "true")
os.environ.setdefault("MITA_TESTING", "true")
os.environ.setdefault(
    "DJANGO_ALLOW_ASYNC_UNSAFE", "true"
)  # Playwright's sync API runs an event loop in the test thread

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation

from mita.core.db import PURGE_GUARD_TABLE

pytest_plugins = ["mita.testing.fixtures", "mita.testing.browser"]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """Allow emptying append-only tables in the test database, which tests that commit need between runs."""
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {PURGE_GUARD_TABLE}")
        cursor.execute(f"INSERT INTO {PURGE_GUARD_TABLE} (id) VALUES (1)")


@pytest.fixture(autouse=True)
def _append_only_enforced(request):  # type: ignore[no-untyped-def]
    """Inside an ordinary (rolled-back) test, append-only tables refuse UPDATE and DELETE as in production."""
    marker = request.node.get_closest_marker("django_db")
    transactional = {"transactional_db", "live_server"} & set(request.fixturenames) or (
        marker is not None and marker.kwargs.get("transaction")
    )
    if transactional or (marker is None and "db" not in request.fixturenames):
        return
    request.getfixturevalue("db")
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {PURGE_GUARD_TABLE}")


@pytest.fixture(autouse=True)
def _english_unless_a_test_says_otherwise():  # type: ignore[no-untyped-def]
    """Every test starts in the default language: a test (or a request it makes) that switches language must not
    leave the next test reading translated text."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
