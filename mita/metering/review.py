"""The review queue's decisions on a reading waiting for review: accept, correct, estimate, reject.

Each decision is one transaction, audited, with the reviewer's note. A reading's indexes are never changed: a
correction or an estimate is a new reading that supersedes it. The register's state (MeterState) only moves for a
reading newer than the last one counted, and only from the index it was checked against (docs/metering-review.md).
Sending the same decision again returns the first result; another decision on a reading already decided is a 409.
"""

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.core.audit import audit_record
from mita.core.errors import Conflict
from mita.metering.errors import MeteringError
from mita.metering.estimation import estimate_record
from mita.metering.models import MeterState, Reading
from mita.metering.readings import (
    HISTORY,
    average_daily,
    dial_of,
    multipliers_of,
    state_advance,
    thresholds_of,
)
from mita.metering.validation import cycle_bounds, in_reading_window, reading_check

BACKWARDS = (Reading.Anomaly.BACKWARDS, Reading.Anomaly.REVERSED)
STATE_FIELDS = ["last_index", "last_read_on", "last_cycle", "last_estimated", "last_actual_index", "history"]


def index_parse(value: Any, field: str = "current_index") -> Decimal:
    try:
        index = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise MeteringError(
            _("Write the index as a number."), code="index_invalid", fields={field: [_("A number.")]}
        ) from None
    if not index.is_finite() or index < 0 or index != index.quantize(Decimal("0.001")):
        raise MeteringError(
            _("An index is a number of zero or more, with at most three decimals."),
            code="index_invalid",
            fields={field: [_("Zero or more, at most three decimals.")]},
        )
    return index


def _note_required(note: str, field: str = "note") -> str:
    note = (note or "").strip()
    if not note:
        raise MeteringError(_("Write a note saying why."), code="note_required", fields={field: [_("Say why.")]})
    return note[:500]


def _locked(reading: Reading) -> Reading:
    return Reading.objects.select_for_update(of=("self",)).select_related("connection").get(pk=reading.pk)


def _successor(reading: Reading) -> Reading | None:
    return Reading.objects.filter(supersedes=reading).order_by("pk").first()


def _already_decided(reading: Reading) -> Conflict:
    return Conflict(
        _("This reading was already reviewed (%(status)s): reload the queue.")
        % {"status": reading.get_status_display()},
        code="already_reviewed",
    )


def _locked_state(reading: Reading) -> MeterState:
    """The register's state, locked, if this reading's meter is still the one installed."""
    state = (
        MeterState.objects.select_for_update(of=("self",))
        .select_related("installation__meter__meter_model")
        .filter(connection_id=reading.connection_id, register=reading.register)
        .first()
    )
    if state is None or state.installation_id != reading.installation_id:
        raise MeteringError(
            _("The meter this reading was taken on has been removed since: it can only be rejected."),
            code="meter_removed",
            status=409,
        )
    return state


def _not_older(state: MeterState, read_on: datetime.date) -> None:
    if read_on < state.last_read_on:
        raise MeteringError(
            _(
                "A later reading was counted (%(index)s on %(day)s): correct that one, or reject this one. "
                "Counting this one now would count its consumption twice."
            )
            % {"index": state.last_index, "day": state.last_read_on},
            code="later_reading_counted",
            status=409,
        )


def _reviewed(reading: Reading, *, status: str, note: str, acting_user: Any) -> None:
    reading.status = status
    reading.reviewed_by = acting_user if getattr(acting_user, "pk", None) else None
    reading.reviewed_at = timezone.now()
    reading.review_note = note
    reading.save(update_fields=["status", "consumption", "reviewed_by", "reviewed_at", "review_note"])


def _history_size(operator: Any) -> int:
    _thresholds, settings = thresholds_of(operator)
    return settings.history_readings or HISTORY


@transaction.atomic
def reading_accept(*, reading: Reading, note: str, acting_user: Any) -> Reading:
    """Count a reading as it was recorded. Refused for a reading below the previous index (staff give the corrected
    index instead), for a meter not read, and when the register moved on since the reading was checked."""
    note = _note_required(note)
    reading = _locked(reading)
    if reading.status == Reading.Status.ACCEPTED and reading.reviewed_at is not None:
        return reading  # the same decision sent again
    if reading.status != Reading.Status.REVIEW:
        raise _already_decided(reading)
    if reading.anomaly in BACKWARDS:
        raise MeteringError(
            _(
                "An index below the previous one (%(previous)s) cannot be accepted: it would bill nothing and make the "
                "next reading count the difference again. Correct it with the index the meter shows; if the meter "
                "was replaced or reset, record the replacement and reject this reading."
            )
            % {"previous": reading.previous_index},
            code="accept_backwards",
        )
    if reading.current_index is None:
        raise MeteringError(_("This meter was not read: estimate it, or correct it with the index."), code="not_read")
    state = _locked_state(reading)
    _not_older(state, reading.read_on)
    if state.last_index != reading.previous_index:
        raise MeteringError(
            _(
                "Another reading was counted since this one was checked (the meter now stands at %(index)s): "
                "correct this one, so that it is checked again."
            )
            % {"index": state.last_index},
            code="register_moved",
            status=409,
        )
    if reading.consumption is None:  # a conflict was stored without one: count it against the state it waited on
        thresholds, _settings = thresholds_of(reading.connection.operator)
        check = reading_check(
            previous=state.last_index,
            current=reading.current_index,
            dial=dial_of(state, multipliers_of([state])),
            thresholds=thresholds,
            last_actual=state.last_actual_index if state.last_estimated else None,
        )
        if check.anomaly in BACKWARDS:
            raise MeteringError(
                _("This index is below the last one counted (%(previous)s): correct it.")
                % {"previous": state.last_index},
                code="accept_backwards",
            )
        reading.consumption, reading.rollover, reading.true_up = check.consumption, check.rollover, check.true_up
        reading.save(update_fields=["rollover", "true_up"])
    _reviewed(reading, status=Reading.Status.ACCEPTED, note=note, acting_user=acting_user)
    state_advance(state, reading, history_size=_history_size(reading.connection.operator))
    state.save(update_fields=STATE_FIELDS)
    audit_record(
        actor=acting_user,
        action="reading.accepted",
        target=reading,
        after={"consumption": reading.consumption, "anomaly": reading.anomaly},
        detail={"note": note},
    )
    return reading


@transaction.atomic
def reading_correct(
    *,
    reading: Reading,
    current_index: Any,
    note: str,
    acting_user: Any,
    read_on: datetime.date | None = None,
) -> Reading:
    """Replace a reading waiting for review by a reading with the corrected index (and date): the new reading is
    checked again, but the anomaly the reviewer has just seen does not send it back to review; another one does."""
    note = _note_required(note)
    index = index_parse(current_index)
    reading = _locked(reading)
    if reading.status == Reading.Status.SUPERSEDED:
        successor = _successor(reading)
        if (
            successor is not None
            and successor.source == reading.source
            and successor.current_index == index
            and successor.read_on == (read_on or reading.read_on)
        ):
            return successor  # the same correction sent again
    if reading.status != Reading.Status.REVIEW:
        raise _already_decided(reading)
    read_on = read_on or reading.read_on
    state = _locked_state(reading)
    _not_older(state, read_on)
    if read_on < state.installation.installed_on:  # type: ignore[union-attr]
        raise MeteringError(
            _("The meter was installed after this date: check the date of the reading."),
            code="before_installation",
            fields={"read_on": [_("Too early.")]},
        )
    operator = reading.connection.operator
    thresholds, settings = thresholds_of(operator)
    dial = dial_of(state, multipliers_of([state]))
    check = reading_check(
        previous=state.last_index,
        current=index,
        dial=dial,
        thresholds=thresholds,
        last_actual=state.last_actual_index if state.last_estimated else None,
        average_daily=average_daily(state.history),
        days=max((read_on - state.last_read_on).days, 1),
        active=True,
        in_window=in_reading_window(
            read_on, reading.cycle, days_before=settings.window_days_before, days_after=settings.window_days_after
        ),
    )
    if check.anomaly in BACKWARDS:
        raise MeteringError(
            _("The corrected index is below the last index counted (%(previous)s): check it.")
            % {"previous": state.last_index},
            code="index_backwards",
            fields={"current_index": [_("At least %(previous)s.") % {"previous": state.last_index}]},
        )
    anomaly = check.anomaly
    if state.last_cycle == reading.cycle and not state.last_estimated:
        anomaly = anomaly or Reading.Anomaly.CONFLICT  # the cycle was read and counted since
    if anomaly == reading.anomaly:
        anomaly = ""  # the reviewer has seen it
    accepted = not anomaly
    corrected = Reading.objects.create(
        operator_id=reading.operator_id,
        connection_id=reading.connection_id,
        installation_id=reading.installation_id,
        register=reading.register,
        cycle=reading.cycle,
        read_on=read_on,
        read_at=reading.read_at if read_on == reading.read_on else None,
        previous_index=state.last_index,
        current_index=index,
        consumption=check.consumption,
        multiplier=dial.multiplier,
        rollover=check.rollover,
        true_up=check.true_up,
        source=reading.source,
        status=Reading.Status.ACCEPTED if accepted else Reading.Status.REVIEW,
        anomaly=anomaly,
        reader_id=reading.reader_id,
        photo=reading.photo.name if reading.photo else "",
        note=reading.note,
        supersedes=reading,
        reviewed_by=acting_user if accepted and getattr(acting_user, "pk", None) else None,
        reviewed_at=timezone.now() if accepted else None,
        review_note=note if accepted else "",
        created_by=acting_user if getattr(acting_user, "pk", None) else None,
    )
    _reviewed(reading, status=Reading.Status.SUPERSEDED, note=note, acting_user=acting_user)
    if accepted:
        state_advance(state, corrected, history_size=settings.history_readings or HISTORY)
        state.save(update_fields=STATE_FIELDS)
    audit_record(
        actor=acting_user,
        action="reading.corrected",
        target=reading,
        before={"current_index": reading.current_index, "read_on": reading.read_on, "anomaly": reading.anomaly},
        after={
            "reading": corrected.pk,
            "current_index": index,
            "read_on": read_on,
            "consumption": corrected.consumption,
            "status": corrected.status,
            "anomaly": anomaly,
        },
        detail={"note": note},
    )
    return corrected


@transaction.atomic
def reading_estimate(*, reading: Reading, note: str, acting_user: Any) -> Reading:
    """Replace a reading waiting for review by an estimate dated the same day (average daily consumption x days)."""
    note = _note_required(note)
    reading = _locked(reading)
    if reading.status == Reading.Status.SUPERSEDED:
        successor = _successor(reading)
        if successor is not None and successor.source == Reading.Source.ESTIMATED:
            return successor
    if reading.status != Reading.Status.REVIEW:
        raise _already_decided(reading)
    state = _locked_state(reading)
    _not_older(state, reading.read_on)
    estimated, _estimate = estimate_record(
        state=state,
        cycle=reading.cycle,
        read_on=reading.read_on,
        acting_user=acting_user,
        note=note,
        supersedes=reading,
        history_size=_history_size(reading.connection.operator),
    )
    _reviewed(reading, status=Reading.Status.SUPERSEDED, note=note, acting_user=acting_user)
    audit_record(
        actor=acting_user,
        action="reading.estimated",
        target=reading,
        after={"reading": estimated.pk, "current_index": estimated.current_index, "consumption": estimated.consumption},
        detail={"note": note},
    )
    return estimated


@transaction.atomic
def reading_reject(*, reading: Reading, note: str, acting_user: Any) -> Reading:
    """Set a reading aside: it counts for nothing and the register stays where it is."""
    note = _note_required(note)
    reading = _locked(reading)
    if reading.status == Reading.Status.REJECTED:
        return reading
    if reading.status != Reading.Status.REVIEW:
        raise _already_decided(reading)
    _reviewed(reading, status=Reading.Status.REJECTED, note=note, acting_user=acting_user)
    audit_record(actor=acting_user, action="reading.rejected", target=reading, detail={"note": note})
    return reading


def cycle_check(cycle: str) -> str:
    try:
        cycle_bounds(cycle)
    except ValueError:
        raise MeteringError(
            _("Write the cycle as a month: YYYY-MM."), code="cycle_invalid", fields={"cycle": [_("YYYY-MM.")]}
        ) from None
    return cycle
