"""What happens to a connection over its life: status changes, ownership change, meter transfer, package change.

These are the domain operations the service request types run when their transitions run (the servicing engine
calls them; docs/servicing-operations.md says what each does with money and why). The money of a package change,
a reconnection and a termination lives in mita/payments/termination.py, which calls back in here for the status.

A connection's number is its customer account in the ledger (the holder): an ownership change keeps the account
(and so its arrears, credit and deposit), a meter transfer moves the arrears to another connection's account.
"""

import calendar
import dataclasses
import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from mita.core.audit import audit_record
from mita.core.errors import Conflict, DomainError
from mita.core.models import AuditEntry
from mita.core.money import quantize
from mita.core.schedule import register_periodic
from mita.customers.models import Connection, ConnectionHolding, ConnectionStatusChange, Customer, SearchTerm
from mita.ledger import services as ledger
from mita.ledger.models import Charge
from mita.ledger.selectors import holder_balance

Status = Connection.Status

# The statuses each status may move to. Terminated is final: the account is closed, its number never reused.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.PENDING: frozenset({Status.ACTIVE, Status.TERMINATED}),
    Status.ACTIVE: frozenset({Status.DISCONNECTED, Status.TERMINATED}),
    Status.DISCONNECTED: frozenset({Status.ACTIVE, Status.TERMINATED}),
    Status.TERMINATED: frozenset(),
}
PACKAGE_NOW = "now"
PACKAGE_NEXT_PERIOD = "next_period"


class LifecycleError(DomainError):
    """A connection operation that cannot run as asked: the message says what to do instead."""


def _status_label(status: str) -> str:
    return str(Status(status).label)


def _locked(connection: Connection) -> Connection:
    return Connection.objects.select_for_update().select_related("operator", "customer").get(pk=connection.pk)


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise LifecycleError(
            _("Say why (the reason is kept in the connection's history)."),
            code="reason_required",
            fields={"reason": [_("Required.")]},
        )
    return reason[:300]


def _holding_close(connection: Connection, on_date: datetime.date) -> None:
    current = ConnectionHolding.objects.select_for_update().filter(connection=connection, ends_on__isnull=True).first()
    if current is not None:
        current.ends_on = max(on_date, current.starts_on)
        current.save(update_fields=["ends_on"])


# Status ---------------------------------------------------------------------------------------------------


@transaction.atomic
def connection_status_change(*, connection: Connection, status: str, reason: str, acting_user: Any) -> Connection:
    """Move a connection to another status, with the reason; the history (ConnectionStatusChange) keeps each one.

    Allowed: pending → active, active → disconnected, disconnected → active, and any status but terminated →
    terminated. Terminated is final. Terminating also ends the current holder's contract (today) and drops a
    package change still waiting. Money is not touched here (payments/termination.py settles it first).
    """
    if status not in Status.values:
        raise LifecycleError(
            _("Choose pending, active, disconnected or terminated."),
            code="status_invalid",
            fields={"status": [_("Unknown status.")]},
        )
    reason = _reason(reason)
    connection = _locked(connection)
    previous = connection.status
    allowed = TRANSITIONS[previous]
    if status not in allowed:
        if not allowed:
            message = _("Connection %(number)s is terminated; a terminated connection never changes status.") % {
                "number": connection.number
            }
        else:
            message = _("A %(current)s connection can only become: %(allowed)s.") % {
                "current": _status_label(previous).lower(),
                "allowed": ", ".join(_status_label(s).lower() for s in Status.values if s in allowed),
            }
        raise LifecycleError(message, code="transition_not_allowed", fields={"status": [message]})
    connection.status = status
    fields = ["status"]
    if status == Status.TERMINATED:
        _holding_close(connection, timezone.localdate())
        if connection.pending_package:
            connection.pending_package, connection.pending_package_from = "", None
            fields += ["pending_package", "pending_package_from"]
    connection.save(update_fields=fields)
    ConnectionStatusChange.objects.create(
        operator=connection.operator,
        connection=connection,
        from_status=previous,
        to_status=status,
        reason=reason,
        changed_by=acting_user if getattr(acting_user, "pk", None) else None,
    )
    audit_record(
        actor=acting_user,
        action="connection.status_changed",
        target=connection,
        before={"status": previous},
        after={"status": status},
        detail={"reason": reason},
    )
    return connection


def _not_terminated(connection: Connection) -> None:
    if connection.status == Status.TERMINATED:
        raise LifecycleError(
            _("Connection %(number)s is terminated: nothing more can be done with it.") % {"number": connection.number},
            code="connection_terminated",
        )


# Ownership change ---------------------------------------------------------------------------------------------


@transaction.atomic
def connection_transfer(
    *,
    connection: Connection,
    to_customer: Customer,
    acting_user: Any,
    on_date: datetime.date,
    arrears_acknowledged: bool = False,
) -> Connection:
    """Ownership change: the connection (and its account, with its number) passes to another customer from a date.

    The current holder's contract ends on that date and the new one's starts on it (contract history). The ledger
    account stays the connection's, so what it owes, its credit and its deposit go with it: while it owes anything
    the change is refused unless `arrears_acknowledged` (the new owner takes the arrears on, and that is audited).
    The new owner must be an active customer of the same operator; the date may not be in the future nor before
    the current holder's contract began.
    """
    connection = _locked(connection)
    _not_terminated(connection)
    to_customer = Customer.objects.get(pk=to_customer.pk)  # its status as it is now, not as the caller last read it
    if to_customer.operator_id != connection.operator_id:
        raise LifecycleError(
            _("Choose one of your customers."), code="customer_invalid", fields={"to_customer": [_("Unknown.")]}
        )
    if to_customer.pk == connection.customer_id:
        raise LifecycleError(
            _("%(customer)s already holds connection %(number)s.")
            % {"customer": to_customer.name, "number": connection.number},
            code="same_customer",
            fields={"to_customer": [_("Choose the new owner.")]},
        )
    if to_customer.status != Customer.Status.ACTIVE:
        raise LifecycleError(
            _("%(customer)s is %(status)s: only an active customer can take a connection over.")
            % {"customer": to_customer.name, "status": to_customer.get_status_display().lower()},
            code="customer_not_active",
            fields={"to_customer": [_("Reactivate the customer first, or choose another.")]},
        )
    current = ConnectionHolding.objects.select_for_update().filter(connection=connection, ends_on__isnull=True).first()
    today = timezone.localdate()
    if on_date > today:
        raise LifecycleError(
            _("The change of owner is recorded on the day it happens, not before: choose today or an earlier date."),
            code="date_in_future",
            fields={"on_date": [_("Today or earlier.")]},
        )
    if current is not None and on_date < current.starts_on:
        raise LifecycleError(
            _("The current holder's contract began on %(date)s: the change cannot be earlier.")
            % {"date": current.starts_on.isoformat()},
            code="date_before_contract",
            fields={"on_date": [_("On or after %(date)s.") % {"date": current.starts_on.isoformat()}]},
        )
    operator = connection.operator
    owed = quantize(holder_balance(operator=operator, holder=connection.number), operator.currency)
    if owed > 0 and not arrears_acknowledged:
        raise Conflict(
            _(
                "Connection %(number)s owes %(owed)s %(currency)s. Have it paid first, or record that the new owner "
                "takes the arrears on."
            )
            % {"number": connection.number, "owed": owed, "currency": operator.currency},
            code="arrears_outstanding",
            fields={"arrears_acknowledged": [_("Confirm the new owner takes the arrears on.")]},
        )
    previous = connection.customer
    if current is not None:
        current.ends_on = on_date
        current.save(update_fields=["ends_on"])
    ConnectionHolding.objects.create(operator=operator, connection=connection, customer=to_customer, starts_on=on_date)
    connection.customer = to_customer
    connection.save(update_fields=["customer"])
    # The search finds the connection's number under its new holder from now on.
    SearchTerm.objects.filter(connection=connection).update(customer=to_customer)
    audit_record(
        actor=acting_user,
        action="connection.owner_changed",
        target=connection,
        before={"customer_id": previous.pk},
        after={"customer_id": to_customer.pk},
        detail={"on_date": on_date, "arrears_taken_on": owed if owed > 0 else Decimal("0")},
    )
    return connection


# Meter transfer -----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class MeterTransfer:
    from_connection: Connection
    to_connection: Connection
    arrears_moved: Decimal  # exactly what the old account owed
    charge: Charge | None  # the new account's arrears_transferred charge (None when nothing was owed)
    reference: str  # the ledger reference of the move


@transaction.atomic
def meter_transfer(
    *,
    from_connection: Connection,
    to_connection: Connection,
    acting_user: Any,
    reason: str,
    terminate_from: bool = True,
    reference: str = "",
) -> MeterTransfer:
    """Meter transfer to another customer: the meter, the service it gives and the old account's arrears move to
    another connection.

    Exactly what the old account owes moves to the new account (ledger.services.arrears_move: the old charges are
    cleared, one arrears_transferred charge due on the oldest due date is opened on the new account); the old
    account's credit and deposit stay with it, for its customer to be refunded. The new connection becomes active
    if it was pending; the old one is terminated unless `terminate_from=False`. Both must be the same utility and
    not terminated; a disconnected target is refused (reconnect it first). Safe to repeat with the same
    `reference` (default: meter-transfer:<old id>:<new id>): the arrears move once.
    """
    reason = _reason(reason)
    if from_connection.pk == to_connection.pk:
        raise LifecycleError(
            _("A meter moves to another connection: choose a different one."),
            code="same_connection",
            fields={"to_connection": [_("Choose another connection.")]},
        )
    # Lock both rows in primary-key order, so that two transfers between the same connections never deadlock.
    first, second = sorted((from_connection, to_connection), key=lambda c: c.pk)
    locked = {c.pk: _locked(c) for c in (first, second)}
    source, target = locked[from_connection.pk], locked[to_connection.pk]
    if source.operator_id != target.operator_id:
        raise LifecycleError(
            _("Choose one of your connections."), code="connection_invalid", fields={"to_connection": [_("Unknown.")]}
        )
    reference = (reference or f"meter-transfer:{source.pk}:{target.pk}").strip()
    replay = _moved(source, reference)
    if not replay:
        for connection in (source, target):
            _not_terminated(connection)
        if source.utility != target.utility:
            raise LifecycleError(
                _("A %(from)s meter cannot serve a %(to)s connection.")
                % {"from": source.get_utility_display().lower(), "to": target.get_utility_display().lower()},
                code="utility_mismatch",
                fields={"to_connection": [_("Choose a connection of the same utility.")]},
            )
        if target.status == Status.DISCONNECTED:
            raise LifecycleError(
                _("Connection %(number)s is disconnected: reconnect it before a meter moves to it.")
                % {"number": target.number},
                code="target_disconnected",
                fields={"to_connection": [_("Reconnect it first.")]},
            )
    operator = source.operator
    charge = ledger.arrears_move(
        operator=operator,
        from_holder=source.number,
        to_holder=target.number,
        reference=reference,
        acting_user=acting_user,
    )
    moved = charge.total if charge is not None else Decimal("0")
    if not replay:
        if target.status == Status.PENDING:
            target = connection_status_change(
                connection=target,
                status=Status.ACTIVE,
                reason=_("Meter moved here from %(number)s: %(reason)s") % {"number": source.number, "reason": reason},
                acting_user=acting_user,
            )
        if terminate_from:
            source = connection_status_change(
                connection=source,
                status=Status.TERMINATED,
                reason=_("Meter moved to %(number)s: %(reason)s") % {"number": target.number, "reason": reason},
                acting_user=acting_user,
            )
        audit_record(
            actor=acting_user,
            action="connection.meter_transferred",
            target=source,
            detail={
                "to_connection": target.pk,
                "to_number": target.number,
                "arrears_moved": moved,
                "reference": reference,
                "reason": reason,
                "old_terminated": terminate_from,
            },
        )
    return MeterTransfer(
        from_connection=source, to_connection=target, arrears_moved=moved, charge=charge, reference=reference
    )


def _moved(connection: Connection, reference: str) -> bool:
    """Whether the transfer of this reference already ran (it is audited under the old connection, in the same
    transaction as the move)."""
    return AuditEntry.objects.filter(
        action="connection.meter_transferred",
        target_type=connection._meta.label_lower,
        target_id=str(connection.pk),
        detail__reference=reference,
    ).exists()


# Package --------------------------------------------------------------------------------------------------------


def next_period_start(on_date: datetime.date) -> datetime.date:
    """The first day of the next billing period. Until billing cycles exist, periods are calendar months."""
    last = calendar.monthrange(on_date.year, on_date.month)[1]
    return on_date.replace(day=last) + datetime.timedelta(days=1)


def _package_clean(package: str) -> str:
    package = (package or "").strip()
    if not package or len(package) > 40 or any(char.isspace() for char in package):
        raise LifecycleError(
            _("Give the package's code: no spaces, at most 40 characters."),
            code="package_invalid",
            fields={"package": [_("A package code, e.g. DOMESTIC-1.")]},
        )
    return package


@transaction.atomic
def package_set(
    *, connection: Connection, package: str, effective: str | datetime.date, acting_user: Any
) -> Connection:
    """Set a connection's package now, or from the next billing period, or from a later date.

    `effective` is "now", "next_period" (the first day of the next billing period) or a date (today means now).
    A change from a later date waits in pending_package until pending_packages_apply() reaches it; a new change
    replaces a waiting one, and asking for the current package cancels a waiting change. The deposit that goes with
    a package is payments.termination.package_change_money (the engine runs both).
    """
    package = _package_clean(package)
    connection = _locked(connection)
    _not_terminated(connection)
    today = timezone.localdate()
    if effective == PACKAGE_NOW:
        starts = today
    elif effective == PACKAGE_NEXT_PERIOD:
        starts = next_period_start(today)
    elif isinstance(effective, datetime.date) and not isinstance(effective, datetime.datetime):
        if effective < today:
            raise LifecycleError(
                _("A package change takes effect today or later, not in the past."),
                code="effective_in_past",
                fields={"effective": [_("Today or later.")]},
            )
        starts = effective
    else:
        raise LifecycleError(
            _("Say when the package takes effect: now, from the next billing period, or from a date."),
            code="effective_invalid",
            fields={"effective": [_("now, next_period or a date.")]},
        )
    before = {
        "package": connection.package,
        "pending_package": connection.pending_package,
        "pending_package_from": connection.pending_package_from,
    }
    if package == connection.package:
        if not connection.pending_package:
            raise LifecycleError(
                _("Connection %(number)s is already on package %(package)s.")
                % {"number": connection.number, "package": package},
                code="package_unchanged",
                fields={"package": [_("Choose another package.")]},
            )
        connection.pending_package, connection.pending_package_from = "", None  # the waiting change is cancelled
    elif starts <= today:
        connection.package, connection.pending_package, connection.pending_package_from = package, "", None
    else:
        connection.pending_package, connection.pending_package_from = package, starts
    connection.save(update_fields=["package", "pending_package", "pending_package_from"])
    audit_record(
        actor=acting_user,
        action="connection.package_set",
        target=connection,
        before=before,
        after={
            "package": connection.package,
            "pending_package": connection.pending_package,
            "pending_package_from": connection.pending_package_from,
        },
    )
    return connection


def pending_packages_apply(operator: Any, on_date: datetime.date) -> int:
    """Apply the package changes due by a date (run daily, and by billing before a period is billed); returns how
    many were applied. Each is its own transaction: one failure leaves the others applied."""
    applied = 0
    due = Connection.objects.filter(
        operator=operator, pending_package_from__isnull=False, pending_package_from__lte=on_date
    ).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            connection = Connection.objects.select_for_update().filter(pk=pk).first()
            if (
                connection is None
                or connection.pending_package_from is None
                or connection.pending_package_from > on_date
            ):
                continue  # changed meanwhile
            before = {"package": connection.package}
            connection.package = connection.pending_package
            connection.pending_package, connection.pending_package_from = "", None
            connection.save(update_fields=["package", "pending_package", "pending_package_from"])
            audit_record(
                actor=None,
                action="connection.package_applied",
                target=connection,
                before=before,
                after={"package": connection.package},
                detail={"on_date": on_date},
            )
            applied += 1
    return applied


@task()
def packages_due_apply() -> dict[str, int]:
    """The periodic run of pending_packages_apply for every operator with a package change due today."""
    today = timezone.localdate()
    operators = (
        Connection.objects.filter(pending_package_from__isnull=False, pending_package_from__lte=today)
        .values_list("operator_id", flat=True)
        .distinct()
        .order_by()
    )
    return {str(operator_id): pending_packages_apply(operator_id, today) for operator_id in list(operators)}


register_periodic("customers.packages_due", datetime.timedelta(hours=1), packages_due_apply)
