"""The demo's year of monthly readings: each connection consumes at its own rate (by utility and property type, with
some noise), its reader reads it on its route's day of the month, and each month's readings of an operator go
through readings_record in one call. A few meters are swapped mid-month, a few roll over, and the last month leaves
a few anomalies in the review queue (zero, high, backwards) and a few meters not read (no access), for the review
demo to estimate."""

import dataclasses
import datetime
import random
from collections import Counter, defaultdict
from decimal import ROUND_DOWN, Decimal
from typing import Any

from mita.customers.models import Connection
from mita.metering.installation_actions import installation_replace
from mita.metering.models import Installation, Meter, Reading, Register
from mita.metering.readings import ReadingInput, readings_record

# Daily consumption (units a day) by utility and property type: the range a connection's own rate is drawn from.
DAILY: dict[str, dict[str, tuple[float, float]]] = {
    Connection.Utility.WATER: {
        Connection.PropertyType.RESIDENTIAL: (0.15, 0.6),
        Connection.PropertyType.COMMERCIAL: (0.8, 3.0),
        Connection.PropertyType.INSTITUTIONAL: (1.5, 5.0),
        Connection.PropertyType.PUBLIC_TAP: (2.0, 6.0),
    },
    Connection.Utility.ELECTRICITY: {
        Connection.PropertyType.RESIDENTIAL: (1.0, 4.0),
        Connection.PropertyType.COMMERCIAL: (5.0, 20.0),
        Connection.PropertyType.INSTITUTIONAL: (8.0, 30.0),
    },
}
SKIPPED_REGISTERS = {"demand"}  # a maximum demand is not an index that adds up: not read here
SECOND_REGISTER_SHARE = Decimal("0.3")  # reactive energy, as a share of the active


@dataclasses.dataclass
class Plan:
    operator: Any
    fitted: list[Any]  # demo_installations.Fitted
    spares: list[Meter]
    months: list[datetime.date]
    reader: Any
    technician: Any


@dataclasses.dataclass
class Track:
    """One connection as the demo simulates it: its true indexes (without the dial's wrap) and what the meter state
    holds (the last index counted)."""

    connection: Connection
    meter: Meter
    registers: list[tuple[str, Decimal]]  # (code, multiplier) of the registers read
    rate: Decimal  # consumption a day (units, after the multiplier) of the first register
    true: list[Decimal]
    counted: list[Decimal]
    since: datetime.date
    read_day: int
    rollover: bool

    @property
    def wrap(self) -> Decimal:
        return Decimal(10) ** self.meter.meter_model.dial_digits

    @property
    def unit(self) -> Decimal:
        return Decimal(1) if self.connection.utility == Connection.Utility.WATER else Decimal("0.1")

    def moved(self) -> None:
        """A register whose dial shows what was counted last (a few days after a swap, a tiny rate) moves one unit:
        only the planted zeros may be zero."""
        for position in range(len(self.registers)):
            if self.shown(position) == self.counted[position]:
                self.true[position] += self.unit

    def shown(self, register: int) -> Decimal:
        """What the dial shows: the true index through the wrap, to the reader's unit."""
        return (self.true[register] % self.wrap).quantize(self.unit, rounding=ROUND_DOWN)

    def advance(self, day: datetime.date, rng: random.Random) -> None:
        days = max((day - self.since).days, 0)
        noise = Decimal(str(round(rng.uniform(0.8, 1.25), 3)))
        for position, (_code, multiplier) in enumerate(self.registers):
            share = Decimal(1) if position == 0 else SECOND_REGISTER_SHARE
            self.true[position] += self.rate * share * noise * days / multiplier
        self.since = day

    def restart(self, meter: Meter, registers: list[tuple[str, Decimal]], initial: Decimal, day: datetime.date) -> None:
        self.meter, self.registers = meter, registers
        self.true = [initial for _register in registers]
        self.counted = list(self.true)
        self.since = day


def _registers(meter_model_ids: set[int]) -> dict[int, list[tuple[str, Decimal]]]:
    registers: dict[int, list[tuple[str, Decimal]]] = defaultdict(list)
    for model_id, code, multiplier in (
        Register.objects.filter(meter_model_id__in=meter_model_ids)
        .order_by("position", "code")
        .values_list("meter_model_id", "code", "multiplier")
    ):
        if code not in SKIPPED_REGISTERS:
            registers[model_id].append((code, multiplier))
    return registers


def _rate(connection: Connection, rng: random.Random) -> Decimal:
    ranges = DAILY.get(connection.utility, DAILY[Connection.Utility.WATER])
    low, high = ranges.get(connection.property_type, next(iter(ranges.values())))
    return Decimal(str(round(rng.uniform(low, high), 3)))


def _tracks(plan: Plan, registers: dict[int, list[tuple[str, Decimal]]], rng: random.Random) -> list[Track]:
    tracks = []
    for item in plan.fitted:
        codes = registers.get(item.meter.meter_model_id) or [("main", Decimal(1))]
        tracks.append(
            Track(
                connection=item.connection,
                meter=item.meter,
                registers=codes,
                rate=_rate(item.connection, rng),
                true=[item.initial_index for _code in codes],  # one initial index for every register
                counted=[],
                since=item.installed_on,
                read_day=18 + (item.connection.route_id or 4) % 8,  # a route is read on its own day
                rollover=item.rollover,
            )
        )
        tracks[-1].counted = list(tracks[-1].true)
    return tracks


def _swap(track: Track, spare: Meter, day: datetime.date, plan: Plan, registers: Any, rng: random.Random) -> None:
    """Replace the track's meter mid-month with a spare, its final index as the dial shows it that day."""
    track.advance(day, rng)
    final = track.shown(0)
    initial = Decimal(rng.randrange(0, 20))
    assert spare.store is not None  # a meter in store
    installation_replace(
        connection=track.connection,
        serial=spare.serial,
        brand=spare.brand,
        replaced_on=day,
        final_index=final,
        initial_index=initial,
        reason=rng.choice([Installation.RemovalReason.FAULTY, Installation.RemovalReason.CALIBRATION]),
        to_store=spare.store,
        acting_user=plan.technician,
    )
    track.restart(spare, registers.get(spare.meter_model_id) or [("main", Decimal(1))], initial, day)


def _special_row(kind: str, track: Track, row: ReadingInput, rng: random.Random) -> ReadingInput:
    """The last month's planted problems (a wrong index on the first register)."""
    counted = track.counted[0]
    if kind == "no_access":
        return row._replace(current_index=None, reader_code=rng.choice(["no_access"] * 3 + ["dog", "locked"]))
    if kind == "zero":  # the customer was away: the dial did not move
        return row._replace(current_index=counted)
    if kind == "high":  # a digit too many, or a leak: eight months' worth
        assert row.current_index is not None
        return row._replace(current_index=counted + (row.current_index - counted) * 8 + 20 * track.unit)
    # "backwards": two digits swapped, below the last index
    return row._replace(current_index=max(counted - max(counted / 10, 3 * track.unit), Decimal(0)).quantize(track.unit))


def _plan_problems(tracks: list[Track], rng: random.Random, *, swaps: int) -> tuple[list[Track], dict[int, str]]:
    """Which connections get a swap during the year, and which a planted problem in the last month."""
    plain = [track for track in tracks if not track.rollover]
    rng.shuffle(plain)
    swapped = plain[:swaps]
    few = max(1, len(tracks) // 250)
    kinds = ["zero"] * few + ["high"] * few + ["backwards"] * few + ["no_access"] * max(2, len(tracks) // 100)
    return swapped, {track.connection.pk: kind for track, kind in zip(plain[swaps:], kinds, strict=False)}


Row = tuple[ReadingInput, bool]  # a row for readings_record, and whether a problem was planted in it


def _month_rows(
    tracks: list[Track], first: datetime.date, *, kinds: dict[int, str], reader_id: int | None, rng: random.Random
) -> list[Row]:
    """Each track read on its route's day of the month: a row per register, the planted problems in place."""
    rows = []
    for track in tracks:
        day = first.replace(day=track.read_day)
        track.advance(day, rng)
        track.moved()
        kind = kinds.get(track.connection.pk)
        for position, (code, _multiplier) in enumerate(track.registers):
            row = ReadingInput(
                connection_id=track.connection.pk,
                current_index=track.shown(position),
                read_on=day,
                register=code,
                reader_id=reader_id,
            )
            planted = kind == "no_access" or (bool(kind) and position == 0)  # not read, or a wrong first index
            if planted:
                row = _special_row(kind or "", track, row, rng)
            else:
                track.counted[position] = track.shown(position)  # a plausible reading: counted
            rows.append((row, planted))
    return rows


def _record(plan: Plan, rows: list[Row], outcomes: Counter[str]) -> None:
    """One readings_record call; counts what was refused, and what waits for review though nothing was planted."""
    if not rows:
        return
    results = readings_record(
        operator=plan.operator,
        rows=[row for row, _planted in rows],
        source=Reading.Source.MANUAL,
        acting_user=plan.reader,
    )
    for (_row, planted), result in zip(rows, results, strict=True):
        if not result.ok:
            outcomes[f"refused {result.code}"] += 1
        elif result.reading is not None and result.reading.status != Reading.Status.ACCEPTED:
            outcomes["planted" if planted else f"unplanned {result.reading.anomaly}"] += 1


def readings_year(plan: Plan, *, rng: random.Random, swaps: int) -> str:
    """A reading a month of every fitted connection for the plan's months; returns what it did, in words.

    readings_record checks several months of a connection in one batch, each against the last (as for a file), so
    the connections without a swap have their whole year in one call; those with a swap have a small call a month,
    their meter replaced between two."""
    registers = _registers(
        {item.meter.meter_model_id for item in plan.fitted} | {m.meter_model_id for m in plan.spares}
    )
    tracks = _tracks(plan, registers, rng)
    swapped, problems = _plan_problems(tracks, rng, swaps=swaps)
    spares: dict[str, list[Meter]] = {
        utility: [m for m in plan.spares if m.meter_model.utility == utility] for utility in DAILY
    }
    swap_months: dict[int, list[tuple[Track, Meter, int]]] = defaultdict(list)
    for track in swapped:
        if spares.get(track.connection.utility):
            month = rng.randrange(2, max(len(plan.months) - 1, 3))
            swap_months[month].append((track, spares[track.connection.utility].pop(), rng.randrange(3, 11)))
    swapping = [track for swaps_of_month in swap_months.values() for track, _spare, _day in swaps_of_month]
    steady = [track for track in tracks if track not in swapping]
    reader_id = plan.reader.pk if plan.reader is not None else None
    outcomes: Counter[str] = Counter()
    year: list[Row] = []
    last = len(plan.months) - 1
    for month, first in enumerate(plan.months):
        for track, spare, day in swap_months.get(month, []):
            _swap(track, spare, first.replace(day=day), plan, registers, rng)
        kinds = problems if month == last else {}
        _record(plan, _month_rows(swapping, first, kinds=kinds, reader_id=reader_id, rng=rng), outcomes)
        year += _month_rows(steady, first, kinds=kinds, reader_id=reader_id, rng=rng)
    _record(plan, year, outcomes)
    rolled = Reading.objects.filter(operator=plan.operator, rollover=True).count()
    review = Counter(
        Reading.objects.filter(operator=plan.operator, status=Reading.Status.REVIEW).values_list("anomaly", flat=True)
    )
    problems_left = {key: count for key, count in outcomes.items() if key != "planted"}
    return (
        f"{len(plan.months)} months of readings, {len(swapping)} meters swapped, {rolled} rollovers, "
        f"waiting for review: {dict(sorted(review.items()))}"
        + (f"; NOT AS PLANNED: {problems_left}" if problems_left else "")
    )
