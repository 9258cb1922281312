"""`mita worker`: run background tasks (django-tasks' database worker) and enqueue periodic tasks on time."""

import threading
from typing import Any

from django.db import close_old_connections
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from mita.core.schedule import enqueue_due


class Command(DbWorkerCommand):
    help = "Run Mita's background tasks; safe to run on many machines against one PostgreSQL."

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        threading.Thread(target=self._schedule, args=(stop,), name="mita-schedule", daemon=True).start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()

    def _schedule(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                enqueue_due()
            except Exception:  # the schedule must keep going; the error is logged
                import logging

                logging.getLogger(__name__).exception("could not enqueue periodic tasks")
            finally:
                close_old_connections()
            stop.wait(30)
