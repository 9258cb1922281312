"""The set-based writes behind readings_record (mita/metering/reading_writes.py) give what the ORM gave: readings
saved with their primary keys and every field, their installation, meter and model at hand, meter states saved with
their history, replays returning the first reading; long lists of values looked up whole."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection

from mita.core.bulk import IN_CHUNK, among
from mita.metering.models import MeterState, Reading
from mita.metering.readings import ReadingInput, readings_record
from mita.metering.tests.world import metered_connection

pytestmark = pytest.mark.django_db

D = Decimal


def test_recorded_readings_are_saved_whole_with_their_keys_and_their_meter_at_hand(operator_a, staff_a):
    installation = metered_connection(operator_a, number="AAL-0001", serial="30001", initial_index=D(100))
    row = ReadingInput(
        connection_id=installation.connection_id,
        current_index=D("112.5"),
        read_on=datetime.date(2026, 1, 28),
        key="k-1",
        reader_id=staff_a.pk,
        note="gate open",
    )
    [result] = readings_record(operator=operator_a, rows=[row], source=Reading.Source.IMPORT, acting_user=staff_a)
    made = result.reading
    assert made is not None and made.pk is not None and made.created_at is not None
    assert made.installation.meter.serial == "30001"
    assert made.installation.meter.meter_model.dial_digits == 5
    saved = Reading.objects.get(pk=made.pk)
    assert (saved.previous_index, saved.current_index, saved.consumption, saved.multiplier) == (
        D(100),
        D("112.5"),
        D("12.5"),
        D(1),
    )
    assert (saved.key, saved.note, saved.reader_id, saved.created_by_id, saved.photo.name) == (
        "k-1",
        "gate open",
        staff_a.pk,
        staff_a.pk,
        "",
    )
    assert (saved.status, saved.cycle, saved.source) == ("accepted", "2026-01", "import")
    state = MeterState.objects.get(connection_id=installation.connection_id)
    assert (state.last_index, state.last_read_on, state.last_cycle) == (
        D("112.5"),
        datetime.date(2026, 1, 28),
        "2026-01",
    )
    assert [(days, D(consumption)) for days, consumption in state.history] == [(27, D("12.5"))]
    # a replay returns the very reading saved, whole
    [again] = readings_record(operator=operator_a, rows=[row], source=Reading.Source.IMPORT, acting_user=staff_a)
    assert again.outcome == "replayed" and again.reading is not None
    assert (again.reading.pk, again.reading.current_index, again.reading.created_at) == (
        made.pk,
        D("112.5"),
        saved.created_at,
    )


def test_many_readings_in_one_batch_get_distinct_keys_after_those_already_there(operator_a):
    installations = [
        metered_connection(operator_a, number=f"AAL-{n:04d}", serial=f"3{n:04d}", initial_index=D(10)) for n in range(5)
    ]
    rows = [
        ReadingInput(connection_id=i.connection_id, current_index=D(20 + n), read_on=datetime.date(2026, 1, 28))
        for n, i in enumerate(installations)
    ]
    first = readings_record(operator=operator_a, rows=rows[:2], source=Reading.Source.MANUAL)
    rest = readings_record(operator=operator_a, rows=rows[2:], source=Reading.Source.MANUAL)
    ids = [result.reading.pk for result in [*first, *rest] if result.reading is not None]
    assert len(set(ids)) == 5
    assert sorted(Reading.objects.filter(pk__in=ids).values_list("current_index", flat=True)) == [
        D(20),
        D(21),
        D(22),
        D(23),
        D(24),
    ]


def test_a_list_longer_than_a_chunk_is_looked_up_whole(operator_a):
    installation = metered_connection(operator_a, number="AAL-0001", serial="30001")
    keys = [f"missing-{n}" for n in range(IN_CHUNK * 2 + 5)] + ["k-last"]
    readings_record(
        operator=operator_a,
        rows=[
            ReadingInput(
                connection_id=installation.connection_id,
                current_index=D(5),
                read_on=datetime.date(2026, 1, 28),
                key="k-last",
            )
        ],
        source=Reading.Source.MANUAL,
    )
    found = [reading.key for narrowed in among(Reading.objects.order_by(), "key", keys) for reading in narrowed]
    assert found == ["k-last"]


def test_keys_with_quotes_backslashes_commas_and_braces_are_looked_up_whole(operator_a):
    installation = metered_connection(operator_a, number="AAL-0001", serial="30001")
    keys = ['a"b', "c\\d", "e,f", "{g}", "h i", "NULL", "ü-é", "plain"]
    readings_record(
        operator=operator_a,
        rows=[
            ReadingInput(
                connection_id=installation.connection_id,
                current_index=D(5 + n),
                read_on=datetime.date(2026, 1, 1) + datetime.timedelta(days=n + 1),
                key=key,
            )
            for n, key in enumerate(keys)
        ],
        source=Reading.Source.MANUAL,
    )
    found = [
        reading.key for narrowed in among(Reading.objects.order_by(), "key", [*keys, "missing"]) for reading in narrowed
    ]
    assert sorted(found) == sorted(keys)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="heap-only updates and fill factors are PostgreSQL's")
def test_a_batch_moves_most_meter_states_of_a_page_without_touching_its_indexes(operator_a):
    """Metering migration 0009: half of each meter-state page is kept free, so that a batch moving every state of a page
    in one transaction finds room for the new versions on the page (heap-only updates: no index entry written). With a
    fifth kept free (0007) most of these updates wrote a new entry in each of the table's indexes."""
    installations = [
        metered_connection(operator_a, number=f"AAL-{n:04d}", serial=f"3{n:04d}", initial_index=D(10))
        for n in range(80)
    ]

    def updates() -> tuple[int, int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'metering_meterstate'"
            )
            return cursor.fetchone()

    before = updates()
    readings_record(
        operator=operator_a,
        rows=[
            ReadingInput(connection_id=i.connection_id, current_index=D(22), read_on=datetime.date(2026, 1, 28))
            for i in installations
        ],
        source=Reading.Source.IMPORT,
    )
    after = updates()
    moved, heap_only = after[0] - before[0], after[1] - before[1]
    # Here each new version is larger than the old (an empty history gets its first entry, as in a connection's first
    # months), so the last rows of a full page may still not fit: 62 of 80 stay on their page, against 23 with a fifth
    # kept free. Once the history is full (six readings), old and new versions are the same size and all fit.
    assert moved == 80 and heap_only >= moved * 2 // 3
