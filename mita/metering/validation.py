"""The checks a reading goes through, as one pure function (no ORM): what it consumed, through a rollover when the
dial makes that plausible, and which anomaly, if any, sends it to the review queue (docs/metering.md, "Checks").

Used row by row by every way a reading arrives (a page, the field app, a file of 100,000 rows, smart meters), so it
takes plain values and returns plain values.
"""

import dataclasses
import datetime
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
UNIT = Decimal("0.001")


@dataclasses.dataclass(frozen=True)
class Thresholds:
    high_factor: Decimal = Decimal("3")
    low_factor: Decimal = Decimal("0.3")
    min_units: Decimal = Decimal("5")
    rollover_share: Decimal = Decimal("0.1")
    zero_is_anomaly: bool = True


@dataclasses.dataclass(frozen=True)
class Dial:
    digits: int
    reversible: bool = False
    multiplier: Decimal = Decimal(1)

    @property
    def wrap(self) -> Decimal:
        return Decimal(10) ** self.digits


@dataclasses.dataclass(frozen=True)
class Check:
    consumption: Decimal  # units after the multiplier; 0 for a reading that goes backwards
    rollover: bool = False
    true_up: bool = False
    anomaly: str = ""  # a Reading.Anomaly value, "" when the reading is plausible


def reading_check(
    *,
    previous: Decimal,
    current: Decimal,
    dial: Dial,
    thresholds: Thresholds = Thresholds(),
    last_actual: Decimal | None = None,
    average_daily: Decimal | None = None,
    days: int = 30,
    active: bool = True,
    in_window: bool = True,
) -> Check:
    """Check one reading against the one before it.

    - `current >= previous`: consumption = (current - previous) x multiplier.
    - `current < previous`: when the advance through the wrap (current + 10^digits - previous) is at most
      `rollover_share` of the dial, the dial rolled over and consumption is that advance x multiplier; otherwise a
      reversible meter ran backwards (REVERSED) and any other meter reads below its previous index (BACKWARDS); both
      count 0 until reviewed, so a reading never makes a negative bill.
    - after estimates (`last_actual` given): the meter's advance from the last actual index (through the wrap as
      above) less what the estimates counted: the reading trues them up, negative when they overshot, and the
      stretch's total is exactly actual - actual. Only the window is checked.
    - then, for a plausible advance: ZERO on an active connection (operator setting), HIGH / LOW against the
      connection's own average daily consumption x days (differences under `min_units` ignored), OUT_OF_CYCLE when
      read outside the cycle's window.
    """
    if current < 0:
        raise ValueError("An index is never negative.")
    if last_actual is not None:
        # After estimates the meter's own advance counts from the last actual index; what the estimates counted is
        # taken back, so that the stretch's total is exactly actual - actual (negative when they overshot).
        actual = _advance(last_actual, current, dial, thresholds)
        if actual is None:
            return Check(consumption=ZERO, anomaly="reversed" if dial.reversible else "backwards")
        estimated = previous - last_actual
        if estimated < 0:  # the estimates went through the wrap
            estimated += dial.wrap
        consumption = units((actual[0] - estimated) * dial.multiplier)
        return Check(
            consumption=consumption,
            rollover=actual[1],
            true_up=consumption < 0,  # flagged when it gives back what the estimates overshot
            anomaly="" if in_window else "out_of_cycle",
        )
    advanced = _advance(previous, current, dial, thresholds)
    if advanced is None:
        return Check(consumption=ZERO, anomaly="reversed" if dial.reversible else "backwards")
    advance, rollover = advanced
    consumption = units(advance * dial.multiplier)
    anomaly = ""
    if consumption == 0:
        if active and thresholds.zero_is_anomaly:
            anomaly = "zero"
    elif average_daily is not None and average_daily > 0:
        expected = average_daily * days
        if consumption > expected * thresholds.high_factor and consumption - expected >= thresholds.min_units:
            anomaly = "high"
        elif consumption < expected * thresholds.low_factor and expected - consumption >= thresholds.min_units:
            anomaly = "low"
    if not anomaly and not in_window:
        anomaly = "out_of_cycle"
    return Check(consumption=consumption, rollover=rollover, anomaly=anomaly)


def units(quantity: Decimal) -> Decimal:
    """Consumption as stored: to the thousandth of a unit (a litre of water, a watt-hour)."""
    return quantity.quantize(UNIT, rounding=ROUND_HALF_UP)


def _advance(previous: Decimal, current: Decimal, dial: Dial, thresholds: Thresholds) -> tuple[Decimal, bool] | None:
    """How far the dial moved from `previous` to `current`: (units, rolled over), or None when it went backwards."""
    if current >= previous:
        return current - previous, False
    through_wrap = current + dial.wrap - previous
    if previous < dial.wrap and through_wrap <= dial.wrap * thresholds.rollover_share:
        return through_wrap, True
    return None


def cycle_of(day: datetime.date) -> str:
    """The cycle a reading taken on `day` belongs to when none is named: its month, "2026-10"."""
    return f"{day.year:04d}-{day.month:02d}"


def cycle_bounds(cycle: str) -> tuple[datetime.date, datetime.date]:
    """First and last day of a monthly cycle "YYYY-MM"; ValueError for anything else."""
    try:
        year, month = (int(part) for part in cycle.split("-"))
        first = datetime.date(year, month, 1)
    except ValueError:
        raise ValueError(f"A cycle is a month written YYYY-MM, not {cycle!r}.") from None
    if len(cycle) != 7:
        raise ValueError(f"A cycle is a month written YYYY-MM, not {cycle!r}.")
    following = datetime.date(year + (month == 12), month % 12 + 1, 1)
    return first, following - datetime.timedelta(days=1)


def in_reading_window(day: datetime.date, cycle: str, *, days_before: int, days_after: int) -> bool:
    first, last = cycle_bounds(cycle)
    return first - datetime.timedelta(days=days_before) <= day <= last + datetime.timedelta(days=days_after)
