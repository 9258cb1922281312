"""What the connection request types share: roles, due dates, opening a work order, checks on the connection."""

import datetime
from typing import Any

from django.utils.translation import gettext as _

from mita.accounts.roles import Role
from mita.customers.models import Connection
from mita.servicing.models import RequestEvent, ServiceRequest
from mita.servicing.services import ServicingError, request_transition, work_order_create

DAY = datetime.timedelta(days=1)
CARE = frozenset({Role.OPERATOR_ADMIN, Role.CUSTOMER_CARE})
ADMIN = frozenset({Role.OPERATOR_ADMIN})
BILLING = frozenset({Role.OPERATOR_ADMIN, Role.BILLING_OFFICER})
# Who may request refunds (payments.refunds): termination_settle asks for the refund of what is left.
REFUNDERS = frozenset({Role.OPERATOR_ADMIN, Role.CUSTOMER_CARE, Role.CASHIER})


def work_order_opener(kind: str) -> Any:
    """An on-enter hook opening a work order of this kind for the request's technician."""

    def _open(request: ServiceRequest, acting_user: Any, data: dict[str, Any]) -> None:
        work_order_create(request=request, kind=kind, assignee=request.assignee, acting_user=acting_user)

    return _open


def system_step(transition: str) -> Any:
    """An after-work-order hook taking a system transition of the request."""

    def _step(work_order: Any, acting_user: Any) -> None:
        request_transition(request=work_order.request, transition=transition, acting_user=acting_user, system=True)

    return _step


def note_check(work_order: Any, acting_user: Any, result: dict[str, Any]) -> dict[str, Any]:
    """A work order whose result is what the technician says was done (optional)."""
    return {"note": str(result.get("note", "") or "").strip()[:2000]}


def connection_in(connection: Connection | None, statuses: tuple[str, ...], message: str) -> Connection:
    """The request's connection, if it is in one of these statuses; otherwise a clear error."""
    if connection is None:
        raise ServicingError(
            _("Choose the connection."),
            code="connection_required",
            fields={"connection_number": [_("Required.")]},
        )
    connection.refresh_from_db(fields=["status"])  # its status now, not as the caller last read it
    if connection.status not in statuses:
        text = message % {"number": connection.number, "status": connection.get_status_display().lower()}
        raise ServicingError(text, code="connection_status", fields={"connection_number": [text]})
    return connection


def data_set(request: ServiceRequest, **values: Any) -> None:
    """Remember facts on the request (shown on its page and in the API's `data`)."""
    request.data = {**request.data, **values}
    request.save(update_fields=["data", "updated_at"])


def event_note(request: ServiceRequest, transition: str, acting_user: Any, data: dict[str, Any]) -> None:
    """A history line that does not change the state (what an operation did: the amount moved, ...)."""
    RequestEvent.objects.create(
        operator_id=request.operator_id,
        request=request,
        transition=transition,
        from_state=request.state,
        to_state=request.state,
        data=data,
        by=acting_user if getattr(acting_user, "pk", None) else None,
    )
