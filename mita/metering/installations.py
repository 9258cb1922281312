"""Installing, removing and replacing meters on connections (docs/metering.md, "Installations").

A meter's number is its own, not the connection's: removed, calibrated and returned to a store, it can go on any
connection. Removing a meter records its final index as a reading (source REMOVAL) in the cycle of the removal, so a
cycle with a swap consumes the old meter's last stretch plus the new meter's first.
"""

import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from mita.core.audit import audit_record
from mita.customers.models import Connection
from mita.metering.errors import MeteringError
from mita.metering.models import Installation, Meter, MeterState, Movement, MovementLine, Reading, Register, Store
from mita.metering.readings import dial_of, multipliers_of, state_advance, state_open
from mita.metering.validation import cycle_of, reading_check


def _registers_of(meter: Meter) -> list[str]:
    return list(Register.objects.filter(meter_model_id=meter.meter_model_id).values_list("code", flat=True)) or ["main"]


def _locked_meter(meter: Meter) -> Meter:
    return Meter.objects.select_for_update().select_related("meter_model").get(pk=meter.pk)


def _index(value: Any, field: str) -> Decimal:
    try:
        index = Decimal(str(value))
    except Exception:
        raise MeteringError(
            _("Write the index as a number."), code="index_invalid", fields={field: [_("A number.")]}
        ) from None
    if not index.is_finite() or index < 0:
        raise MeteringError(
            _("An index is a number, never negative."), code="index_invalid", fields={field: [_("Zero or more.")]}
        )
    return index


def _movement(
    *,
    operator: Any,
    kind: str,
    meter: Meter,
    on: datetime.date,
    user: Any,
    from_store: Store | None = None,
    to_store: Store | None = None,
    reference: str = "",
) -> None:
    movement = Movement.objects.create(
        operator=operator,
        kind=kind,
        from_store=from_store,
        to_store=to_store,
        moved_on=on,
        created_by=user,
        reference=reference,
    )
    MovementLine.objects.create(movement=movement, meter=meter)


@transaction.atomic
def meter_install(
    *, meter: Meter, connection: Connection, installed_on: datetime.date, initial_index: Any, acting_user: Any
) -> Installation:
    """Put a meter from a store on a connection that has none, counting from `initial_index`."""
    meter = _locked_meter(meter)
    connection = Connection.objects.select_for_update().get(pk=connection.pk)
    index = _index(initial_index, "initial_index")
    if meter.operator_id != connection.operator_id:
        raise MeteringError(_("Choose one of your meters."), code="meter_invalid", fields={"meter": [_("Unknown.")]})
    if meter.status != Meter.Status.IN_STORE:
        raise MeteringError(
            _("Only a meter in a store can be installed; this one is %(status)s.")
            % {"status": meter.get_status_display()},
            code="meter_not_in_store",
            fields={"meter": [_("Choose a meter in a store.")]},
        )
    if meter.meter_model.utility != connection.utility:
        raise MeteringError(
            _("This meter measures %(utility)s; the connection is for another utility.")
            % {"utility": meter.meter_model.get_utility_display()},
            code="utility_mismatch",
            fields={"meter": [_("Choose a meter of the connection's utility.")]},
        )
    if not connection.metered:
        raise MeteringError(_("This connection is not metered."), code="not_metered")
    if connection.status == Connection.Status.TERMINATED:
        raise MeteringError(_("This connection is terminated."), code="connection_terminated")
    if Installation.objects.filter(connection=connection, removed_on__isnull=True).exists():
        raise MeteringError(
            _("This connection already has a meter: remove it or replace it."), code="connection_has_meter"
        )
    last = MeterState.objects.filter(connection=connection).order_by("-last_read_on").first()
    if last is not None and installed_on < last.last_read_on:
        raise MeteringError(
            _("The connection was read on %(day)s: install from that day or later.") % {"day": last.last_read_on},
            code="date_before_last_reading",
            fields={"installed_on": [_("Too early.")]},
        )
    store = meter.store
    installation = Installation.objects.create(
        operator_id=connection.operator_id,
        meter=meter,
        connection=connection,
        installed_on=installed_on,
        initial_index=index,
        installed_by=acting_user,
    )
    meter.status, meter.store = Meter.Status.INSTALLED, None
    meter.save(update_fields=["status", "store"])
    state_open(installation=installation, registers=_registers_of(meter))
    _movement(
        operator=connection.operator,
        kind=Movement.Kind.INSTALL,
        meter=meter,
        on=installed_on,
        user=acting_user,
        from_store=store,
        reference=connection.number,
    )
    audit_record(
        actor=acting_user,
        action="meter.installed",
        target=installation,
        after={"meter": str(meter), "connection": connection.number, "initial_index": index, "on": installed_on},
    )
    return installation


@transaction.atomic
def meter_remove(
    *,
    connection: Connection,
    removed_on: datetime.date,
    final_index: Any,
    reason: str,
    to_store: Store,
    acting_user: Any,
    register: str | None = None,
) -> Installation:
    """Take the meter off a connection with its final index: the index counts as the connection's last reading of the
    meter (in the removal's cycle), and the meter goes to `to_store` (faulty meters are kept FAULTY there; a store of
    kind LAB puts it IN_LAB)."""
    installation = (
        Installation.objects.select_for_update()
        .filter(connection=connection, removed_on__isnull=True)
        .select_related("meter__meter_model")
        .first()
    )
    if installation is None:
        raise MeteringError(_("This connection has no meter installed."), code="no_meter")
    if reason not in Installation.RemovalReason.values:
        raise MeteringError(_("Choose a reason."), code="reason_invalid", fields={"reason": [_("Choose a reason.")]})
    if to_store.operator_id != connection.operator_id or not to_store.active:
        raise MeteringError(_("Choose one of your stores."), code="store_invalid", fields={"to_store": [_("Unknown.")]})
    index = _index(final_index, "final_index")
    meter = _locked_meter(installation.meter)
    # The final index is the model's first register's (an installation has one initial and one final index).
    register = register or _registers_of(meter)[0]
    state = (
        MeterState.objects.select_for_update(of=("self",))
        .select_related("installation__meter__meter_model")
        .get(connection=connection, register=register)
    )
    if removed_on < state.last_read_on:
        raise MeteringError(
            _("The meter was last read on %(day)s: it cannot be removed before.") % {"day": state.last_read_on},
            code="date_before_last_reading",
            fields={"removed_on": [_("Too early.")]},
        )
    dial = dial_of(state, multipliers_of([state]))
    check = reading_check(previous=state.last_index, current=index, dial=dial, active=False)
    if check.anomaly in ("backwards", "reversed"):
        raise MeteringError(
            _("The final index is below the last index counted (%(last)s): check it.") % {"last": state.last_index},
            code="final_index_backwards",
            fields={"final_index": [_("At least %(last)s.") % {"last": state.last_index}]},
        )
    reading = Reading.objects.create(
        operator_id=connection.operator_id,
        connection=connection,
        installation=installation,
        register=register,
        cycle=cycle_of(removed_on),
        read_on=removed_on,
        previous_index=state.last_index,
        current_index=index,
        consumption=check.consumption,
        multiplier=dial.multiplier,
        rollover=check.rollover,
        source=Reading.Source.REMOVAL,
        status=Reading.Status.ACCEPTED,
        created_by=acting_user,
    )
    state_advance(state, reading)
    state.installation = None
    state.save()
    MeterState.objects.filter(connection=connection).exclude(register=register).update(installation=None)
    installation.removed_on, installation.final_index = removed_on, index
    installation.removal_reason, installation.removed_by = reason, acting_user
    installation.save(update_fields=["removed_on", "final_index", "removal_reason", "removed_by"])
    if reason in (Installation.RemovalReason.FAULTY, Installation.RemovalReason.TAMPERED):
        meter.status = Meter.Status.FAULTY
    elif to_store.kind == Store.Kind.LAB:
        meter.status = Meter.Status.IN_LAB
    else:
        meter.status = Meter.Status.IN_STORE
    meter.store = to_store
    meter.save(update_fields=["status", "store"])
    _movement(
        operator=connection.operator,
        kind=Movement.Kind.REMOVE,
        meter=meter,
        on=removed_on,
        user=acting_user,
        to_store=to_store,
        reference=connection.number,
    )
    audit_record(
        actor=acting_user,
        action="meter.removed",
        target=installation,
        after={"final_index": index, "on": removed_on, "reason": reason, "store": to_store.code},
    )
    return installation


@transaction.atomic
def meter_replace(
    *,
    connection: Connection,
    new_meter: Meter,
    replaced_on: datetime.date,
    final_index: Any,
    initial_index: Any,
    reason: str,
    to_store: Store,
    acting_user: Any,
) -> Installation:
    """Remove the connection's meter with its final index and install another the same day (one transaction)."""
    meter_remove(
        connection=connection,
        removed_on=replaced_on,
        final_index=final_index,
        reason=reason,
        to_store=to_store,
        acting_user=acting_user,
    )
    return meter_install(
        meter=new_meter,
        connection=connection,
        installed_on=replaced_on,
        initial_index=initial_index,
        acting_user=acting_user,
    )
