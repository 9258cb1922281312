"""Progress of long jobs: started by a service, advanced by a task, shown by pages and `mita jobs`."""

import uuid
from typing import Any

from django.db.models import F
from django.utils import timezone

from mita.core.models import Job


def job_create(*, kind: str, title: str, total: int = 0, operator: Any = None, created_by: Any = None) -> Job:
    return Job.objects.create(kind=kind, title=title, total=total, operator=operator, created_by=created_by)


def job_start(*, job_id: uuid.UUID | str, total: int | None = None) -> None:
    updates: dict[str, Any] = {"status": Job.Status.RUNNING, "started_at": timezone.now()}
    if total is not None:
        updates["total"] = total
    Job.objects.filter(pk=job_id).update(**updates)


def job_advance(*, job_id: uuid.UUID | str, by: int = 1, message: str = "") -> None:
    updates: dict[str, Any] = {"done": F("done") + by}
    if message:
        updates["message"] = message[:500]
    Job.objects.filter(pk=job_id).update(**updates)


def job_finish(*, job_id: uuid.UUID | str, message: str = "") -> None:
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.SUCCEEDED, done=F("total"), finished_at=timezone.now(), message=message[:500]
    )


def job_fail(*, job_id: uuid.UUID | str, message: str) -> None:
    Job.objects.filter(pk=job_id).update(status=Job.Status.FAILED, finished_at=timezone.now(), message=message[:500])
