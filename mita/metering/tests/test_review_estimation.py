"""Estimation of missing readings and the true-up by the next actual reading, with numbers a user can check."""

import datetime
from decimal import Decimal

import pytest

from mita.core.errors import DomainError
from mita.metering.estimation import estimate, estimates_make
from mita.metering.models import MeterState, Reading
from mita.metering.readings import cycle_consumption
from mita.metering.tests.world_review import active_metered, read, thirty_a_month

pytestmark = pytest.mark.django_db
D = Decimal


def totals(operator, installation, cycles):
    connection_id = installation.connection_id
    return [
        cycle_consumption(operator=operator, connection_ids=[connection_id], cycle=cycle).get(connection_id, D(0))
        for cycle in cycles
    ]


def test_estimation_and_true_up(operator_a, admin_a):
    # given a connection using 1 a day, last read at 1090 on 1 April
    installation = active_metered(operator_a, initial_index=D(1000))
    thirty_a_month(operator_a, installation)
    # when April and May are not read and are estimated at the end of each month
    april = estimates_make(operator=operator_a, cycle="2026-04", acting_user=admin_a)
    may = estimates_make(operator=operator_a, cycle="2026-05", acting_user=admin_a)
    assert (april.estimated, may.estimated) == (1, 1)
    estimates = Reading.objects.filter(connection_id=installation.connection_id, source="estimated").order_by("read_on")
    # then April is 29 days (1 to 30 April) = 29, index 1119; May 31 days = 31, index 1150
    assert [(r.read_on, r.consumption, r.current_index) for r in estimates] == [
        (datetime.date(2026, 4, 30), D(29), D(1119)),
        (datetime.date(2026, 5, 31), D(31), D(1150)),
    ]
    # when June is read at 1140: the estimates overshot by 10
    june = read(operator_a, installation, 1140, datetime.date(2026, 6, 30), "2026-06")
    # then June trues them up (-10) and the three months add up to actual - actual: 1140 - 1090 = 50
    assert (june.status, june.true_up, june.consumption) == ("accepted", True, D(-10))
    assert totals(operator_a, installation, ["2026-04", "2026-05", "2026-06"]) == [D(29), D(31), D(-10)]
    assert sum(totals(operator_a, installation, ["2026-04", "2026-05", "2026-06"])) == D(1140) - D(1090)
    state = MeterState.objects.get(connection_id=installation.connection_id)
    assert (state.last_index, state.last_actual_index, state.last_estimated) == (D(1140), D(1140), False)


def test_an_actual_reading_above_the_estimates_counts_the_rest(operator_a, admin_a):
    installation = active_metered(operator_a, initial_index=D(1000))
    thirty_a_month(operator_a, installation)
    estimates_make(operator=operator_a, cycle="2026-04", acting_user=admin_a)
    may = read(operator_a, installation, 1160, datetime.date(2026, 5, 31), "2026-05")
    assert (may.consumption, may.true_up, may.status) == (D(41), False, "accepted")
    assert sum(totals(operator_a, installation, ["2026-04", "2026-05"])) == D(1160) - D(1090)


def test_estimates_make_skips_connections_read_or_waiting_for_review_and_runs_again_harmlessly(operator_a, admin_a):
    read_one = active_metered(operator_a, number="AAL-0001", serial="1", initial_index=D(1000))
    missing = active_metered(operator_a, number="AAL-0002", serial="2", initial_index=D(1000))
    waiting = active_metered(operator_a, number="AAL-0003", serial="3", initial_index=D(1000))
    for installation in (read_one, missing, waiting):
        thirty_a_month(operator_a, installation)
    read(operator_a, read_one, 1120, datetime.date(2026, 4, 30), "2026-04")
    high = read(operator_a, waiting, 1400, datetime.date(2026, 4, 30), "2026-04")
    assert high.status == "review"
    made = estimates_make(operator=operator_a, cycle="2026-04", acting_user=admin_a)
    assert made.estimated == 1
    assert list(Reading.objects.filter(source="estimated").values_list("connection_id", flat=True)) == [
        missing.connection_id
    ]
    again = estimates_make(operator=operator_a, cycle="2026-04", acting_user=admin_a)
    assert (again.estimated, Reading.objects.filter(source="estimated").count()) == (0, 1)


def test_readings_not_read_are_estimated_on_the_day_of_the_visit_and_superseded(operator_a, admin_a):
    installation = active_metered(operator_a, initial_index=D(1000))
    thirty_a_month(operator_a, installation)
    dog = read(operator_a, installation, None, datetime.date(2026, 4, 21), "2026-04", reader_code="dog")
    made = estimates_make(operator=operator_a, cycle="2026-04", acting_user=admin_a)
    dog.refresh_from_db()
    estimated = Reading.objects.get(supersedes=dog)
    assert (made.reader_codes, made.estimated, dog.status) == (1, 0, "superseded")
    assert (estimated.read_on, estimated.consumption, estimated.current_index) == (
        datetime.date(2026, 4, 21),
        D(20),
        D(1110),
    )


def test_a_connection_without_history_is_estimated_at_zero_and_flagged(operator_a, admin_a):
    installation = active_metered(operator_a, initial_index=D(500))
    made = estimates_make(operator=operator_a, cycle="2026-02", acting_user=admin_a)
    reading = Reading.objects.get(connection_id=installation.connection_id, source="estimated")
    assert made.no_history == [installation.connection.number]
    assert (reading.consumption, reading.current_index) == (D(0), D(500))
    assert "no history" in reading.note


def test_an_estimate_through_the_wrap_of_a_four_digit_dial_with_a_multiplier(operator_a, admin_a):
    # given a 4-digit meter with a multiplier of 10, at 9990, using 10 units (1 on the dial) a day
    installation = active_metered(operator_a, initial_index=D(9900), digits=4, multiplier=D(10))
    read(operator_a, installation, 9930, datetime.date(2026, 1, 31), "2026-01")
    read(operator_a, installation, 9960, datetime.date(2026, 3, 2), "2026-02")
    read(operator_a, installation, 9990, datetime.date(2026, 4, 1), "2026-03")
    # when April is estimated (29 days)
    reading = estimate(connection=installation.connection, cycle="2026-04", acting_user=admin_a)
    # then the dial shows 19 (through 0), and 290 units are counted
    assert (reading.current_index, reading.rollover, reading.consumption) == (D(19), True, D(290))


def test_an_estimate_is_refused_before_the_last_reading_and_for_a_cycle_not_started(operator_a, admin_a):
    installation = active_metered(operator_a, initial_index=D(1000))
    thirty_a_month(operator_a, installation)
    with pytest.raises(DomainError) as older:
        estimate(
            connection=installation.connection, cycle="2026-03", read_on=datetime.date(2026, 3, 31), acting_user=admin_a
        )
    assert older.value.code == "later_reading_counted"
    with pytest.raises(DomainError) as future:
        estimates_make(operator=operator_a, cycle="2099-01", acting_user=admin_a)
    assert future.value.code == "cycle_in_future"
    with pytest.raises(DomainError) as bad:
        estimates_make(operator=operator_a, cycle="2026-13", acting_user=admin_a)
    assert bad.value.code == "cycle_invalid"
