"""Loaded by pytest before Django's settings (`-p mita.testing.env` in pyproject): the test environment."""

import os

os.environ.setdefault("MITA_TASKS_IMMEDIATE", "true")
os.environ.setdefault("MITA_TESTING", "true")
# Playwright's sync API runs an event loop in the test thread; Django would refuse ORM calls from it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
