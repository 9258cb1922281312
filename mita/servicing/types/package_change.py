"""The package change type: another package for a connection, now or from the next billing period, with its deposit.

received → done (an operator admin or the billing officer approves, having seen the deposit difference on the
request's page: payments.termination.package_change_money brings the deposit to the new package's schedule amount —
a top-up charge or a release to credit — and customers.lifecycle.package_set sets the package now or from the next
billing period); or rejected (with a reason).
"""

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mita.core.errors import DomainError
from mita.customers.lifecycle import PACKAGE_NEXT_PERIOD, PACKAGE_NOW, package_set
from mita.customers.models import Connection
from mita.payments.deposits import deposit_amount_for, deposit_level
from mita.payments.termination import package_change_money
from mita.servicing.models import ServiceRequest
from mita.servicing.services import ServicingError, request_create
from mita.servicing.types import Opener, register_facts, register_opener
from mita.servicing.types._common import BILLING, CARE, DAY, connection_in, data_set
from mita.servicing.workflow import RequestType, State, Transition, register_type

KEY = "package_change"
EFFECTIVE = {
    PACKAGE_NOW: gettext_lazy("Now"),
    PACKAGE_NEXT_PERIOD: gettext_lazy("From the next billing period"),
}


def deposit_difference(request: ServiceRequest) -> tuple[Decimal, Decimal, Decimal] | None:
    """(deposit now, the new package's deposit, the difference to charge (+) or release (-)); None when the deposit
    schedule has no line for the package."""
    assert request.connection is not None
    try:
        target = deposit_amount_for(operator=request.operator, key=request.data["package"])
    except DomainError:
        return None
    level = deposit_level(operator=request.operator, holder=request.connection.number).level
    return level, target, target - level


def _apply(request: ServiceRequest, acting_user: Any, data: dict[str, Any]) -> None:
    connection = request.connection
    assert connection is not None
    change = package_change_money(
        connection=connection, new_package=request.data["package"], acting_user=acting_user, key=request.number
    )
    connection = package_set(
        connection=connection,
        package=request.data["package"],
        effective=request.data["effective"],
        acting_user=acting_user,
    )
    charged = change.charged.total if change.charged is not None else Decimal("0")
    data_set(
        request,
        deposit_charged=str(charged),
        deposit_released=str(change.released),
        effective_from=(connection.pending_package_from.isoformat() if connection.pending_package_from else "now"),
    )


PACKAGE_CHANGE = RequestType(
    key=KEY,
    label=gettext_lazy("Package change"),
    initial="received",
    create_roles=CARE | BILLING,
    states=(
        State("received", gettext_lazy("Received"), due=2 * DAY),
        State("done", gettext_lazy("Package changed"), final=True),
        State("rejected", gettext_lazy("Rejected"), final=True),
    ),
    transitions=(
        Transition("approve", gettext_lazy("Approve the new package"), ("received",), "done", BILLING, hook=_apply),
        Transition(
            "reject",
            gettext_lazy("Reject"),
            ("received",),
            "rejected",
            CARE | BILLING,
            required=("note",),
            waits=False,
        ),
    ),
)
register_type(PACKAGE_CHANGE)


@transaction.atomic
def package_change_open(
    *,
    operator: Any,
    customer: Any,
    connection: Any,
    channel: str,
    acting_user: Any,
    package: str = "",
    effective: str = PACKAGE_NOW,
    details: str = "",
) -> ServiceRequest:
    """A request for another package (a code of the deposit schedule), effective now or from the next period."""
    live = (Connection.Status.PENDING, Connection.Status.ACTIVE, Connection.Status.DISCONNECTED)
    connection_in(connection, live, _("Connection %(number)s is %(status)s: its package cannot change."))
    package = (package or "").strip()
    problems: dict[str, list[str]] = {}
    if not package or len(package) > 40 or any(char.isspace() for char in package):
        problems["package"] = [_("A package code, e.g. DOMESTIC-1 (no spaces).")]
    elif package == connection.package and not connection.pending_package:
        problems["package"] = [_("The connection is already on this package.")]
    else:
        try:
            deposit_amount_for(operator=operator, key=package)
        except DomainError:
            problems["package"] = [_("The deposit schedule has no line for this package: add it there first.")]
    if effective not in EFFECTIVE:
        problems["effective"] = [_("Now, or from the next billing period.")]
    if problems:
        raise ServicingError(_("Please correct the request."), code="package_change_invalid", fields=problems)
    return request_create(
        operator=operator,
        type=KEY,
        customer=customer,
        connection=connection,
        channel=channel,
        summary=_("%(number)s: package %(old)s → %(new)s")
        % {"number": connection.number, "old": connection.package or "—", "new": package},
        details=details,
        data={"package": package, "from_package": connection.package, "effective": effective},
        acting_user=acting_user,
    )


def _facts(request: ServiceRequest) -> list[tuple[Any, Any]]:
    data = request.data
    facts: list[tuple[Any, Any]] = [
        (gettext_lazy("Package"), f"{data.get('from_package') or '—'} → {data.get('package', '')}"),
        (gettext_lazy("Takes effect"), EFFECTIVE.get(data.get("effective", ""), "")),
    ]
    if "deposit_charged" in data:
        facts.append((gettext_lazy("Deposit top-up charged"), Decimal(data["deposit_charged"])))
        facts.append((gettext_lazy("Deposit released to credit"), Decimal(data["deposit_released"])))
        if data.get("effective_from") not in (None, "now"):
            facts.append((gettext_lazy("Package from"), data["effective_from"]))
        return facts
    difference = deposit_difference(request)
    if difference is None:
        facts.append((gettext_lazy("Deposit"), _("The deposit schedule has no line for this package.")))
    else:
        level, target, change = difference
        facts.append((gettext_lazy("Deposit now"), level))
        facts.append((gettext_lazy("Deposit of the new package"), target))
        facts.append((gettext_lazy("Deposit difference (+ to pay, − to release)"), change))
    return facts


register_facts(KEY, _facts)
register_opener(Opener(key=KEY, roles=CARE | BILLING, fields=("package", "effective"), open=package_change_open))
