"""Periodic tasks: apps register them; `mita worker` enqueues each once per interval across all workers."""

import dataclasses
import datetime
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from mita.core.models import ScheduledRun

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Periodic:
    name: str
    every: datetime.timedelta
    task: Any  # a django-tasks Task taking no arguments


_periodic: dict[str, Periodic] = {}


def register_periodic(name: str, every: datetime.timedelta, task: Any) -> None:
    _periodic[name] = Periodic(name=name, every=every, task=task)


def periodic_tasks() -> list[Periodic]:
    return list(_periodic.values())


def enqueue_due(now: datetime.datetime | None = None) -> list[str]:
    """Enqueue every periodic task whose interval has passed; returns the names enqueued.

    The row lock makes this safe with many workers: only the one that moves last_enqueued_at enqueues.
    """
    now = now or timezone.now()
    enqueued = []
    for periodic in _periodic.values():
        try:
            with transaction.atomic():
                run, created = ScheduledRun.objects.select_for_update().get_or_create(
                    name=periodic.name, defaults={"last_enqueued_at": now}
                )
                if not created and run.last_enqueued_at + periodic.every > now:
                    continue
                run.last_enqueued_at = now
                run.save(update_fields=["last_enqueued_at"])
                periodic.task.enqueue()
                enqueued.append(periodic.name)
        except IntegrityError:  # another worker created the row first
            continue
    if enqueued:
        logger.info("enqueued periodic tasks: %s", ", ".join(enqueued))
    return enqueued
