"""The reconnection type: a disconnected connection back on supply once the reconnection fee is paid.

received → fee_due (customer care accepts it and names the technician: the operator's reconnection fee is charged
with payments.termination.reconnection_fee_charge) → work (the fee paid — found by the payment's signal, the sweep or
the page, as for the new connection's fees: a reconnection work order opens) → active (the work order done:
payments.termination.reconnect_if_paid makes the connection active); or rejected (with a reason) from received.
"""

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mita.customers.lifecycle import connection_status_change
from mita.customers.models import Connection
from mita.payments.termination import reconnect_if_paid, reconnection_fee_charge
from mita.servicing.models import RequestFee, ServiceFee, ServiceRequest, WorkOrder
from mita.servicing.selectors import fee_is_paid, service_fee_for
from mita.servicing.services import ServicingError, request_create, request_transition
from mita.servicing.types import Opener, register_opener
from mita.servicing.types._common import CARE, DAY, connection_in, event_note, note_check, work_order_opener
from mita.servicing.workflow import RequestType, State, Transition, register_type

KEY = "reconnection"


def _fee_charge(request: ServiceRequest, acting_user: Any, data: dict[str, Any]) -> None:
    """Charge the schedule's reconnection fee (before VAT; VAT as for any fee). A zero fee charges nothing."""
    connection = request.connection
    assert connection is not None
    line = service_fee_for(
        operator=request.operator,
        kind=ServiceFee.Kind.RECONNECTION,
        utility=connection.utility,
        property_type=connection.property_type,
    )
    if line is None:
        raise ServicingError(
            _(
                "Your operator has no reconnection fee for %(utility)s connections: an operator admin sets it in the "
                "fee schedule (zero if reconnection is free), then the request can be accepted."
            )
            % {"utility": connection.get_utility_display().lower()},
            code="fee_schedule_missing",
        )
    if line.amount == 0:
        return
    charge = reconnection_fee_charge(
        connection=connection, amount=line.amount, acting_user=acting_user, key=request.number
    )
    RequestFee.objects.create(
        operator=request.operator,
        request=request,
        kind=RequestFee.Kind.RECONNECTION,
        charge=charge,
        amount=charge.total,
        items=[{"label": str(_("Reconnection fee")), "amount": str(line.amount), "total": str(charge.total)}],
    )
    event_note(request, "fee_charged", acting_user, {"kind": RequestFee.Kind.RECONNECTION, "amount": str(charge.total)})


def _advance(request: ServiceRequest) -> str | None:
    if request.state != "fee_due":
        return None
    fee = request.fees.filter(kind=RequestFee.Kind.RECONNECTION).first()
    if fee is None or fee_is_paid(fee=fee):
        return "fee_paid"
    return None


def _reconnected(work_order: WorkOrder, acting_user: Any) -> None:
    request = work_order.request
    connection = request.connection
    assert connection is not None
    if request.fees.filter(kind=RequestFee.Kind.RECONNECTION).exists():
        reconnect_if_paid(connection=connection, key=request.number, acting_user=acting_user)
    else:  # a free reconnection: nothing was charged
        connection_status_change(
            connection=connection,
            status=Connection.Status.ACTIVE,
            reason=_("Reconnected under request %(number)s") % {"number": request.number},
            acting_user=acting_user,
        )
    request_transition(request=request, transition="reconnected", acting_user=acting_user, system=True)


RECONNECTION = RequestType(
    key=KEY,
    label=gettext_lazy("Reconnection"),
    initial="received",
    create_roles=CARE,
    states=(
        State("received", gettext_lazy("Received"), due=DAY),
        State("fee_due", gettext_lazy("Reconnection fee due"), on_enter=_fee_charge),
        State(
            "work",
            gettext_lazy("Reconnection work order"),
            due=DAY,
            on_enter=work_order_opener(WorkOrder.Kind.RECONNECTION),
        ),
        State("active", gettext_lazy("Reconnected"), final=True),
        State("rejected", gettext_lazy("Rejected"), final=True),
    ),
    transitions=(
        Transition(
            "accept",
            gettext_lazy("Accept, charge the fee, name the technician"),
            ("received",),
            "fee_due",
            CARE,
            assigns=True,
        ),
        Transition("fee_paid", gettext_lazy("Reconnection fee paid"), ("fee_due",), "work", system=True),
        Transition("reconnected", gettext_lazy("Reconnected"), ("work",), "active", system=True),
        Transition("reject", gettext_lazy("Reject"), ("received",), "rejected", CARE, required=("note",), waits=False),
    ),
    work_order_done={WorkOrder.Kind.RECONNECTION: note_check},
    after_work_order={WorkOrder.Kind.RECONNECTION: _reconnected},
    advance=_advance,
    advance_states=("fee_due",),
)
register_type(RECONNECTION)


@transaction.atomic
def reconnection_open(
    *, operator: Any, customer: Any, connection: Any, channel: str, acting_user: Any, details: str = ""
) -> ServiceRequest:
    """A reconnection of a disconnected connection; it waits for customer care to accept it."""
    connection_in(
        connection,
        (Connection.Status.DISCONNECTED,),
        _("Connection %(number)s is %(status)s: only a disconnected one is reconnected."),
    )
    if ServiceRequest.objects.filter(
        operator=operator, type=KEY, connection=connection, state__in=["received", "fee_due", "work"]
    ).exists():
        raise ServicingError(
            _("Connection %(number)s already has a reconnection request open.") % {"number": connection.number},
            code="request_open",
            fields={"connection_number": [_("Follow the open request instead.")]},
        )
    return request_create(
        operator=operator,
        type=KEY,
        customer=customer,
        connection=connection,
        channel=channel,
        summary=_("Reconnection of %(number)s") % {"number": connection.number},
        details=details,
        acting_user=acting_user,
    )


def fee_total(request: ServiceRequest) -> Decimal:
    fee = request.fees.filter(kind=RequestFee.Kind.RECONNECTION).first()
    return fee.amount if fee else Decimal("0")


register_opener(Opener(key=KEY, roles=CARE, fields=(), open=reconnection_open))
