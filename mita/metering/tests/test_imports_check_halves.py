"""A large file is checked in two halves at once on PostgreSQL, the second in a forked process
(mita/metering/reading_imports.py, `_checked`), with the findings of one check of the whole file: the same good rows
by column, the same errors and counts, and two readings of one connection on one day found across the halves."""

import datetime
import os
import pickle
import threading
from decimal import Decimal

import pytest
from django.db import connection

from mita.metering import reading_imports
from mita.metering.models import ReadingImport, ReadingImportRow
from mita.metering.reading_checked import Checked
from mita.metering.reading_imports import reading_import_check
from mita.metering.tests.world import metered_connection

D = Decimal
HEADER = "connection_number,meter_serial,register,index,read_on,cycle,reader_code,reader,note"


def _file() -> bytes:
    lines = [
        "AAL-0000,,,110,2026-01-28,,,,",
        "AAL-0001,,,111,2026-01-28,,,,",
        ",,,,,,,,",  # a blank record: not a row
        "AAL-0009,,,112,2026-01-28,,,,",  # no such connection
        "AAL-0002,,,112.50,2026-01-28,,,,",
        "AAL-0003,,,,2026-01-28,,,,",  # blank: a connection of the book not read
        "AAL-0004,,,114,2026-01-28,,no_access,,",
        # the second half (from the 8th record, row 9)
        "AAL-0002,,,112.5,2026-01-28,,,,",  # the same reading again (112.5 is 112.50): kept, recorded once
        "AAL-0000,,,999,2026-01-28,,,,",  # another reading of AAL-0000 that day, in the first half: an error
        "AAL-0005,,,,2026-01-28,,,,",  # blank
        "AAL-0001,,,abc,2026-01-28,,,,",  # an index that is not a number
        "AAL-0005,,,115,2026-01-27,,,,",
        "AAL-0005,,,116,2026-01-27,,,,",  # another reading the same day, in this half: an error
        "AAL-0003,,,113,2025-12-01,,,,",  # before the meter was installed
    ]
    return "\n".join([HEADER, *lines, ""]).encode()


def _outcome(reading_import) -> tuple:
    checked = Checked.read(bytes(reading_import.checked))
    assert checked is not None
    rows = ReadingImportRow.objects.filter(reading_import=reading_import).order_by("number")
    return (
        (reading_import.rows_total, reading_import.rows_valid, reading_import.rows_error, reading_import.rows_blank),
        checked.columns,
        [
            (row.number, [error["column"] for error in row.errors], [error["message"] for error in row.errors])
            for row in rows
        ],
    )


@pytest.mark.django_db(transaction=True)
def test_a_file_checked_in_halves_finds_what_one_check_of_the_whole_file_finds(operator_a, monkeypatch):
    for n in range(6):
        metered_connection(
            operator_a,
            number=f"AAL-{n:04d}",
            serial=f"3{n:04d}",
            initial_index=D(100),
            installed_on=datetime.date(2026, 1, 1),
        )
    halves = []
    alongside = reading_imports.alongside

    def spied(there, here):
        halves.append(os.getpid())
        return alongside(there, here)

    monkeypatch.setattr(reading_imports, "alongside", spied)
    monkeypatch.setattr(reading_imports, "fork_safe", lambda: True)  # a test run may hold a live server's threads
    monkeypatch.setattr(reading_imports, "CHECK_HALVES_PAST", 10)  # the file has 14 records after its header
    in_halves = reading_import_check(operator=operator_a, acting_user=None, file_name="r.csv", content=_file())
    assert len(halves) == (1 if connection.vendor == "postgresql" else 0)  # SQLite: one writer, one process
    monkeypatch.setattr(reading_imports, "CHECK_HALVES_PAST", 1_000)
    whole = reading_import_check(operator=operator_a, acting_user=None, file_name="r.csv", content=_file())
    assert len(halves) <= 1
    assert _outcome(in_halves) == _outcome(whole)
    for reading_import in (in_halves, whole):  # the file itself is kept as it came
        assert bytes(ReadingImport.objects.get(pk=reading_import.pk).content) == _file()
    counts, columns, errors = _outcome(in_halves)
    assert counts == (13, 6, 5, 2)  # rows (the blank record is none), good, with errors, blank
    assert columns["number"] == [2, 3, 6, 8, 9, 13]
    assert columns["index"] == [D(110), D(111), D("112.50"), D(114), D("112.5"), D(115)]
    assert [(number, fields) for number, fields, _messages in errors] == [
        (5, ["connection_number"]),
        (10, ["index"]),
        (12, ["index"]),
        (14, ["index"]),
        (15, ["read_on"]),
    ]
    messages = {number: said for number, _fields, said in errors}
    assert "Row 2 has another reading" in messages[10][0]  # found across the halves, naming the first
    assert "Row 13 has another reading" in messages[14][0]


def test_checked_rows_pickle_with_their_indexes_and_dates_as_they_were():
    days = [datetime.date(2026, 1, 28), datetime.date(2025, 12, 31), datetime.date(2026, 1, 28)]
    columns = {name: [None, None, None] for name in reading_imports.Checked.of([]).columns}
    columns.update(index=[D("112.50"), None, D("0.001")], read_on=days, number=[2, 3, 4])
    checked = Checked(columns, [])
    again = pickle.loads(pickle.dumps(checked))  # noqa: S301 (made here)
    assert again.columns == columns
    assert [str(index) for index in again.columns["index"] if index is not None] == ["112.50", "0.001"]
    assert again.columns["read_on"] == days and len(again) == 3
    assert checked.columns["index"][0] == D("112.50")  # pickling left the original as it was


@pytest.mark.django_db(transaction=True)
def test_a_process_serving_on_threads_checks_a_large_file_in_one_process(operator_a, monkeypatch):
    metered_connection(operator_a, number="AAL-0000", serial="30000", initial_index=D(100))
    halves = []
    monkeypatch.setattr(reading_imports, "alongside", lambda there, here: halves.append(1))
    monkeypatch.setattr(reading_imports, "CHECK_HALVES_PAST", 10)
    serving = threading.Event()
    other = threading.Thread(target=serving.wait)  # as a web worker's other requests
    other.start()
    try:
        checked = reading_import_check(operator=operator_a, acting_user=None, file_name="r.csv", content=_file())
    finally:
        serving.set()
        other.join()
    assert halves == []
    # one connection of the file is this test's: the others are errors
    assert (checked.rows_total, checked.rows_valid, checked.rows_error, checked.rows_blank) == (13, 1, 10, 2)
