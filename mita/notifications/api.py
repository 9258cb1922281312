"""API for the outbox: the messages an admin's workspace may read, and one message."""

import datetime

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from mita.notifications.models import OutboxMessage
from mita.notifications.selectors import OUTBOX_ROLES, outbox_message_get_for_access, outbox_messages_visible_to

router = Router(tags=["notifications"])


class OutboxMessageOut(Schema):
    id: int
    operator_id: int | None
    channel: str
    to: str
    template: str
    language: str
    subject: str
    body: str | None  # null when the message carries a one-time secret (see body_hidden)
    body_hidden: bool
    status: str
    gateway: str
    provider_message_id: str
    provider_status: str
    attempts: int
    next_attempt_at: datetime.datetime | None
    last_error: str
    created_at: datetime.datetime
    sent_at: datetime.datetime | None
    delivered_at: datetime.datetime | None

    @staticmethod
    def resolve_body(message: OutboxMessage) -> str | None:
        return message.body if message.body_readable else None

    @staticmethod
    def resolve_body_hidden(message: OutboxMessage) -> bool:
        return not message.body_readable


def _require_outbox_role(request: HttpRequest) -> None:
    if not request.access.has_role(*OUTBOX_ROLES):  # type: ignore[attr-defined]
        raise PermissionDenied


@router.get("/notifications/outbox", response=list[OutboxMessageOut], summary="Outgoing messages you may read")
@paginate(LimitOffsetPagination)
def outbox_list(request: HttpRequest, status: str = "", channel: str = "", to: str = "") -> QuerySet[OutboxMessage]:
    """Newest first. Operator admins read their operator's messages; regulator admins every message."""
    _require_outbox_role(request)
    access = request.access  # type: ignore[attr-defined]
    return outbox_messages_visible_to(access=access, status=status, channel=channel, to=to).order_by(
        "-created_at", "-pk"
    )


@router.get("/notifications/outbox/{message_id}", response=OutboxMessageOut, summary="One outgoing message")
def outbox_get(request: HttpRequest, message_id: int) -> OutboxMessage:
    """Another operator's message is a 404, whatever your role."""
    message = outbox_message_get_for_access(access=request.access, message_id=message_id)  # type: ignore[attr-defined]
    _require_outbox_role(request)
    return message
