"""Writing the audit log: who changed what, in which operator, with before and after, in which request."""

import contextvars
import dataclasses
import datetime
import decimal
import uuid
from typing import Any

from django.db import models

from mita.core.bulk import instance_create
from mita.core.models import AuditEntry

TENANT_MODEL = "registry.operator"


@dataclasses.dataclass(frozen=True)
class RequestContext:
    request_id: str
    ip: str | None = None


current_request: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "mita_current_request", default=None
)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    """The values of some fields, for an entry's before/after."""
    return {name: _jsonable(getattr(instance, name)) for name in fields}


def audit_record(
    *,
    actor: Any,
    action: str,
    target: models.Model | None = None,
    operator: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one audit entry; call it inside the transaction of the change it records."""
    context = current_request.get()
    if operator is None and target is not None:
        # An operator-owned row names its operator; the operator (the tenant) is its own.
        is_tenant = target._meta.label_lower == TENANT_MODEL
        operator_id = target.pk if is_tenant else getattr(target, "operator_id", None)
    else:
        operator_id = getattr(operator, "pk", operator)
    actor_id = getattr(actor, "pk", None) if actor is not None and getattr(actor, "is_authenticated", True) else None
    entry = AuditEntry(
        actor_id=actor_id,
        operator_id=operator_id,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:200] if target is not None else "",
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        detail=_jsonable(detail or {}),
        request_id=context.request_id if context else "",
        ip=context.ip if context else None,
    )
    instance_create(entry)  # as AuditEntry.objects.create, its INSERT built once: every write records one
    return entry


def audit_for(target: models.Model) -> models.QuerySet[AuditEntry]:
    """The entries about one object, newest first."""
    return AuditEntry.objects.filter(target_type=target._meta.label_lower, target_id=str(target.pk)).select_related(
        "actor"
    )


def audit_record_many(
    *, actor: Any, action: str, targets: list[models.Model], after: list[dict[str, Any]] | None = None
) -> None:
    """audit_record for many objects made at once (a bulk import): one insert, the same entries."""
    context = current_request.get()
    actor_id = getattr(actor, "pk", None) if actor is not None and getattr(actor, "is_authenticated", True) else None
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                actor_id=actor_id,
                operator_id=getattr(target, "operator_id", None),
                action=action,
                target_type=target._meta.label_lower,
                target_id=str(target.pk),
                target_repr=str(target)[:200],
                after=_jsonable(after[index]) if after is not None else None,
                detail={},
                request_id=context.request_id if context else "",
                ip=context.ip if context else None,
            )
            for index, target in enumerate(targets)
        ],
        batch_size=500,
    )
