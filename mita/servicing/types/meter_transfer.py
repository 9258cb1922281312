"""The meter transfer type: a meter, and exactly the arrears of its account, move to another customer's connection.

received → done (an operator admin approves: customers.lifecycle.meter_transfer moves the meter and exactly what the
old account owes — ledger.services.arrears_move — to the other connection, and terminates the old one; the amount
moved is recorded on the request); or rejected (with a reason).
"""

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mita.customers.lifecycle import meter_transfer
from mita.customers.models import Connection
from mita.ledger.selectors import holder_balance
from mita.servicing.models import ServiceRequest
from mita.servicing.services import ServicingError, request_create
from mita.servicing.types import Opener, register_facts, register_opener
from mita.servicing.types._common import ADMIN, CARE, DAY, connection_in, data_set, event_note
from mita.servicing.workflow import RequestType, State, Transition, register_type

KEY = "meter_transfer"


def _target(request: ServiceRequest) -> Connection:
    return Connection.objects.get(operator=request.operator, pk=request.data["to_connection_id"])


def _transfer(request: ServiceRequest, acting_user: Any, data: dict[str, Any]) -> None:
    assert request.connection is not None
    result = meter_transfer(
        from_connection=request.connection,
        to_connection=_target(request),
        acting_user=acting_user,
        reason=_("Request %(number)s") % {"number": request.number},
        reference=f"sr:{request.number}:meter-transfer",
    )
    data_set(request, arrears_moved=str(result.arrears_moved), reference=result.reference)
    event_note(request, "arrears_moved", acting_user, {"amount": str(result.arrears_moved)})


METER_TRANSFER = RequestType(
    key=KEY,
    label=gettext_lazy("Meter transfer"),
    initial="received",
    create_roles=CARE,
    states=(
        State("received", gettext_lazy("Received"), due=2 * DAY),
        State("done", gettext_lazy("Transferred"), final=True),
        State("rejected", gettext_lazy("Rejected"), final=True),
    ),
    transitions=(
        Transition(
            "approve",
            gettext_lazy("Approve: move the meter and its arrears"),
            ("received",),
            "done",
            ADMIN,
            hook=_transfer,
        ),
        Transition(
            "reject", gettext_lazy("Reject"), ("received",), "rejected", ADMIN | CARE, required=("note",), waits=False
        ),
    ),
)
register_type(METER_TRANSFER)


@transaction.atomic
def meter_transfer_open(
    *,
    operator: Any,
    customer: Any,
    connection: Any,
    channel: str,
    acting_user: Any,
    to_connection: Any = None,
    details: str = "",
) -> ServiceRequest:
    """A request to move the meter of `connection` to `to_connection` (another customer's, usually); it waits for
    an operator admin's approval."""
    live = (Connection.Status.ACTIVE, Connection.Status.DISCONNECTED)
    connection_in(connection, live, _("Connection %(number)s is %(status)s: its meter cannot be moved."))
    if to_connection is None or to_connection.operator_id != operator.pk:
        raise ServicingError(
            _("Choose the connection the meter moves to."),
            code="to_connection_required",
            fields={"to_connection_number": [_("One of your connections.")]},
        )
    if to_connection.pk == connection.pk:
        raise ServicingError(
            _("A meter moves to another connection: choose a different one."),
            code="same_connection",
            fields={"to_connection_number": [_("Choose another connection.")]},
        )
    return request_create(
        operator=operator,
        type=KEY,
        customer=customer,
        connection=connection,
        channel=channel,
        summary=_("Meter of %(from)s to %(to)s") % {"from": connection.number, "to": to_connection.number},
        details=details,
        data={"to_connection_id": to_connection.pk, "to_connection_number": to_connection.number},
        acting_user=acting_user,
    )


def _facts(request: ServiceRequest) -> list[tuple[Any, Any]]:
    facts: list[tuple[Any, Any]] = [(gettext_lazy("Moves to"), request.data.get("to_connection_number", ""))]
    if "arrears_moved" in request.data:
        facts.append((gettext_lazy("Arrears moved"), Decimal(request.data["arrears_moved"])))
    elif request.connection is not None:
        owed = holder_balance(operator=request.operator, holder=request.connection.number)
        facts.append((gettext_lazy("Arrears that would move now"), max(owed, Decimal("0"))))
    return facts


register_facts(KEY, _facts)
register_opener(Opener(key=KEY, roles=CARE, fields=("to_connection_number",), open=meter_transfer_open))
