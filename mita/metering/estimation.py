"""Estimating missing readings: the connection's own average daily consumption x the days since its last reading.

An estimate is a reading of source ESTIMATED, status ACCEPTED, whose current index is the index the meter would show
(last index + estimate / multiplier, through the wrap of the dial). The next actual reading trues it up
(mita.metering.readings: negative consumption when the estimates overshot), so a cycle's totals over estimated months
add up to actual - actual. A connection with no history (fewer than three readings) is estimated at 0 and its reading
says so in its note (docs/metering-review.md).
"""

import dataclasses
import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.core.audit import audit_record, audit_record_many
from mita.customers.models import Connection
from mita.metering.errors import MeteringError
from mita.metering.models import MeterState, Reading
from mita.metering.readings import HISTORY, average_daily, dial_of, multipliers_of, state_advance, thresholds_of
from mita.metering.validation import cycle_bounds

CHUNK = 500
INDEX_PLACES = Decimal("0.001")


@dataclasses.dataclass(frozen=True)
class Estimate:
    previous_index: Decimal
    current_index: Decimal
    consumption: Decimal  # (current - previous) x multiplier, through the wrap
    rollover: bool
    days: int
    no_history: bool  # estimated at 0: the connection has fewer than three readings of history


def estimate_for(*, state: MeterState, read_on: datetime.date, multipliers: dict[tuple[int, str], Decimal]) -> Estimate:
    """What a register would have consumed since its last reading, and the index its meter would show."""
    dial = dial_of(state, multipliers)
    days = max((read_on - state.last_read_on).days, 0)
    daily = average_daily(state.history)
    no_history = daily is None
    units = max(daily or Decimal(0), Decimal(0)) * days
    advance = (units / dial.multiplier).quantize(INDEX_PLACES)
    current = state.last_index + advance
    rollover = current >= dial.wrap > state.last_index
    if rollover:
        current -= dial.wrap
    return Estimate(
        previous_index=state.last_index,
        current_index=current,
        consumption=advance * dial.multiplier,
        rollover=rollover,
        days=days,
        no_history=no_history,
    )


def _reading_of(
    *,
    state: MeterState,
    estimate: Estimate,
    multiplier: Decimal,
    cycle: str,
    read_on: datetime.date,
    user_id: int | None,
    note: str,
) -> Reading:
    assert state.installation is not None
    return Reading(
        operator_id=state.operator_id,
        connection_id=state.connection_id,
        installation=state.installation,
        register=state.register,
        cycle=cycle,
        read_on=read_on,
        previous_index=estimate.previous_index,
        current_index=estimate.current_index,
        consumption=estimate.consumption,
        multiplier=multiplier,
        rollover=estimate.rollover,
        source=Reading.Source.ESTIMATED,
        status=Reading.Status.ACCEPTED,
        note=note,
        created_by_id=user_id,
    )


def _note(estimate: Estimate, note: str) -> str:
    if estimate.no_history:
        flag = _("Estimated at 0: this connection has no history of consumption yet.")
        note = f"{flag} {note}".strip()
    return note[:500]


def _locked_state(*, connection_id: int, register: str) -> MeterState:
    state = (
        MeterState.objects.select_for_update(of=("self",))
        .select_related("installation__meter__meter_model")
        .filter(connection_id=connection_id, register=register)
        .first()
    )
    if state is None or state.installation is None:
        raise MeteringError(_("This connection has no meter installed for that register."), code="no_meter")
    return state


def _check_date(state: MeterState, read_on: datetime.date) -> None:
    if read_on < state.last_read_on:
        raise MeteringError(
            _("This connection was last read on %(day)s: a later reading was counted, so nothing is missing before.")
            % {"day": state.last_read_on},
            code="later_reading_counted",
            fields={"read_on": [_("On or after %(day)s.") % {"day": state.last_read_on}]},
        )


def estimate_record(
    *,
    state: MeterState,
    cycle: str,
    read_on: datetime.date,
    acting_user: Any,
    note: str = "",
    supersedes: Reading | None = None,
    history_size: int = HISTORY,
) -> tuple[Reading, Estimate]:
    """Write one estimate on a locked state and move the state on (inside the caller's transaction)."""
    _check_date(state, read_on)
    multipliers = multipliers_of([state])
    estimate = estimate_for(state=state, read_on=read_on, multipliers=multipliers)
    reading = _reading_of(
        state=state,
        estimate=estimate,
        multiplier=dial_of(state, multipliers).multiplier,
        cycle=cycle,
        read_on=read_on,
        user_id=getattr(acting_user, "pk", None),
        note=_note(estimate, note),
    )
    reading.supersedes = supersedes
    if supersedes is not None:
        reading.reader_id, reading.reader_code = supersedes.reader_id, supersedes.reader_code
    reading.save()
    state_advance(state, reading, history_size=history_size)
    state.save(update_fields=["last_index", "last_read_on", "last_cycle", "last_estimated", "last_actual_index"])
    return reading, estimate


def _cycle_read_on(cycle: str, today: datetime.date) -> datetime.date:
    first, last = cycle_bounds(cycle)
    if first > today:
        raise MeteringError(
            _("The cycle %(cycle)s has not started: nothing can be estimated yet.") % {"cycle": cycle},
            code="cycle_in_future",
            fields={"cycle": [_("A cycle that has started.")]},
        )
    return min(last, today)


def _cycle_valid(cycle: str) -> None:
    try:
        cycle_bounds(cycle)
    except ValueError:
        raise MeteringError(
            _("Write the cycle as a month: YYYY-MM."), code="cycle_invalid", fields={"cycle": [_("YYYY-MM.")]}
        ) from None


@transaction.atomic
def estimate(
    *,
    connection: Connection,
    cycle: str,
    read_on: datetime.date | None = None,
    acting_user: Any,
    register: str = "main",
    note: str = "",
) -> Reading:
    """Estimate one connection's register for a cycle, dated `read_on` (default: the cycle's last day, or today)."""
    _cycle_valid(cycle)
    read_on = read_on or _cycle_read_on(cycle, timezone.localdate())
    state = _locked_state(connection_id=connection.pk, register=register)
    _thresholds, settings = thresholds_of(connection.operator)
    reading, _estimate = estimate_record(
        state=state,
        cycle=cycle,
        read_on=read_on,
        acting_user=acting_user,
        note=note,
        history_size=settings.history_readings or HISTORY,
    )
    audit_record(
        actor=acting_user,
        action="reading.estimated",
        target=reading,
        after={"cycle": cycle, "index": reading.current_index, "consumption": reading.consumption},
    )
    return reading


@dataclasses.dataclass
class EstimatesMade:
    cycle: str
    estimated: int = 0  # connections with no accepted reading in the cycle
    reader_codes: int = 0  # readings not read (reader's code) replaced by an estimate
    no_history: list[str] = dataclasses.field(default_factory=list)  # connection numbers estimated at 0
    skipped: int = 0  # read later than the estimate's date, or a meter installed after it


def _chunks(values: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def estimates_make(*, operator: Any, cycle: str, acting_user: Any) -> EstimatesMade:
    """Estimate every metered, active connection with a meter and no accepted reading in the cycle, dated the cycle's
    last day (today while it runs), and the readings of the cycle not read (reader's code) waiting for review, dated
    the day of the visit (they are superseded). Connections with another reading waiting for review in the cycle are
    left for staff. One transaction per chunk of connections: run it again after a stop, it estimates the rest."""
    _cycle_valid(cycle)
    read_on = _cycle_read_on(cycle, timezone.localdate())
    made = EstimatesMade(cycle=cycle)
    codes = list(
        Reading.objects.filter(
            operator=operator, cycle=cycle, status=Reading.Status.REVIEW, anomaly=Reading.Anomaly.READER_CODE
        )
        .order_by("connection_id", "register", "read_on", "pk")
        .values_list("pk", flat=True)
    )
    for chunk in _chunks(codes):
        _reader_codes_estimate(operator=operator, reading_ids=chunk, acting_user=acting_user, made=made)
    counted = Reading.objects.filter(
        connection_id=OuterRef("connection_id"),
        register=OuterRef("register"),
        cycle=cycle,
        status=Reading.Status.ACCEPTED,
    ).exclude(source=Reading.Source.REMOVAL)
    waiting = Reading.objects.filter(connection_id=OuterRef("connection_id"), cycle=cycle, status=Reading.Status.REVIEW)
    missing = list(
        MeterState.objects.filter(
            operator=operator,
            installation__isnull=False,
            connection__metered=True,
            connection__status=Connection.Status.ACTIVE,
        )
        .filter(~Q(Exists(counted)), ~Q(Exists(waiting)))
        .order_by("connection_id", "register")
        .values_list("pk", flat=True)
    )
    for chunk in _chunks(missing):
        _states_estimate(
            operator=operator, state_ids=chunk, cycle=cycle, read_on=read_on, acting_user=acting_user, made=made
        )
    return made


@transaction.atomic
def _reader_codes_estimate(*, operator: Any, reading_ids: list[int], acting_user: Any, made: EstimatesMade) -> None:
    _thresholds, settings = thresholds_of(operator)
    readings = list(
        Reading.objects.select_for_update()
        .filter(pk__in=reading_ids, status=Reading.Status.REVIEW)
        .order_by("connection_id", "register", "read_on", "pk")
    )
    for reading in readings:
        state = (
            MeterState.objects.select_for_update(of=("self",))
            .select_related("installation__meter__meter_model", "connection")
            .filter(connection_id=reading.connection_id, register=reading.register)
            .first()
        )
        if state is None or state.installation_id != reading.installation_id or reading.read_on < state.last_read_on:
            made.skipped += 1
            continue
        estimated, estimate = estimate_record(
            state=state,
            cycle=reading.cycle,
            read_on=reading.read_on,
            acting_user=acting_user,
            supersedes=reading,
            history_size=settings.history_readings or HISTORY,
        )
        reading.status = Reading.Status.SUPERSEDED
        reading.reviewed_by = acting_user if getattr(acting_user, "pk", None) else None
        reading.reviewed_at = timezone.now()
        reading.review_note = _("Estimated (not read).")
        reading.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
        audit_record(
            actor=acting_user,
            action="reading.estimated",
            target=estimated,
            detail={"supersedes": reading.pk, "reader_code": reading.reader_code},
        )
        made.reader_codes += 1
        if estimate.no_history:
            made.no_history.append(state.connection.number)


@transaction.atomic
def _states_estimate(
    *,
    operator: Any,
    state_ids: list[int],
    cycle: str,
    read_on: datetime.date,
    acting_user: Any,
    made: EstimatesMade,
) -> None:
    _thresholds, settings = thresholds_of(operator)
    counted = Reading.objects.filter(
        connection_id=OuterRef("connection_id"),
        register=OuterRef("register"),
        cycle=cycle,
        status=Reading.Status.ACCEPTED,
    ).exclude(source=Reading.Source.REMOVAL)
    # Locked in primary-key order, and checked again under the lock: a reading recorded meanwhile wins.
    states = list(
        MeterState.objects.select_for_update(of=("self",))
        .select_related("installation__meter__meter_model", "connection")
        .filter(pk__in=state_ids, installation__isnull=False)
        .filter(~Q(Exists(counted)))
        .order_by("pk")
    )
    multipliers = multipliers_of(states)
    user_id = getattr(acting_user, "pk", None)
    readings: list[Reading] = []
    advanced: list[MeterState] = []
    for state in states:
        assert state.installation is not None
        if read_on < state.last_read_on or read_on < state.installation.installed_on:
            made.skipped += 1
            continue
        estimate = estimate_for(state=state, read_on=read_on, multipliers=multipliers)
        reading = _reading_of(
            state=state,
            estimate=estimate,
            multiplier=dial_of(state, multipliers).multiplier,
            cycle=cycle,
            read_on=read_on,
            user_id=user_id,
            note=_note(estimate, ""),
        )
        readings.append(reading)
        state_advance(state, reading, history_size=settings.history_readings or HISTORY)
        advanced.append(state)
        if estimate.no_history:
            made.no_history.append(state.connection.number)
    Reading.objects.bulk_create(readings, batch_size=1000)
    MeterState.objects.bulk_update(
        advanced,
        ["last_index", "last_read_on", "last_cycle", "last_estimated", "last_actual_index"],
        batch_size=500,
    )
    if readings:
        audit_record_many(
            actor=acting_user,
            action="reading.estimated",
            targets=list(readings),
            after=[{"cycle": cycle, "index": r.current_index, "consumption": r.consumption} for r in readings],
        )
    made.estimated += len(readings)
