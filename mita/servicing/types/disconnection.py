"""The disconnection type: asked for by the customer, or started by the billing officer (e.g. for non-payment).

Asked for by the customer: received → review (customer care takes it up) → approved (an operator admin or the
billing officer approves and names the technician: a disconnection work order opens) → disconnected (the work order
done: the connection is disconnected); or rejected (with a reason) from received or review.
Started by the billing officer: straight to approved (the technician named when it is started) → disconnected.
No money moves (docs/servicing-operations.md).
"""

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mita.customers.lifecycle import connection_status_change
from mita.customers.models import Connection
from mita.servicing.models import ServiceRequest, WorkOrder
from mita.servicing.services import (
    ServicingError,
    _roles_of,
    request_create,
    request_transition,
    work_orders_cancel_open,
)
from mita.servicing.types import Opener, register_facts, register_opener
from mita.servicing.types._common import BILLING, CARE, DAY, connection_in, note_check, work_order_opener
from mita.servicing.workflow import RequestType, State, Transition, register_type

KEY = "disconnection"
REASONS = {
    "customer": gettext_lazy("Asked for by the customer"),
    "non_payment": gettext_lazy("Non-payment"),
    "fraud": gettext_lazy("Tampering or illegal use"),
    "other": gettext_lazy("Other"),
}


def _disconnected(work_order: WorkOrder, acting_user: Any) -> None:
    request = work_order.request
    assert request.connection is not None
    connection_status_change(
        connection=request.connection,
        status=Connection.Status.DISCONNECTED,
        reason=_("Disconnected under request %(number)s (%(why)s)")
        % {"number": request.number, "why": REASONS.get(request.data.get("reason", ""), "")},
        acting_user=acting_user,
    )
    request_transition(request=request, transition="disconnected", acting_user=acting_user, system=True)


def _rejected(request: ServiceRequest, acting_user: Any, data: dict[str, Any]) -> None:
    work_orders_cancel_open(request=request, acting_user=acting_user)


DISCONNECTION = RequestType(
    key=KEY,
    label=gettext_lazy("Disconnection"),
    initial="received",
    create_roles=CARE | BILLING,
    states=(
        State("received", gettext_lazy("Received"), due=DAY),
        State("review", gettext_lazy("Under review"), due=2 * DAY),
        State(
            "approved",
            gettext_lazy("Approved: disconnection work order"),
            due=2 * DAY,
            on_enter=work_order_opener(WorkOrder.Kind.DISCONNECTION),
        ),
        State("disconnected", gettext_lazy("Disconnected"), final=True),
        State("rejected", gettext_lazy("Rejected"), final=True),
    ),
    transitions=(
        Transition("review", gettext_lazy("Take up for review"), ("received",), "review", CARE),
        Transition(
            "approve", gettext_lazy("Approve and send a technician"), ("review",), "approved", BILLING, assigns=True
        ),
        Transition(
            "start", gettext_lazy("Started by the operator"), ("received",), "approved", system=True, assigns=True
        ),
        Transition("disconnected", gettext_lazy("Disconnected"), ("approved",), "disconnected", system=True),
        Transition(
            "reject",
            gettext_lazy("Reject"),
            ("received", "review"),
            "rejected",
            CARE | BILLING,
            required=("note",),
            waits=False,
            hook=_rejected,
        ),
    ),
    work_order_done={WorkOrder.Kind.DISCONNECTION: note_check},
    after_work_order={WorkOrder.Kind.DISCONNECTION: _disconnected},
)
register_type(DISCONNECTION)


@transaction.atomic
def disconnection_open(
    *,
    operator: Any,
    customer: Any,
    connection: Any,
    channel: str,
    acting_user: Any,
    reason: str = "customer",
    assignee: Any = None,
    details: str = "",
) -> ServiceRequest:
    """A disconnection of an active connection. Asked for by the customer (`reason="customer"`) it waits for review;
    started by the operator (any other reason: non-payment, ...) only a billing officer or an operator admin may,
    naming the technician, and it goes straight to approved with its work order."""
    if reason not in REASONS:
        raise ServicingError(
            _("Say why the connection is disconnected: %(choices)s.") % {"choices": ", ".join(REASONS)},
            code="reason_invalid",
            fields={"reason": [_("Unknown reason.")]},
        )
    connection_in(
        connection,
        (Connection.Status.ACTIVE,),
        _("Connection %(number)s is %(status)s: only an active one is disconnected."),
    )
    by_operator = reason != "customer"
    if by_operator and not _roles_of(operator=operator, user=acting_user) & BILLING:
        raise ServicingError(
            _("Only a billing officer or an operator admin starts a disconnection for the operator."),
            code="forbidden",
            fields={"reason": [_("Choose “Asked for by the customer”, or ask a billing officer.")]},
        )
    if by_operator and assignee is None:
        raise ServicingError(
            _("Name the technician who disconnects."), code="assignee_required", fields={"assignee": [_("Required.")]}
        )
    request = request_create(
        operator=operator,
        type=KEY,
        customer=customer,
        connection=connection,
        channel=channel,
        summary=_("Disconnection of %(number)s: %(why)s") % {"number": connection.number, "why": REASONS[reason]},
        details=details,
        data={"reason": reason},
        acting_user=acting_user,
    )
    if by_operator:
        request = request_transition(
            request=request, transition="start", acting_user=acting_user, system=True, assignee=assignee
        )
    return request


def _facts(request: ServiceRequest) -> list[tuple[Any, Any]]:
    return [(gettext_lazy("Why"), REASONS.get(request.data.get("reason", ""), ""))]


register_facts(KEY, _facts)
register_opener(
    Opener(
        key=KEY,
        roles=CARE | BILLING,
        fields=("reason", "assignee"),
        open=disconnection_open,
    )
)
