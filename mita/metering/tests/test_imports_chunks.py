"""A file's good rows are recorded in chunks that never split a connection; on PostgreSQL the chunks are shared among
two forked processes, each chunk its own transaction (mita/metering/reading_imports.py, `_recorded`), with the same
findings as one after the other; a chunk that fails stops the import, and running it again completes it."""

import datetime
import json
import os
import zlib
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import translation

from mita.metering import reading_imports
from mita.metering.errors import MeteringError
from mita.metering.models import MeterState, Reading, ReadingImport
from mita.metering.reading_checked import Checked
from mita.metering.reading_files import FileRow
from mita.metering.reading_imports import chunks_by_connection, reading_import_check, reading_import_run
from mita.metering.readings import ReadingInput
from mita.metering.tests.world import metered_connection

D = Decimal
HEADER = "connection_number,meter_serial,register,index,read_on,cycle,reader_code,reader,note"


def test_chunks_are_cut_between_connections_never_inside_one():
    connection_ids = [3, 1, 1, 1, 2, 3, 4]
    positions = [1, 2, 3, 4, 0, 5, 6]  # sorted by connection
    chunks = chunks_by_connection(positions, connection_ids, 2)
    assert [[connection_ids[k] for k in chunk] for chunk in chunks] == [[1, 1, 1], [2, 3, 3], [4]]
    assert [k for chunk in chunks for k in chunk] == positions  # every row once, in order
    assert chunks_by_connection(positions, connection_ids, 100) == [positions]
    assert chunks_by_connection([], [], 2) == []


def _connections_and_file(operator) -> tuple[list, bytes]:
    installations = [
        metered_connection(operator, number=f"AAL-{n:04d}", serial=f"3{n:04d}", initial_index=D(100)) for n in range(6)
    ]
    lines = [f"AAL-{n:04d},,,{110 + n},2026-01-28,,,," for n in range(5)]
    lines += ["AAL-0005,,,100,2026-01-28,,,,"]  # nothing used: recorded, and waits for review
    # three months of one connection: each checked against the one before, so all in one chunk
    lines += ["AAL-0002,,,130,2026-02-27,,,,", "AAL-0002,,,141,2026-03-28,,,,"]
    return installations, "\n".join([HEADER, *lines, ""]).encode()


def _backends() -> int | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_chunks_are_recorded_two_at_once_on_postgresql_with_the_findings_of_one_after_the_other(
    operator_a, monkeypatch, tmp_path
):
    installations, content = _connections_and_file(operator_a)
    monkeypatch.setattr(reading_imports, "RECORD_CHUNK", 2)
    monkeypatch.setattr(reading_imports, "fork_safe", lambda: True)  # a test run may hold a live server's threads
    spy = tmp_path / "chunks.jsonl"  # a file: the chunks may be recorded in other processes
    record_chunk = reading_imports._record_chunk

    def spied(operator, checked, chunk, **options):
        with spy.open("a") as out:
            out.write(json.dumps([os.getpid(), translation.get_language(), len(chunk)]) + "\n")
        return record_chunk(operator, checked, chunk, **options)

    monkeypatch.setattr(reading_imports, "_record_chunk", spied)
    checked = reading_import_check(operator=operator_a, acting_user=None, file_name="r.csv", content=content)
    backends = _backends()
    with translation.override("fr"):
        done = reading_import_run(reading_import_id=checked.pk)
    seen = [json.loads(line) for line in spy.read_text().splitlines()]
    # the chunks: AAL-0000 and 0001; 0002's three months together; 0003 and 0004; 0005
    assert sorted(size for _pid, _language, size in seen) == [1, 2, 2, 3]
    processes = {pid for pid, _language, _size in seen}
    if connection.vendor == "postgresql":  # two processes, neither this one
        assert len(processes) == 2 and os.getpid() not in processes
    else:
        assert processes == {os.getpid()}
    assert {language for _pid, language, _size in seen} == {"fr"}  # the caller's language in every process
    assert _backends() == backends  # no connection left open behind the processes
    assert (done.status, done.rows_created, done.rows_review, done.rows_refused) == ("done", 8, 1, 0)
    # the reading in review, recorded in another process, is linked from the report with its anomaly
    waiting = Reading.objects.get(connection_id=installations[5].connection_id)
    assert waiting.status == "review"
    [row] = done.rows.all()
    assert (row.number, row.outcome, row.code, row.reading_id) == (7, "review", waiting.anomaly, waiting.pk)
    with translation.override("fr"):  # the report speaks the language the import ran in
        assert waiting.get_anomaly_display() in row.errors[0]["message"]
    months = Reading.objects.filter(connection_id=installations[2].connection_id).order_by("read_on")
    assert [(r.previous_index, r.current_index, r.consumption, r.status) for r in months] == [
        (D(100), D(112), D(12), "accepted"),
        (D(112), D(130), D(18), "accepted"),
        (D(130), D(141), D(11), "accepted"),
    ]
    state = MeterState.objects.get(connection_id=installations[2].connection_id)
    assert (state.last_index, state.last_read_on) == (D(141), datetime.date(2026, 3, 28))
    assert Reading.objects.filter(operator=operator_a, source="import").count() == 8


@pytest.mark.django_db(transaction=True)
def test_a_chunk_that_fails_fails_the_import_and_running_it_again_records_the_rest_once(operator_a, monkeypatch):
    installations, content = _connections_and_file(operator_a)
    monkeypatch.setattr(reading_imports, "RECORD_CHUNK", 2)
    monkeypatch.setattr(reading_imports, "fork_safe", lambda: True)
    record_chunk = reading_imports._record_chunk
    failing = installations[3].connection_id

    def breaking(operator, checked, chunk, **options):
        if any(checked.columns["connection_id"][k] == failing for k in chunk):
            raise RuntimeError("the database went away")
        return record_chunk(operator, checked, chunk, **options)

    monkeypatch.setattr(reading_imports, "_record_chunk", breaking)
    checked = reading_import_check(operator=operator_a, acting_user=None, file_name="r.csv", content=content)
    # on PostgreSQL the chunk failed in another process, which says what it raised
    apart = connection.vendor == "postgresql"
    with pytest.raises(MeteringError if apart else RuntimeError, match="went away"):
        reading_import_run(reading_import_id=checked.pk)
    failed = ReadingImport.objects.get(pk=checked.pk)
    said = "RuntimeError: the database went away" if apart else "the database went away"
    assert (failed.status, failed.message) == ("failed", said)
    assert not Reading.objects.filter(connection_id=failing).exists()  # the failed chunk left nothing
    recorded_before = Reading.objects.filter(operator=operator_a, source="import").count()
    assert recorded_before < 8
    # when the cause is gone and the import runs again
    monkeypatch.setattr(reading_imports, "_record_chunk", record_chunk)
    done = reading_import_run(reading_import_id=checked.pk)
    # then every row is recorded once: what the first run committed is replayed
    assert (done.status, done.rows_created + done.rows_replayed, done.rows_replayed) == ("done", 8, recorded_before)
    assert Reading.objects.filter(operator=operator_a, source="import").count() == 8
    assert Reading.objects.filter(connection_id=failing).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_process_running_other_threads_records_the_chunks_itself(operator_a, monkeypatch):
    # A threaded web worker running the import at once: a fork would keep whatever lock another thread held.
    _installations, content = _connections_and_file(operator_a)
    monkeypatch.setattr(reading_imports, "RECORD_CHUNK", 2)
    monkeypatch.setattr(reading_imports, "fork_safe", lambda: False)
    processes = []
    record_chunk = reading_imports._record_chunk

    def spied(operator, checked, chunk, **options):
        processes.append(os.getpid())  # a list in this process: a forked chunk would not show here
        return record_chunk(operator, checked, chunk, **options)

    monkeypatch.setattr(reading_imports, "_record_chunk", spied)
    checked = reading_import_check(operator=operator_a, acting_user=None, file_name="r.csv", content=content)
    done = reading_import_run(reading_import_id=checked.pk)
    assert processes == [os.getpid()] * 4  # every chunk, here
    assert (done.status, done.rows_created, done.rows_review) == ("done", 8, 1)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_report_names_each_anomaly_as_the_reading_does(language):
    with translation.override(language):
        for anomaly in Reading.Anomaly.values:
            assert reading_imports._anomaly_label(anomaly) == Reading(anomaly=anomaly).get_anomaly_display()


def test_the_rows_a_check_keeps_come_back_as_they_were():
    good = FileRow(
        number=2,
        connection_number="AAL-0001",
        meter_serial="30001",
        brand="Itron",
        register="main",
        index=D("1234.567"),
        read_on=datetime.date(2026, 1, 28),
        cycle="2026-01",
        reader_code="",
        reader="+250788000001",
        note='gate, "blue" \\ tab\there',
        errors=[],
        connection_id=7,
        meter_id=8,
        reader_id=9,
        installation_id=10,
    )
    unread = FileRow(3, "AAL-0002", "", "", "main", None, datetime.date(2026, 1, 28), "2026-01", "dog", "", "", [])
    unread.connection_id, unread.installation_id = 11, 12
    wrong = FileRow(4, "AAL-9999", "", "", "main", D(5), None, "", "", "", "", [])
    wrong.error("read_on", "Write the date the meter was read.")
    blank = FileRow(5, "AAL-0003", "", "", "main", None, None, "", "", "", "", [], True)
    kept = Checked.of([good, unread, wrong, blank]).kept()
    back = Checked.read(kept)
    assert back is not None
    assert [back.row(0), back.row(1)] == [good, unread]  # the good rows, ids and all
    assert len(back) == 2
    assert [(row.number, row.connection_number, row.errors) for row in back.errors] == [
        (4, "AAL-9999", [{"column": "read_on", "message": "Write the date the meter was read."}])
    ]  # the rows with errors as reported; blank rows are counted, not kept
    assert Checked.read(b"") is None
    for version in (1, 2):  # the layouts before: read as none (the file is checked again)
        older = zlib.compress(json.dumps({"version": version, "rows": []}).encode())
        assert Checked.read(older) is None
    # a column the same on every row is kept once, and read back on every row
    twice = FileRow(6, "AAL-0004", "", "", "main", D("1234.567"), datetime.date(2026, 1, 28), "2026-01", "", "", "", [])
    twice.connection_id, twice.installation_id = 13, 14
    same = Checked.read(Checked.of([good, twice]).kept())
    assert same is not None
    assert same.columns["index"] == [D("1234.567"), D("1234.567")]
    assert same.columns["read_on"] == [datetime.date(2026, 1, 28)] * 2
    assert [same.row(0), same.row(1)] == [good, twice]
    assert len(json.loads(zlib.decompress(Checked.of([good, twice]).kept()))["good"]["register"]) == 1  # {"all": ...}


def test_checked_rows_become_the_inputs_readings_record_takes_with_their_keys():
    row = FileRow(2, "AAL-0001", "30001", "", "main", D("12.5"), datetime.date(2026, 1, 28), "2026-01", "", "", "x", [])
    row.connection_id, row.meter_id, row.reader_id, row.installation_id = 7, 8, 9, 10
    unread = FileRow(3, "AAL-0002", "", "", "active", None, datetime.date(2026, 1, 29), "", "dog", "", "", [])
    unread.connection_id, unread.installation_id = 11, 12
    checked = Checked.of([row, unread])
    first, second = checked.inputs([1, 0], installation_checked=True)
    assert second == ReadingInput(
        connection_id=7,
        current_index=D("12.5"),
        read_on=datetime.date(2026, 1, 28),
        register="main",
        cycle="2026-01",
        key="file:7:main:2026-01-28",
        reader_id=9,
        meter_id=8,
        note="x",
        installation_id=10,
    )
    assert (first.connection_id, first.current_index, first.reader_code, first.key, first.installation_id) == (
        11,
        None,
        "dog",
        "file:11:active:2026-01-29",
        12,
    )
    # looked up again (a meter changed since): no installation to hold the row to
    assert [found.installation_id for found in checked.inputs([0, 1], installation_checked=False)] == [None, None]
    moved = checked.row(0)
    moved.connection_id = moved.installation_id = 99
    assert checked.columns["connection_id"][0] == 7  # a row apart: changing it changes no column
    checked.place(0, moved)
    assert (checked.columns["connection_id"][0], checked.columns["installation_id"][0]) == (99, 99)
