"""`mita worker`: run background tasks (django-tasks' database worker) and enqueue periodic tasks on time."""

import logging
import threading
from typing import Any

from django.db import close_old_connections
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from mita.core.schedule import enqueue_due

logger = logging.getLogger(__name__)


class Command(DbWorkerCommand):
    help = "Run Mita's background tasks; safe to run on many machines against one PostgreSQL."

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        # Enqueue what is due now, before the worker starts taking tasks (and before the thread exists), so that
        # a fresh worker does not race its own scheduler for the database.
        self._enqueue_due()
        threading.Thread(target=self._schedule, args=(stop,), name="mita-schedule", daemon=True).start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()

    def _schedule(self, stop: threading.Event) -> None:
        while not stop.wait(30):
            self._enqueue_due()
            close_old_connections()

    @staticmethod
    def _enqueue_due() -> None:
        try:
            enqueue_due()
        except Exception:  # the schedule must keep going; the error is logged
            logger.exception("could not enqueue periodic tasks")
