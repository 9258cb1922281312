"""The checks every reading goes through, and the one path that records readings."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from mita.metering.installations import meter_install, meter_replace
from mita.metering.models import Installation, Meter, Reading
from mita.metering.readings import ReadingInput, _states, cycle_consumption, readings_record
from mita.metering.tests.world import meter_model_of, meter_of, metered_connection, store_of
from mita.metering.validation import Dial, Thresholds, reading_check

D = Decimal


def test_a_four_digit_dial_rolls_over_through_zero():
    check = reading_check(previous=D("9990"), current=D("15"), dial=Dial(digits=4))
    assert (check.consumption, check.rollover, check.anomaly) == (D("25"), True, "")


def test_a_five_digit_dial_rolls_over_through_zero():
    check = reading_check(previous=D("99950.5"), current=D("40"), dial=Dial(digits=5))
    assert (check.consumption, check.rollover, check.anomaly) == (D("89.5"), True, "")


def test_the_same_wrap_on_a_five_digit_dial_is_no_rollover_of_a_four_digit_one():
    # 9990 -> 15 on a 5-digit dial would be 90,025 units: implausible, so the reading goes backwards
    check = reading_check(previous=D("9990"), current=D("15"), dial=Dial(digits=5))
    assert (check.consumption, check.rollover, check.anomaly) == (D("0"), False, "backwards")


def test_a_reversible_meter_running_backwards_is_never_a_negative_consumption():
    check = reading_check(previous=D("1500"), current=D("1490"), dial=Dial(digits=5, reversible=True))
    assert (check.consumption, check.anomaly) == (D("0"), "reversed")


def test_the_multiplier_scales_the_advance():
    check = reading_check(previous=D("120"), current=D("150"), dial=Dial(digits=6, multiplier=D("40")))
    assert check.consumption == D("1200")


def test_zero_high_and_low_against_the_connections_own_average():
    dial = Dial(digits=5)
    thresholds = Thresholds()
    assert reading_check(previous=D(100), current=D(100), dial=dial).anomaly == "zero"
    assert reading_check(previous=D(100), current=D(100), dial=dial, active=False).anomaly == ""
    average = D("0.5")  # 15 a month
    assert reading_check(previous=D(100), current=D(160), dial=dial, average_daily=average, days=30).anomaly == "high"
    assert reading_check(previous=D(100), current=D(101), dial=dial, average_daily=average, days=30).anomaly == "low"
    assert reading_check(previous=D(100), current=D(116), dial=dial, average_daily=average, days=30).anomaly == ""
    assert thresholds.high_factor == D(3)


def test_estimates_that_overshot_are_trued_up_by_the_next_actual_reading():
    # actual 100, estimated up to 130, the meter shows 120: consumption -10, no anomaly
    check = reading_check(previous=D(130), current=D(120), dial=Dial(digits=5), last_actual=D(100))
    assert (check.consumption, check.true_up, check.anomaly) == (D("-10"), True, "")


def test_a_true_up_counts_through_the_wrap_when_the_estimates_did():
    # last actual 9,990 on a 4-digit dial, estimated 19 (index 10,009 or 9 once wrapped), the meter shows 15
    for estimated_index in (D("10009"), D("9")):
        check = reading_check(previous=estimated_index, current=D(15), dial=Dial(digits=4), last_actual=D(9990))
        assert (check.consumption, check.rollover, check.true_up, check.anomaly) == (D(6), True, False, "")


def test_a_true_up_below_the_last_actual_index_is_still_backwards():
    check = reading_check(previous=D(130), current=D(95), dial=Dial(digits=5), last_actual=D(100))
    assert (check.consumption, check.anomaly) == (D(0), "backwards")


def _row(installation, index, day, **options):
    return ReadingInput(connection_id=installation.connection_id, current_index=D(index), read_on=day, **options)


def test_readings_are_recorded_against_the_last_index_and_move_it_on(operator_a):
    installation = metered_connection(operator_a, initial_index=D(100))
    results = readings_record(
        operator=operator_a,
        rows=[_row(installation, 112, datetime.date(2026, 1, 28)), _row(installation, 127, datetime.date(2026, 2, 27))],
        source=Reading.Source.MANUAL,
    )
    assert [r.outcome for r in results] == ["created", "created"]
    assert [(r.reading.previous_index, r.reading.consumption, r.reading.status) for r in results] == [
        (D(100), D(12), "accepted"),
        (D(112), D(15), "accepted"),
    ]
    assert cycle_consumption(operator=operator_a, connection_ids=[installation.connection_id], cycle="2026-02") == {
        installation.connection_id: D(15)
    }


def test_a_cycle_s_consumption_is_only_that_of_the_connections_asked_for(operator_a):
    # three neighbouring connections read in January: asked for the first and the last, the middle one is not counted
    # (the connections are looked up by their range where they are close together, and only those asked for kept)
    installations = [
        metered_connection(operator_a, number=f"AAN-{n}", serial=f"4100{n}", initial_index=D(100)) for n in range(3)
    ]
    readings_record(
        operator=operator_a,
        rows=[_row(installation, 110 + n, datetime.date(2026, 1, 28)) for n, installation in enumerate(installations)],
        source=Reading.Source.MANUAL,
    )
    first, middle, last = (installation.connection_id for installation in installations)
    assert first < middle < last
    assert cycle_consumption(operator=operator_a, connection_ids=[last, first], cycle="2026-01") == {
        first: D(10),
        last: D(12),
    }
    assert cycle_consumption(operator=operator_a, connection_ids=[], cycle="2026-01") == {}


def test_a_replayed_key_changes_nothing_and_a_reused_key_is_refused(operator_a):
    installation = metered_connection(operator_a)
    row = _row(installation, 12, datetime.date(2026, 1, 28), key="b6f1c1e0-0000-4000-8000-000000000001")
    first = readings_record(operator=operator_a, rows=[row], source=Reading.Source.FIELD)[0]
    again = readings_record(operator=operator_a, rows=[row, row], source=Reading.Source.FIELD)
    assert [r.outcome for r in again] == ["replayed", "replayed"]
    assert {r.reading.pk for r in again} == {first.reading.pk}
    other = _row(installation, 13, datetime.date(2026, 1, 28), key=row.key)
    refused = readings_record(operator=operator_a, rows=[other], source=Reading.Source.FIELD)[0]
    assert (refused.outcome, refused.code) == ("refused", "key_reused")
    assert Reading.objects.filter(connection_id=installation.connection_id).count() == 1


def test_a_second_actual_reading_of_a_cycle_waits_for_review(operator_a):
    installation = metered_connection(operator_a)
    readings_record(operator=operator_a, rows=[_row(installation, 12, datetime.date(2026, 1, 20))], source="manual")
    second = readings_record(
        operator=operator_a, rows=[_row(installation, 14, datetime.date(2026, 1, 28))], source="manual"
    )[0]
    assert (second.reading.status, second.reading.anomaly) == ("review", "conflict")


def test_a_swap_inside_a_period_sums_the_old_meters_last_stretch_and_the_new_meters_first(operator_a):
    installation = metered_connection(operator_a, initial_index=D(500))
    readings_record(operator=operator_a, rows=[_row(installation, 520, datetime.date(2026, 1, 28))], source="manual")
    new_meter = meter_of(operator_a, meter_model_of(operator_a, code="NEW"), "40001")
    connection = installation.connection
    meter_replace(
        connection=connection,
        new_meter=new_meter,
        replaced_on=datetime.date(2026, 2, 10),
        final_index=D(527),
        initial_index=D(3),
        reason="faulty",
        to_store=store_of(operator_a),
        acting_user=None,
    )
    results = readings_record(
        operator=operator_a,
        rows=[ReadingInput(connection_id=connection.pk, current_index=D(14), read_on=datetime.date(2026, 2, 27))],
        source="manual",
    )
    assert results[0].reading.previous_index == D(3)
    assert cycle_consumption(operator=operator_a, connection_ids=[connection.pk], cycle="2026-02") == {
        connection.pk: D(7) + D(11)
    }
    installation.meter.refresh_from_db()
    assert (installation.meter.status, installation.meter.store_id) == (Meter.Status.FAULTY, store_of(operator_a).pk)


def test_a_connection_without_a_meter_is_refused_and_the_rest_of_the_batch_is_recorded(operator_a):
    installation = metered_connection(operator_a)
    other = metered_connection(operator_a, number="AAL-0002", serial="30002")
    from mita.metering.installations import meter_remove

    meter_remove(
        connection=other.connection,
        removed_on=datetime.date(2026, 1, 5),
        final_index=D(1),
        reason="faulty",
        to_store=store_of(operator_a),
        acting_user=None,
    )
    results = readings_record(
        operator=operator_a,
        rows=[_row(other, 5, datetime.date(2026, 1, 28)), _row(installation, 9, datetime.date(2026, 1, 28))],
        source="manual",
    )
    assert [(r.outcome, r.code) for r in results] == [("refused", "no_meter"), ("created", "")]


def test_a_meter_goes_on_one_connection_at_a_time(operator_a):
    installation = metered_connection(operator_a)
    from mita.customers.tests.world import connection_of, customer_of
    from mita.metering.errors import MeteringError

    other = connection_of(operator_a, customer_of(operator_a, name="B"), number="AAL-0009")
    with pytest.raises(MeteringError) as refused:
        meter_install(
            meter=installation.meter,
            connection=other,
            installed_on=datetime.date(2026, 2, 1),
            initial_index=0,
            acting_user=None,
        )
    assert refused.value.code == "meter_not_in_store"


def test_estimates_and_their_true_up_stay_out_of_the_connections_average(operator_a):
    from mita.metering.models import MeterState

    installation = metered_connection(operator_a, initial_index=D(0))
    days = [datetime.date(2026, month, 28) for month in range(1, 6)]
    for index, day in zip((10, 20, 30), days, strict=False):
        readings_record(operator=operator_a, rows=[_row(installation, index, day)], source="manual")
    readings_record(operator=operator_a, rows=[_row(installation, 45, days[3])], source="estimated")
    trued_up = readings_record(operator=operator_a, rows=[_row(installation, 41, days[4])], source="manual")[0]
    assert (trued_up.reading.consumption, trued_up.reading.true_up) == (D(-4), True)
    state = MeterState.objects.get(connection_id=installation.connection_id)
    assert [consumption for _days, consumption in state.history] == ["10.000", "10.000", "10.000"]
    assert (state.last_index, state.last_actual_index, state.last_estimated) == (D(41), D(41), False)


def test_smart_meters_push_several_readings_a_cycle_and_the_cycle_sums_them(operator_a):
    installation = metered_connection(operator_a, initial_index=D(0))
    days = [datetime.date(2026, 3, day) for day in (1, 2, 2, 3)]
    rows = [_row(installation, index, day) for index, day in zip((4, 4, 6, 9), days, strict=True)]
    results = readings_record(operator=operator_a, rows=rows, source=Reading.Source.SMART)
    assert [(r.reading.status, r.reading.consumption) for r in results] == [
        ("accepted", D(4)),
        ("accepted", D(0)),  # no zero anomaly for an interval
        ("accepted", D(2)),
        ("accepted", D(3)),
    ]
    assert cycle_consumption(operator=operator_a, connection_ids=[installation.connection_id], cycle="2026-03") == {
        installation.connection_id: D(9)
    }
    # a reader's second reading of that cycle is still a conflict for staff
    manual = readings_record(
        operator=operator_a, rows=[_row(installation, 10, datetime.date(2026, 3, 4))], source="manual"
    )
    assert manual[0].reading.anomaly == "conflict"


def test_a_meter_with_active_and_reactive_registers_is_replaced_on_its_first_register(operator_a):
    installation = metered_connection(
        operator_a, utility="electricity", registers=("active", "reactive"), multiplier=D(20), initial_index=D(100)
    )
    connection = installation.connection
    new_meter = meter_of(
        operator_a, meter_model_of(operator_a, code="E2", utility="electricity", registers=("active",)), "E-2"
    )
    meter_replace(
        connection=connection,
        new_meter=new_meter,
        replaced_on=datetime.date(2026, 2, 10),
        final_index=D(105),
        initial_index=D(0),
        reason="faulty",
        to_store=store_of(operator_a),
        acting_user=None,
    )
    removal = Reading.objects.get(connection=connection, source="removal")
    assert (removal.register, removal.consumption) == ("active", D(100))  # 5 units x 20
    from mita.metering.state_check import states_check

    assert list(states_check(operator=operator_a)) == []  # the reactive register's state waits, pointing nowhere


def test_a_cycles_consumption_is_the_active_energy_of_an_electricity_meter_not_its_reactive(operator_a):
    installation = metered_connection(
        operator_a, utility="electricity", registers=("active", "reactive"), multiplier=D(1), initial_index=D(0)
    )
    day = datetime.date(2026, 4, 28)
    rows = [
        ReadingInput(connection_id=installation.connection_id, current_index=D(80), read_on=day, register="active"),
        ReadingInput(connection_id=installation.connection_id, current_index=D(30), read_on=day, register="reactive"),
    ]
    assert [r.outcome for r in readings_record(operator=operator_a, rows=rows, source="manual")] == ["created"] * 2
    assert cycle_consumption(operator=operator_a, connection_ids=[installation.connection_id], cycle="2026-04") == {
        installation.connection_id: D(80)
    }


def _plan_of(sql: str) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny test table: ask whether the index *can* serve
            cursor.execute("EXPLAIN " + sql)
            return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


def test_a_batch_s_keys_are_looked_up_through_the_unique_key_index_however_many(operator_a):
    # PostgreSQL proves a partial index's condition (key not empty) from a list of at most 100 keys; past that the
    # look-up must say it, or it reads every reading of the operator's once per chunk of a file
    installation = metered_connection(operator_a)
    rows = [
        _row(installation, 12 + n, datetime.date(2026, 1, 1) + datetime.timedelta(days=n), key=f"k-{n}")
        for n in range(150)
    ]
    with CaptureQueriesContext(connection) as queries:
        readings_record(operator=operator_a, rows=rows, source=Reading.Source.FIELD)
    lookups = [
        query["sql"] for query in queries if 'FROM "metering_reading"' in query["sql"] and "k-149" in query["sql"]
    ]
    assert lookups and all("reading_unique_key" in _plan_of(sql) for sql in lookups)


def test_a_batch_reads_the_states_of_its_own_connections_only(operator_a):
    # the states are looked up by the connections' range as well as their list: the neighbour in between is not read
    installations = [
        metered_connection(operator_a, number=f"AAS-{n}", serial=f"4200{n}", initial_index=D(100)) for n in range(3)
    ]
    first, middle, last = (installation.connection_id for installation in installations)
    assert first < middle < last
    with transaction.atomic():
        states, model_ids, meter_models = _states(operator_a, [last, first, last])
    assert sorted(states) == [(first, "main"), (last, "main")]
    # each state's installation loaded with it (no query to read it), and the model of its meter, by installation
    with CaptureQueriesContext(connection) as queries:
        installations = {state.installation.pk: state.installation for state in states.values()}
    assert not queries.captured_queries
    for installation in Installation.objects.filter(pk__in=installations).select_related("meter__meter_model"):
        assert installations[installation.pk].installed_on == installation.installed_on
        assert meter_models[model_ids[installation.pk]] == installation.meter.meter_model
    with transaction.atomic():
        assert _states(operator_a, []) == ({}, {}, {})
