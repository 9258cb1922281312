"""Recording readings: one set-based path for every way they arrive (a page, the field app, a file, smart meters).

`readings_record` takes any number of rows, checks each against where its connection's register stands
(`MeterState`), writes the readings with one bulk insert and moves the states on, all in one transaction. Keys make
it idempotent: a row whose key was recorded before with the same body is a replay and returns the first reading; the
same key with another body is refused (`key_reused`). Implausible readings are stored with status REVIEW and count
for nothing until staff decide (docs/metering.md).
"""

import datetime
import hashlib
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import transaction
from django.db.models import QuerySet, Sum, TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from mita.core.bulk import among, attnames_of, id_span, instance_of
from mita.metering.models import Installation, MeteringSettings, MeterModel, MeterState, Reading, Register
from mita.metering.reading_writes import readings_insert, states_save
from mita.metering.validation import Dial, Thresholds, cycle_bounds, cycle_of, reading_check

CHUNK = 2000
# The register a bill prices: water meters' "main" (m3), electricity meters' "active" energy (kWh); reactive energy and
# demand registers are read and kept, not billed (docs/metering.md).
BILLED_REGISTERS = ("main", "active")
HISTORY = 6  # readings kept in MeterState.history by default (MeteringSettings.history_readings)


class ReadingInput(NamedTuple):
    """One reading to record. A named tuple, not a frozen dataclass: a file of 100,000 rows makes 100,000 of them, and
    a frozen dataclass's __init__ (one object.__setattr__ per field) cost four times as much."""

    connection_id: int
    current_index: Decimal | None  # None: not read, with a reader's code
    read_on: datetime.date
    register: str = "main"
    cycle: str = ""  # "" = the month of read_on
    reader_code: str = ""
    key: str = ""
    read_at: datetime.datetime | None = None
    reader_id: int | None = None
    meter_id: int | None = None  # when given, the meter the reader saw: it must be the one installed
    note: str = ""
    # When given, the installation the caller checked the row against (a file's check): when it is no longer the one
    # on the connection, the row is refused (`installation_changed`, nothing written) for the caller to check again.
    installation_id: int | None = None

    def digest(self) -> str:
        index = "" if self.current_index is None else format(self.current_index.normalize(), "f")
        body = "|".join(
            [str(self.connection_id), self.register, index, self.read_on.isoformat(), self.cycle, self.reader_code]
        )
        return hashlib.sha256(body.encode()).hexdigest()


class RowResult(NamedTuple):
    """What became of one row. A named tuple, as ReadingInput: one is made for every row recorded."""

    outcome: str  # "created", "replayed" or "refused"
    reading: Reading | None = None
    code: str = ""
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome != "refused"


def thresholds_of(operator: Any) -> tuple[Thresholds, MeteringSettings]:
    settings = MeteringSettings.objects.filter(operator=operator).first() or MeteringSettings(operator=operator)
    thresholds = Thresholds(
        high_factor=settings.high_factor,
        low_factor=settings.low_factor,
        min_units=settings.min_units,
        rollover_share=settings.rollover_share,
        zero_is_anomaly=settings.zero_is_anomaly,
    )
    return thresholds, settings


def average_daily(history: list[list[str]], minimum: int = 3) -> Decimal | None:
    """The connection's own average daily consumption over its recent readings; None with fewer than `minimum`."""
    if len(history) < minimum:
        return None
    days, total = 0, Decimal(0)
    for stretch, consumption in history:  # one pass, the same sum in the same order
        days += int(stretch)
        total += Decimal(consumption)
    if days <= 0:
        return None
    return total / days


def _refused(code: str, message: str) -> RowResult:
    return RowResult("refused", code=code, message=message)


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def readings_keyed(operator: Any) -> QuerySet[Reading]:
    """The operator's readings that have a key, to look keys up among (`among(readings_keyed(o), "key", keys)`).
    "Have a key" says what reading_unique_key covers, which PostgreSQL and SQLite cannot prove from a list of more
    than 100 keys: without it they read every reading of the operator's, once per look-up. No ordering: Reading's
    default one joins the operator and the connection to sort by their names."""
    return Reading.objects.filter(operator=operator).exclude(key="").order_by()


def _known_keys(operator: Any, keys: list[str]) -> dict[str, Reading]:
    known: dict[str, Reading] = {}
    names = attnames_of(Reading)
    mine = readings_keyed(operator)
    for readings in among(mine, "key", keys):
        for row in readings.values_list(*names):
            reading = instance_of(Reading, dict(zip(names, row, strict=True)), db=mine.db)
            known[reading.key] = reading
    return known


# Not read with the meter states: the installation's timestamp, which no check needs (a tz-aware timestamp costs
# microseconds a row to load); deferred, it loads when first read.
_LEFT_OUT = ("created_at",)


def _states(
    operator: Any, connection_ids: list[int]
) -> tuple[dict[tuple[int, str], MeterState], dict[int, int], dict[int, MeterModel]]:
    """The registers' states with their installations loaded (so that the readings' `installation` needs no query),
    made from plain rows, one Installation per state; the id of the model of each installation's meter, by the
    installation's id; and those models by id (few: read once, not joined into every row). The meters themselves are
    not loaded: a check needs only their models (a meter loads, with a query, if a caller reads it)."""
    states: dict[tuple[int, str], MeterState] = {}
    state_names = attnames_of(MeterState)
    installation_names = [name for name in attnames_of(Installation) if name not in _LEFT_OUT]
    # The history as its JSON text, parsed for all the states at once below: a json.loads per row cost more than the
    # parsing itself (docs/metering-imports.md, "Eleventh round").
    names = [
        *("history_text" if name == "history" else name for name in state_names),
        *(f"installation__{name}" for name in installation_names),
        "installation__meter__meter_model_id",
    ]
    # Locked in primary-key order, so that two writers on the same connections never deadlock.
    mine = (
        MeterState.objects.select_for_update(of=("self",))
        .filter(operator=operator)
        .annotate(history_text=Cast("history", TextField()))
        .order_by("pk")
    )
    db = mine.db
    model_ids: dict[int, int] = {}  # installation id -> its meter's model id
    state_count = len(state_names)
    # Read by position from the row, not through the foreign keys' descriptors (a Python call each).
    connection_at, register_at = state_names.index("connection_id"), state_names.index("register")
    installation_at = state_names.index("installation_id")
    wanted = sorted(set(connection_ids))
    if wanted:  # the ids' range too: PostgreSQL reads a chunk's states through meter_state_unique, not all of them
        mine = mine.filter(connection_id__gte=wanted[0], connection_id__lte=wanted[-1])
    for rows in among(mine, "connection_id", wanted):
        for row in rows.values_list(*names):
            installation = None
            if row[installation_at] is not None:
                installation = instance_of(
                    Installation, zip(installation_names, row[state_count:-1], strict=True), db=db
                )
                model_ids[row[installation_at]] = row[-1]
            state = instance_of(
                MeterState,
                zip(state_names, row[:state_count], strict=True),
                db=db,
                related={"installation": installation},
            )
            states[(row[connection_at], row[register_at])] = state
    histories = json.loads("[" + ",".join(state.history for state in states.values()) + "]")
    for state, history in zip(states.values(), histories, strict=True):
        state.history = history
    return states, model_ids, MeterModel.objects.in_bulk(set(model_ids.values()))


def multipliers_of(states: Iterable[MeterState]) -> dict[tuple[int, str], Decimal]:
    """(meter model, register) -> multiplier for the meters installed behind these states."""
    model_ids = {s.installation.meter.meter_model_id for s in states if s.installation is not None}
    return _multipliers(model_ids)


def _multipliers(model_ids: Iterable[int]) -> dict[tuple[int, str], Decimal]:
    return {
        (model_id, code): multiplier
        for model_id, code, multiplier in Register.objects.filter(meter_model_id__in=set(model_ids)).values_list(
            "meter_model_id", "code", "multiplier"
        )
    }


def dial_of(state: MeterState, multipliers: dict[tuple[int, str], Decimal]) -> Dial:
    assert state.installation is not None
    return _dial(state.installation.meter.meter_model, state.register, multipliers)


def _dial(meter_model: MeterModel, register: str, multipliers: dict[tuple[int, str], Decimal]) -> Dial:
    return Dial(
        digits=meter_model.dial_digits,
        reversible=meter_model.reversible,
        multiplier=multipliers.get((meter_model.pk, register), Decimal(1)),
    )


def state_advance(
    state: MeterState, reading: Reading, *, history_size: int = HISTORY, record_history: bool = True
) -> None:
    """Move a register's state past an accepted reading (in memory; the caller saves)."""
    assert reading.current_index is not None and reading.consumption is not None
    days = max((reading.read_on - state.last_read_on).days, 0)
    estimated = reading.source == Reading.Source.ESTIMATED
    # The history holds what the meter itself showed over a stretch: an estimate, a removal and a reading that trues
    # estimates up (its consumption is the correction, not the stretch's use) would bend the average.
    if record_history and not estimated and reading.source != Reading.Source.REMOVAL and not state.last_estimated:
        state.history = [*state.history, [days, str(reading.consumption)]][-history_size:]
    state.last_index = reading.current_index
    state.last_read_on = reading.read_on
    state.last_cycle = reading.cycle
    state.last_estimated = estimated
    if not estimated:
        state.last_actual_index = reading.current_index


@transaction.atomic
def readings_record(
    *,
    operator: Any,
    rows: Sequence[ReadingInput],
    source: str,
    acting_user: Any = None,
) -> list[RowResult]:
    """Record readings of the operator's connections; one result per row, in order (see the module's docstring).

    A row is refused (and nothing of it is written) when its connection has no meter installed, its date is before
    the meter was installed or its meter is not the one installed; the other rows are recorded all the same."""
    thresholds, settings = thresholds_of(operator)
    results: list[RowResult | None] = [None] * len(rows)
    known = _known_keys(operator, [row.key for row in rows if row.key])
    states, model_ids, meter_models = _states(operator, [row.connection_id for row in rows])
    multipliers = _multipliers(meter_models)
    user_id = getattr(acting_user, "pk", None)
    fresh: list[tuple[int, Reading]] = []
    new_keys: dict[str, tuple[str, int]] = {}
    touched: dict[tuple[int, str], MeterState] = {}
    operator_id = operator.pk
    # Per batch, not per row: a cycle's reading window and a meter model's register's dial.
    days_before = datetime.timedelta(days=settings.window_days_before)
    days_after = datetime.timedelta(days=settings.window_days_after)
    windows: dict[str, tuple[datetime.date, datetime.date]] = {}
    dials: dict[tuple[int, str], Dial] = {}
    # What Reading(...) would give every field not set here (its defaults), computed once instead of per row.
    reading_defaults = {field.attname: field.get_default() for field in Reading._meta.concrete_fields}
    # Oldest first per register, so that a file holding several months of a connection checks each against the last.
    order = sorted(range(len(rows)), key=lambda i: (rows[i].connection_id, rows[i].register, rows[i].read_on, i))
    for position in order:
        row = rows[position]
        state_key = (row.connection_id, row.register)
        state = states.get(state_key)
        # The foreign key's id read from the state's values, not through its descriptor: a Python call each time.
        installation_id = None if state is None else vars(state)["installation_id"]
        if row.installation_id is not None and installation_id != row.installation_id:
            results[position] = _refused(
                "installation_changed", _("The meter on this connection changed since the row was checked.")
            )
            continue
        digest = row.digest()
        if row.key:
            first = known.get(row.key)
            if first is not None:
                results[position] = (
                    RowResult("replayed", reading=first)
                    if first.body_digest == digest
                    else _refused("key_reused", _("This key was already used for a different reading."))
                )
                continue
            if row.key in new_keys:
                first_digest, first_position = new_keys[row.key]
                results[position] = (
                    RowResult("replayed", reading=None, code=str(first_position))
                    if first_digest == digest
                    else _refused("key_reused", _("This key was already used for a different reading."))
                )
                continue
        if state is None or installation_id is None:
            results[position] = _refused("no_meter", _("This connection has no meter installed for that register."))
            continue
        installation = state.installation
        assert installation is not None
        if row.meter_id is not None and installation.meter_id != row.meter_id:
            results[position] = _refused("meter_mismatch", _("That meter is not the one installed on this connection."))
            continue
        if row.read_on < installation.installed_on:
            results[position] = _refused(
                "before_installation", _("The meter was installed after this date: check the date of the reading.")
            )
            continue
        cycle = row.cycle or cycle_of(row.read_on)
        if cycle not in windows:
            try:
                first_day, last_day = cycle_bounds(cycle)
            except ValueError:
                results[position] = _refused("cycle_invalid", _("Write the cycle as a month: YYYY-MM."))
                continue
            windows[cycle] = (first_day - days_before, last_day + days_after)
        window = windows[cycle]
        if row.current_index is not None and row.current_index < 0:
            results[position] = _refused("index_negative", _("An index is never negative."))
            continue
        reading = instance_of(
            Reading,
            {
                **reading_defaults,
                "operator_id": operator_id,
                "connection_id": row.connection_id,
                "installation_id": installation_id,
                "register": row.register,
                "cycle": cycle,
                "read_on": row.read_on,
                "read_at": row.read_at,
                "previous_index": state.last_index,
                "current_index": row.current_index,
                "source": source,
                "reader_code": row.reader_code,
                "reader_id": row.reader_id,
                "note": row.note,
                "key": row.key,
                "body_digest": digest if row.key else "",
                "created_by_id": user_id,
            },
            related={"installation": installation},  # as Reading(installation=...)
        )
        dial_key = (model_ids[installation_id], row.register)
        dial = dials.get(dial_key) or dials.setdefault(
            dial_key, _dial(meter_models[dial_key[0]], row.register, multipliers)
        )
        reading.multiplier = dial.multiplier
        # Smart meters push several readings a cycle: those after the cycle's first are intervals, checked only for
        # going backwards and kept out of the average (docs/metering.md). Any other second actual reading of a cycle,
        # or one older than what was counted, waits for staff.
        repeat = cycle == state.last_cycle and not state.last_estimated
        interval = repeat and source == Reading.Source.SMART
        if row.current_index is None:
            reading.status, reading.anomaly = Reading.Status.REVIEW, Reading.Anomaly.READER_CODE
        elif row.read_on < state.last_read_on or (repeat and not interval):
            reading.status, reading.anomaly = Reading.Status.REVIEW, Reading.Anomaly.CONFLICT
        else:
            check = reading_check(
                previous=state.last_index,
                current=row.current_index,
                dial=dial,
                thresholds=thresholds,
                last_actual=state.last_actual_index if state.last_estimated else None,
                average_daily=None if interval else average_daily(state.history),
                days=max((row.read_on - state.last_read_on).days, 1),
                active=not interval,
                in_window=window[0] <= row.read_on <= window[1],
            )
            reading.consumption = check.consumption
            reading.rollover, reading.true_up, reading.anomaly = check.rollover, check.true_up, check.anomaly
            reading.status = Reading.Status.REVIEW if check.anomaly else Reading.Status.ACCEPTED
            if reading.status == Reading.Status.ACCEPTED:
                state_advance(
                    state, reading, history_size=settings.history_readings or HISTORY, record_history=not interval
                )
                touched[state_key] = state
        fresh.append((position, reading))
        if row.key:
            new_keys[row.key] = (digest, position)
    readings_insert([reading for _position, reading in fresh])
    states_save(list(touched.values()))
    for position, reading in fresh:
        results[position] = RowResult("created", reading=reading)
    by_position = dict(fresh)
    final: list[RowResult] = []
    for result in results:
        assert result is not None
        if result.outcome == "replayed" and result.reading is None:  # a repeat inside this batch
            final.append(RowResult("replayed", reading=by_position[int(result.code)]))
        else:
            final.append(result)
    return final


def state_open(*, installation: Installation, registers: Iterable[str]) -> None:
    """Point a connection's register states at a newly installed meter, counting from its initial index; the
    connection's history (its average) carries over from the meter before."""
    for register in registers:
        state, created = MeterState.objects.select_for_update().get_or_create(
            connection_id=installation.connection_id,
            register=register,
            defaults={
                "operator_id": installation.operator_id,
                "installation": installation,
                "last_index": installation.initial_index,
                "last_read_on": installation.installed_on,
                "last_actual_index": installation.initial_index,
            },
        )
        if not created:
            state.installation = installation
            state.last_index = state.last_actual_index = installation.initial_index
            state.last_read_on = installation.installed_on
            state.last_estimated = False
            state.last_cycle = ""  # the new meter's first reading may fall in the cycle of the old one's removal
            state.save(
                update_fields=[
                    "installation",
                    "last_index",
                    "last_actual_index",
                    "last_read_on",
                    "last_estimated",
                    "last_cycle",
                ]
            )


def cycle_consumption(
    *, operator: Any, connection_ids: Iterable[int], cycle: str, registers: Iterable[str] = BILLED_REGISTERS
) -> dict[int, Decimal]:
    """What each connection consumed in a cycle: the sum of its accepted readings of that cycle (across a meter swap,
    the old meter's last stretch and the new meter's first; estimates and their true-ups included), on the register a
    bill prices (BILLED_REGISTERS)."""

    totals: dict[int, Decimal] = {}
    ids = sorted(connection_ids)
    wanted = set(ids)
    for chunk in _chunks(ids):
        rows = (
            Reading.objects.filter(
                id_span("connection_id", list(chunk)),  # a range where the ids are close: only ours are kept
                operator=operator,
                cycle=cycle,
                register__in=list(registers),
                status=Reading.Status.ACCEPTED,
            )
            .order_by()  # Meta.ordering would join every reading's connection and operator (a scan per chunk)
            .values("connection_id")
            .annotate(total=Sum("consumption"))
            .values_list("connection_id", "total")
        )
        totals.update({connection_id: total or Decimal(0) for connection_id, total in rows if connection_id in wanted})
    return totals
