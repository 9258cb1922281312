"""The termination type: a connection closed for good, its account settled.

received → final_reading (customer care names the technician: a final-reading work order opens; the technician
records the final index, and the final bill's amount before VAT computed from it) → settlement (waits for someone who
may request refunds: customer care, a cashier or an operator admin) → terminated (payments.termination.
termination_settle: the final bill, the deposit applied, a refund of what is left requested, the connection
terminated); or rejected (with a reason) before the final reading is recorded.
"""

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mita.core.money import quantize
from mita.customers.models import Connection
from mita.payments.termination import termination_settle
from mita.servicing.models import ServiceRequest, WorkOrder
from mita.servicing.services import ServicingError, request_create, work_orders_cancel_open
from mita.servicing.types import Opener, register_facts, register_opener
from mita.servicing.types._common import CARE, DAY, REFUNDERS, connection_in, data_set, system_step, work_order_opener
from mita.servicing.workflow import RequestType, State, Transition, register_type

KEY = "termination"


def _number(value: Any, field: str, problems: dict[str, list[str]]) -> Decimal | None:
    try:
        number = Decimal(str(value if value is not None else "").strip())
    except (InvalidOperation, ValueError):
        problems[field] = [_("Write a number, e.g. 1234.5.")]
        return None
    if not number.is_finite() or number < 0:
        problems[field] = [_("Zero or more.")]
        return None
    return number


def final_reading_check(work_order: WorkOrder, acting_user: Any, result: dict[str, Any]) -> dict[str, Any]:
    """The final index read on the meter and the final bill's amount before VAT computed from it."""
    problems: dict[str, list[str]] = {}
    index = _number(result.get("final_index"), "final_index", problems)
    amount = _number(result.get("final_amount"), "final_amount", problems)
    currency = work_order.operator.currency
    if amount is not None and quantize(amount, currency) != amount:
        problems["final_amount"] = [
            _("%(currency)s amounts have no smaller units than this: write %(rounded)s.")
            % {"currency": currency, "rounded": quantize(amount, currency)}
        ]
    if problems:
        raise ServicingError(_("Please correct the final reading."), code="final_reading_invalid", fields=problems)
    return {
        "final_index": str(index),
        "final_amount": str(amount),
        "note": str(result.get("note", "") or "").strip()[:2000],
    }


def _settle(request: ServiceRequest, acting_user: Any, data: dict[str, Any]) -> None:
    reading = (
        request.work_orders.filter(kind=WorkOrder.Kind.FINAL_READING, state=WorkOrder.State.DONE)
        .order_by("-pk")
        .first()
    )
    assert reading is not None and request.connection is not None
    note = _("Final index %(index)s (work order %(work_order)s)") % {
        "index": reading.result["final_index"],
        "work_order": reading.number,
    }
    if reading.result.get("note"):
        note = f"{note}: {reading.result['note']}"
    result = termination_settle(
        connection=request.connection,
        final_amount=Decimal(reading.result["final_amount"]),
        final_reading_note=note,
        acting_user=acting_user,
    )
    data_set(
        request,
        final_bill=str(result.final_charge.total if result.final_charge else Decimal("0")),
        deposit_applied=str(result.deposit.applied),
        refund_number=result.refund.number if result.refund else "",
        refund_amount=str(result.refund.amount if result.refund else Decimal("0")),
        still_owed=str(result.still_owed),
    )


def _rejected(request: ServiceRequest, acting_user: Any, data: dict[str, Any]) -> None:
    work_orders_cancel_open(request=request, acting_user=acting_user)


TERMINATION = RequestType(
    key=KEY,
    label=gettext_lazy("Termination"),
    initial="received",
    create_roles=CARE,
    states=(
        State("received", gettext_lazy("Received"), due=2 * DAY),
        State(
            "final_reading",
            gettext_lazy("Final reading"),
            due=3 * DAY,
            on_enter=work_order_opener(WorkOrder.Kind.FINAL_READING),
        ),
        State("settlement", gettext_lazy("Final bill and refund"), due=DAY),
        State("terminated", gettext_lazy("Terminated"), final=True),
        State("rejected", gettext_lazy("Rejected"), final=True),
    ),
    transitions=(
        Transition(
            "assign_reading",
            gettext_lazy("Send a technician for the final reading"),
            ("received",),
            "final_reading",
            CARE,
            assigns=True,
        ),
        Transition("read", gettext_lazy("Final reading recorded"), ("final_reading",), "settlement", system=True),
        Transition(
            "settle",
            gettext_lazy("Final bill, deposit, refund: terminate"),
            ("settlement",),
            "terminated",
            REFUNDERS,
            hook=_settle,
        ),
        Transition(
            "reject",
            gettext_lazy("Reject"),
            ("received", "final_reading"),
            "rejected",
            CARE,
            required=("note",),
            waits=False,
            hook=_rejected,
        ),
    ),
    work_order_done={WorkOrder.Kind.FINAL_READING: final_reading_check},
    after_work_order={WorkOrder.Kind.FINAL_READING: system_step("read")},
)
register_type(TERMINATION)


@transaction.atomic
def termination_open(
    *, operator: Any, customer: Any, connection: Any, channel: str, acting_user: Any, details: str = ""
) -> ServiceRequest:
    """A request to close a connection for good; it waits for customer care to send a technician."""
    live = (Connection.Status.PENDING, Connection.Status.ACTIVE, Connection.Status.DISCONNECTED)
    connection_in(connection, live, _("Connection %(number)s is %(status)s."))
    if ServiceRequest.objects.filter(
        operator=operator, type=KEY, connection=connection, state__in=["received", "final_reading", "settlement"]
    ).exists():
        raise ServicingError(
            _("Connection %(number)s already has a termination request open.") % {"number": connection.number},
            code="request_open",
            fields={"connection_number": [_("Follow the open request instead.")]},
        )
    return request_create(
        operator=operator,
        type=KEY,
        customer=customer,
        connection=connection,
        channel=channel,
        summary=_("Termination of %(number)s") % {"number": connection.number},
        details=details,
        acting_user=acting_user,
    )


def _facts(request: ServiceRequest) -> list[tuple[Any, Any]]:
    data = request.data
    facts: list[tuple[Any, Any]] = []
    reading = request.work_orders.filter(kind=WorkOrder.Kind.FINAL_READING, state=WorkOrder.State.DONE).first()
    if reading is not None:
        facts.append((gettext_lazy("Final index"), reading.result.get("final_index", "")))
        facts.append((gettext_lazy("Final bill before VAT"), Decimal(reading.result.get("final_amount", "0"))))
    if "final_bill" in data:
        facts.append((gettext_lazy("Final bill charged"), Decimal(data["final_bill"])))
        facts.append((gettext_lazy("Deposit applied"), Decimal(data["deposit_applied"])))
        facts.append((gettext_lazy("Refund requested"), Decimal(data["refund_amount"])))
        if data.get("refund_number"):
            facts.append((gettext_lazy("Refund"), data["refund_number"]))
        facts.append((gettext_lazy("Still owed"), Decimal(data["still_owed"])))
    return facts


register_facts(KEY, _facts)
register_opener(Opener(key=KEY, roles=CARE, fields=(), open=termination_open))
