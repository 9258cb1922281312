"""Loaded by pytest before Django's settings (`-p mita.testing.env` in pyproject): the test environment."""

import os

os.environ.setdefault("MITA_TASKS_IMMEDIATE", "true")
os.environ.setdefault("MITA_TESTING", "true")
# Playwright's sync API runs an event loop in the test thread; Django would refuse ORM calls from it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# No time limit per Hypothesis example: speed is measured by `mita bench`, never asserted in tests, and on a busy
# 2-core machine a pure check of a dozen readings once took longer than Hypothesis's default 200 ms and failed.
from hypothesis import settings

settings.register_profile("mita", deadline=None)
settings.load_profile("mita")
