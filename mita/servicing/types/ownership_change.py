"""The ownership change type: a connection (its number, its account) passes to another customer.

received → done (customer care or an operator admin approves: customers.lifecycle.connection_transfer from the
request's date). While the account owes anything the approval is refused (arrears_outstanding, saying how much)
unless the approver ticks that the new owner takes the arrears on (docs/servicing-operations.md); or rejected.
"""

import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mita.customers.lifecycle import connection_transfer
from mita.customers.models import Connection, Customer
from mita.ledger.selectors import holder_balance
from mita.servicing.models import ServiceRequest
from mita.servicing.services import ServicingError, request_create
from mita.servicing.types import Opener, register_facts, register_opener, register_transition_fields
from mita.servicing.types._common import CARE, DAY, connection_in, data_set
from mita.servicing.workflow import RequestType, State, Transition, register_type

KEY = "ownership_change"


def _transfer(request: ServiceRequest, acting_user: Any, data: dict[str, Any]) -> None:
    assert request.connection is not None
    on_date = datetime.date.fromisoformat(request.data["on_date"])
    owed = max(holder_balance(operator=request.operator, holder=request.connection.number), Decimal("0"))
    connection_transfer(
        connection=request.connection,
        to_customer=Customer.objects.get(operator=request.operator, pk=request.data["to_customer_id"]),
        acting_user=acting_user,
        on_date=on_date,
        arrears_acknowledged=bool(data.get("arrears_acknowledged")),
    )
    data_set(request, arrears_taken_on=str(owed))


OWNERSHIP_CHANGE = RequestType(
    key=KEY,
    label=gettext_lazy("Ownership change"),
    initial="received",
    create_roles=CARE,
    states=(
        State("received", gettext_lazy("Received"), due=2 * DAY),
        State("done", gettext_lazy("Owner changed"), final=True),
        State("rejected", gettext_lazy("Rejected"), final=True),
    ),
    transitions=(
        Transition("approve", gettext_lazy("Approve the change of owner"), ("received",), "done", CARE, hook=_transfer),
        Transition("reject", gettext_lazy("Reject"), ("received",), "rejected", CARE, required=("note",), waits=False),
    ),
)
register_type(OWNERSHIP_CHANGE)
register_transition_fields(KEY, "approve", ("arrears_acknowledged",))


@transaction.atomic
def ownership_change_open(
    *,
    operator: Any,
    customer: Any,
    connection: Any,
    channel: str,
    acting_user: Any,
    to_customer: Any = None,
    on_date: datetime.date | None = None,
    details: str = "",
) -> ServiceRequest:
    """A request to pass `connection` from its holder (`customer`) to `to_customer` from `on_date` (default today)."""
    live = (Connection.Status.PENDING, Connection.Status.ACTIVE, Connection.Status.DISCONNECTED)
    connection_in(connection, live, _("Connection %(number)s is %(status)s: it has no owner to change."))
    problems: dict[str, list[str]] = {}
    if to_customer is None or to_customer.operator_id != operator.pk:
        problems["to_customer_number"] = [_("Choose the new owner among your customers.")]
    elif to_customer.pk == connection.customer_id:
        problems["to_customer_number"] = [_("The new owner is another customer than the holder.")]
    on_date = on_date or timezone.localdate()
    if on_date > timezone.localdate():
        problems["on_date"] = [_("Today or earlier: a change is recorded when it happens.")]
    if problems:
        raise ServicingError(_("Please correct the request."), code="ownership_change_invalid", fields=problems)
    return request_create(
        operator=operator,
        type=KEY,
        customer=customer,
        connection=connection,
        channel=channel,
        summary=_("%(number)s to %(customer)s") % {"number": connection.number, "customer": to_customer.name},
        details=details,
        data={
            "to_customer_id": to_customer.pk,
            "to_customer_number": to_customer.number,
            "to_customer_name": to_customer.name,
            "on_date": on_date.isoformat(),
        },
        acting_user=acting_user,
    )


def _facts(request: ServiceRequest) -> list[tuple[Any, Any]]:
    data = request.data
    facts: list[tuple[Any, Any]] = [
        (gettext_lazy("New owner"), f"{data.get('to_customer_number', '')} {data.get('to_customer_name', '')}"),
        (gettext_lazy("From"), data.get("on_date", "")),
    ]
    if "arrears_taken_on" in data:
        facts.append((gettext_lazy("Arrears taken on by the new owner"), Decimal(data["arrears_taken_on"])))
    elif request.connection is not None:
        owed = holder_balance(operator=request.operator, holder=request.connection.number)
        facts.append((gettext_lazy("Arrears on the account now"), max(owed, Decimal("0"))))
    return facts


register_facts(KEY, _facts)
register_opener(Opener(key=KEY, roles=CARE, fields=("to_customer_number", "on_date"), open=ownership_change_open))
