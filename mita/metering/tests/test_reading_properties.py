"""Properties of the reading check (metering.validation.reading_check) over any chain of readings Hypothesis makes up:
what the readings count adds up to what the meter really moved, through rollovers and estimates, and never less
than zero except where a true-up gives back what estimates overshot."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from mita.metering.validation import Dial, reading_check

SHARE = Decimal("0.1")  # Thresholds().rollover_share: a dial rolls over by at most a tenth of itself between reads


@st.composite
def chains(draw) -> tuple[Dial, Decimal, list[tuple[str, Decimal]]]:
    """A dial, its first index, and steps: ("read", what the meter moved) or ("estimate", what is estimated)."""
    dial = Dial(digits=draw(st.integers(4, 6)), multiplier=Decimal(draw(st.sampled_from([1, 10, 100]))))
    wrap = dial.wrap
    start = Decimal(draw(st.integers(0, int(wrap) * 1000 - 1))) / 1000
    moves = st.integers(0, int(wrap * SHARE / 2) * 1000).map(lambda thousandths: Decimal(thousandths) / 1000)
    steps = draw(st.lists(st.tuples(st.sampled_from(["read", "estimate"]), moves), min_size=1, max_size=12))
    return dial, start, steps


def _wrapped(index: Decimal, wrap: Decimal) -> Decimal:
    return index % wrap


@settings(max_examples=300)
@given(chains())
def test_what_the_readings_count_is_what_the_meter_moved(chain):
    dial, start, steps = chain
    wrap = dial.wrap
    meter = start  # the dial's true index
    moved = Decimal(0)  # since the start, as the meter moved: at most a tenth of the dial between two actual reads
    previous = last_actual = start  # the index the last reading (actual or estimated) stored, the last actual one
    estimated_since = False
    counted = Decimal(0)
    since_actual = Decimal(0)
    for kind, amount in steps:
        if kind == "estimate":
            if since_actual + amount >= wrap * SHARE / 2:
                continue  # estimates beyond half the share would not leave room for the meter's own advance
            previous = _wrapped(previous + amount, wrap)
            counted += amount * dial.multiplier
            since_actual += amount
            estimated_since = True
            continue
        meter = _wrapped(meter + amount, wrap)
        moved += amount
        check = reading_check(
            previous=previous,
            current=meter,
            dial=dial,
            last_actual=last_actual if estimated_since else None,
            active=False,
        )
        assert check.anomaly == "", (check, previous, meter)
        assert check.consumption >= 0 or check.true_up
        counted += check.consumption
        assert counted == moved * dial.multiplier  # after every actual reading, exactly what the meter moved
        previous = last_actual = meter
        estimated_since = False
        since_actual = Decimal(0)


@settings(max_examples=200)
@given(
    st.integers(4, 6),
    st.booleans(),
    st.integers(0, 999_999),
    st.integers(1, 999_999),
)
def test_a_reading_below_the_last_is_never_a_negative_bill(digits, reversible, previous, back):
    dial = Dial(digits=digits, reversible=reversible)
    previous_index = Decimal(previous % int(dial.wrap))
    current = previous_index - Decimal(back % int(dial.wrap))
    if current < 0:
        current += dial.wrap  # an index on the dial, below or (through the wrap) above the previous one
    check = reading_check(previous=previous_index, current=current, dial=dial)
    assert check.consumption >= 0
    if current < previous_index and not check.rollover:
        assert check.consumption == 0
        assert check.anomaly == ("reversed" if reversible else "backwards")
    if check.rollover:
        assert check.consumption == current + dial.wrap - previous_index <= dial.wrap * SHARE
