"""API for the audit log and job progress."""

import datetime
import uuid
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from mita.core.models import AuditEntry, Job
from mita.core.selectors import jobs_visible_to

router = Router(tags=["core"])


class AuditEntryOut(Schema):
    id: int
    at: datetime.datetime
    actor_id: int | None
    operator_id: int | None
    action: str
    target_type: str
    target_id: str
    target_repr: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    detail: dict[str, Any]
    request_id: str


class JobOut(Schema):
    id: uuid.UUID
    operator_id: int | None
    kind: str
    title: str
    status: str
    total: int
    done: int
    percent: int
    message: str
    created_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None


@router.get("/audit", response=list[AuditEntryOut], summary="Audit entries (admins)")
@paginate(LimitOffsetPagination)
def audit_entries(
    request: HttpRequest, action: str = "", target_type: str = "", target_id: str = ""
) -> QuerySet[AuditEntry]:
    access = request.access  # type: ignore[attr-defined]
    if not access.has_role("regulator_admin", "operator_admin"):
        raise PermissionDenied
    entries = AuditEntry.objects.visible_to(access).order_by("-at", "-id")
    if action:
        entries = entries.filter(action__startswith=action)
    if target_type:
        entries = entries.filter(target_type=target_type)
    if target_id:
        entries = entries.filter(target_id=target_id)
    return entries


@router.get("/jobs/{job_id}", response=JobOut, summary="A long job's progress")
def job_get(request: HttpRequest, job_id: uuid.UUID) -> Job:
    return get_object_or_404(jobs_visible_to(request.access), pk=job_id)  # type: ignore[attr-defined]
