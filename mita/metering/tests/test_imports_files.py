"""Files of readings: tolerant headers, rows checked one by one with what to fix, the check recording nothing, the
confirmation recording through readings_record (source import), an idempotent re-import (replays), a changed index
reported as a conflict with nothing lost, refusals and reviews in the report, XLSX, and the reading book round trip."""

import csv
import datetime
import io
from decimal import Decimal

import openpyxl
import pytest

from mita.customers.services_places import route_create
from mita.metering import reading_lookups
from mita.metering.installations import meter_remove, meter_replace
from mita.metering.models import MeterState, Reading, ReadingImport, ReadingImportRow
from mita.metering.reading_books import BOOK_COLUMNS, reading_book_csv, reading_book_xlsx
from mita.metering.reading_files import ReadingFileError, header_key
from mita.metering.reading_imports import reading_import_check, reading_import_confirm, reading_import_report_csv
from mita.metering.tests.world import meter_of, metered_connection, store_of
from mita.testing.factories import member

pytestmark = pytest.mark.django_db

D = Decimal
HEADER = "connection_number,meter_serial,register,index,read_on,cycle,reader_code,reader,note"


def csv_bytes(*lines: str, header: str = HEADER, delimiter: str = ",") -> bytes:
    text = "\n".join([header, *lines]) + "\n"
    return text.replace(",", delimiter).encode()


def check(operator, content: bytes, name: str = "readings.csv") -> ReadingImport:
    return reading_import_check(operator=operator, acting_user=None, file_name=name, content=content)


def record(operator, content: bytes, name: str = "readings.csv") -> ReadingImport:
    reading_import = check(operator, content, name)
    reading_import_confirm(reading_import=reading_import, acting_user=None)  # immediate task backend in tests
    return ReadingImport.objects.get(pk=reading_import.pk)


def problems(reading_import: ReadingImport) -> dict[int, list[tuple[str, str, str]]]:
    found: dict[int, list[tuple[str, str, str]]] = {}
    for row in ReadingImportRow.objects.filter(reading_import=reading_import):
        found[row.number] = [(row.outcome, row.code, error["column"]) for error in row.errors]
    return found


@pytest.fixture
def two_connections(operator_a):
    first = metered_connection(operator_a, number="AAL-0001", serial="30001", initial_index=D(100))
    second = metered_connection(operator_a, number="AAL-0002", serial="30002", initial_index=D(500))
    return first, second


# Headers and cells ---------------------------------------------------------------------------------------------------


def test_headers_are_read_whatever_their_case_spacing_and_common_names():
    assert header_key(" Meter Serial ") == "meter_serial"
    assert header_key("CONNECTION-NUMBER") == "connection_number"
    assert header_key("Reading Date") == "read_on"
    assert header_key("Reader's code") == "reader_code"
    assert header_key("Current reading") == "index"


def test_a_file_without_the_needed_columns_says_which_are_missing(operator_a):
    with pytest.raises(ReadingFileError) as raised:
        check(operator_a, csv_bytes("AAL-0001,120", header="connection_number,index"))
    assert raised.value.code == "import_columns"
    assert "read_on" in str(raised.value.message)


def test_the_check_reports_each_bad_row_with_its_column_and_records_nothing(operator_a, two_connections):
    # given a file with a good row and rows wrong in different ways
    content = csv_bytes(
        "AAL-0001,,,112,2026-01-28,,,,",
        'AAL-0002,,,"1,5",2026-01-28,,,,',
        "AAL-0002,,,abc,2026-01-28,,,,",
        "AAL-0002,,,-4,2026-01-28,,,,",
        "AAL-0002,,,512,28/13/2026,,,,",
        "AAL-0002,,,512,2099-01-01,,,,",
        "AAL-0404,,,512,2026-01-28,,,,",
        ",99999,,512,2026-01-28,,,,",
        "AAL-0002,30001,,512,2026-01-28,,,,",
        "AAL-0002,,,512,2026-01-28,2026-13,,,",
        "AAL-0002,,,,2026-01-28,,bad code,,",
        "AAL-0002,,,512,2026-01-28,,,Nobody Known,",
        "AAL-0002,,solar,512,2026-01-28,,,,",
        "AAL-0002,,,512,2025-12-20,,,,",
    )
    # when it is checked
    reading_import = check(operator_a, content)
    # then every bad row says which column to fix, and no reading exists yet
    columns = {
        number: [column for _outcome, _code, column in found] for number, found in problems(reading_import).items()
    }
    assert columns == {
        3: ["index"],
        4: ["index"],
        5: ["index"],
        6: ["read_on"],
        7: ["read_on"],
        8: ["connection_number"],
        9: ["meter_serial"],
        10: ["meter_serial"],
        11: ["cycle"],
        12: ["reader_code"],
        13: ["reader"],
        14: ["register"],
        15: ["read_on"],
    }
    assert (reading_import.rows_total, reading_import.rows_valid, reading_import.rows_error) == (14, 1, 13)
    assert reading_import.status == ReadingImport.Status.CHECKED
    assert Reading.objects.filter(operator=operator_a, source=Reading.Source.IMPORT).count() == 0


def test_semicolons_day_first_dates_serials_readers_and_codes_are_read(operator_a, two_connections):
    reader = member("billing_officer", operator_a, name="Rita Reader", phone="+250788555111")
    content = csv_bytes(
        ";30001;;112;28/01/2026;;;0788555111;gate open",
        "AAL-0002;;;;28.01.2026;;No access;rita reader;",
        delimiter=";",
    )
    reading_import = record(operator_a, content)
    assert (reading_import.rows_created, reading_import.rows_error) == (2, 0)
    read = Reading.objects.get(connection=two_connections[0].connection, source="import")
    assert (read.current_index, read.read_on, read.reader_id, read.note, read.status) == (
        D(112),
        datetime.date(2026, 1, 28),
        reader.pk,
        "gate open",
        "accepted",
    )
    not_read = Reading.objects.get(connection=two_connections[1].connection, source="import")
    assert (not_read.reader_code, not_read.status, not_read.anomaly) == ("no_access", "review", "reader_code")
    assert problems(reading_import) == {3: [("review", "reader_code", "")]}
    assert reading_import.review_by_anomaly == {"reader_code": 1}


def test_columns_in_any_order_some_left_out_and_short_lines_are_read_by_their_headers(operator_a, two_connections):
    content = csv_bytes(
        "2026-01-28,112,AAL-0001,gate open",
        "2026-01-28,510,AAL-0002",  # a line that stops early: the note is empty
        header="read date,Current Reading,Account Number,remarks",
    )
    reading_import = record(operator_a, content)
    assert (reading_import.rows_created, reading_import.rows_error) == (2, 0)
    first, second = (
        Reading.objects.get(connection=installation.connection, source="import") for installation in two_connections
    )
    assert (first.current_index, first.register, first.cycle, first.note) == (D(112), "main", "2026-01", "gate open")
    assert (second.current_index, second.read_on, second.note) == (D(510), datetime.date(2026, 1, 28), "")


def test_rows_left_empty_are_connections_not_read_skipped_without_error(operator_a, two_connections):
    reading_import = check(operator_a, csv_bytes("AAL-0001,,,112,2026-01-28,,,,", "AAL-0002,,,,,,,,"))
    assert (reading_import.rows_valid, reading_import.rows_blank, reading_import.rows_error) == (1, 1, 0)


def test_an_index_has_at_most_three_decimals_however_it_is_written(operator_a, two_connections):
    content = csv_bytes(
        "AAL-0002,,,512.3456,2026-01-26,,,,",
        "AAL-0002,,,5.123e-1,2026-01-27,,,,",
        "AAL-0002,,,512.500,2026-01-28,,,,",
        "AAL-0002,,,5.125E2,2026-01-29,,,,",
    )
    reading_import = check(operator_a, content)
    assert problems(reading_import) == {2: [("error", "", "index")], 3: [("error", "", "index")]}
    assert reading_import.rows_valid == 2


def test_the_same_connection_and_date_twice_with_different_indexes_is_an_error_on_the_later_row(
    operator_a, two_connections
):
    reading_import = check(operator_a, csv_bytes("AAL-0001,,,112,2026-01-28,,,,", "aal-0001,,,113,2026-01-28,,,,"))
    assert problems(reading_import) == {3: [("error", "", "index")]}


# Recording -----------------------------------------------------------------------------------------------------------


def test_a_confirmed_file_records_its_readings_through_the_one_path_and_moves_the_states(operator_a, two_connections):
    first = two_connections[0]
    content = csv_bytes("AAL-0001,,,112,2026-01-28,,,,", "AAL-0002,,,530,2026-01-29,,,,")
    reading_import = record(operator_a, content)
    assert reading_import.status == ReadingImport.Status.DONE
    assert (reading_import.rows_created, reading_import.rows_replayed, reading_import.rows_refused) == (2, 0, 0)
    readings = Reading.objects.filter(operator=operator_a, source=Reading.Source.IMPORT).order_by("connection_id")
    assert [(r.previous_index, r.current_index, r.consumption, r.cycle) for r in readings] == [
        (D(100), D(112), D(12), "2026-01"),
        (D(500), D(530), D(30), "2026-01"),
    ]
    assert MeterState.objects.get(connection=first.connection).last_index == D(112)
    assert reading_import.job.status == "succeeded"


def test_the_same_file_twice_records_nothing_new_and_the_page_knows_it_was_imported(operator_a, two_connections):
    content = csv_bytes("AAL-0001,,,112,2026-01-28,,,,", "AAL-0002,,,530,2026-01-29,,,,")
    first = record(operator_a, content)
    again = record(operator_a, content)
    assert (again.rows_created, again.rows_replayed, again.rows_refused) == (0, 2, 0)
    assert again.digest == first.digest
    assert Reading.objects.filter(operator=operator_a, source="import").count() == 2
    assert MeterState.objects.get(connection=two_connections[0].connection).last_index == D(112)


def test_a_row_whose_index_changed_since_is_a_conflict_and_the_first_reading_stays(operator_a, two_connections):
    record(operator_a, csv_bytes("AAL-0001,,,112,2026-01-28,,,,"))
    changed = record(operator_a, csv_bytes("AAL-0001,,,115,2026-01-28,,,,", "AAL-0002,,,530,2026-01-29,,,,"))
    assert (changed.rows_created, changed.rows_refused) == (1, 1)
    assert changed.refused_by_code == {"key_reused": 1}
    row = ReadingImportRow.objects.get(reading_import=changed, number=2)
    first = Reading.objects.get(connection=two_connections[0].connection, source="import")
    assert (row.outcome, row.code, row.reading_id) == ("conflict", "key_reused", first.pk)
    assert "112" in row.errors[0]["message"] and "115" in row.errors[0]["message"]
    assert first.current_index == D(112)


def test_implausible_readings_are_recorded_for_review_and_listed_by_anomaly(operator_a, two_connections):
    reading_import = record(operator_a, csv_bytes("AAL-0001,,,90,2026-01-28,,,,", "AAL-0002,,,500,2026-01-29,,,,"))
    assert (reading_import.rows_created, reading_import.rows_review) == (2, 2)
    assert reading_import.review_by_anomaly == {"backwards": 1, "zero": 1}
    assert problems(reading_import) == {2: [("review", "backwards", "")], 3: [("review", "zero", "")]}
    report = reading_import_report_csv(reading_import=reading_import)
    assert "backwards" in report and "AAL-0002" in report


def test_a_file_recorded_once_cannot_be_confirmed_again(operator_a, two_connections):
    from mita.metering.errors import MeteringError

    reading_import = record(operator_a, csv_bytes("AAL-0001,,,112,2026-01-28,,,,"))
    with pytest.raises(MeteringError) as raised:
        reading_import_confirm(reading_import=reading_import, acting_user=None)
    assert raised.value.code == "import_done"


def test_several_months_of_one_connection_in_one_file_are_checked_oldest_first(operator_a, two_connections):
    content = csv_bytes("AAL-0001,,,127,2026-02-27,,,,", "AAL-0001,,,112,2026-01-28,,,,")
    reading_import = record(operator_a, content)
    assert reading_import.rows_created == 2
    readings = Reading.objects.filter(connection=two_connections[0].connection, source="import").order_by("read_on")
    assert [(r.previous_index, r.consumption, r.status) for r in readings] == [
        (D(100), D(12), "accepted"),
        (D(112), D(15), "accepted"),
    ]


def test_an_xlsx_file_with_date_and_number_cells_is_read(operator_a, two_connections):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Connection Number", "Index", "Read date"])
    sheet.append(["AAL-0001", 112.5, datetime.datetime(2026, 1, 28)])
    sheet.append(["AAL-0002", 530, datetime.date(2026, 1, 29)])
    out = io.BytesIO()
    workbook.save(out)
    reading_import = record(operator_a, out.getvalue(), name="readings.xlsx")
    assert (reading_import.file_format, reading_import.rows_created) == ("xlsx", 2)
    assert Reading.objects.get(connection=two_connections[0].connection, source="import").current_index == D("112.5")


# Reading books -------------------------------------------------------------------------------------------------------


def test_a_reading_book_exported_filled_and_imported_back_records_its_readings(operator_a, two_connections):
    # given a route with the two connections in their reading sequence
    first, second = two_connections
    route = route_create(operator=operator_a, code="R1", name="Route one", acting_user=None)
    for sequence, installation in ((2, first), (1, second)):
        connection = installation.connection
        connection.route, connection.reading_sequence = route, sequence
        connection.save(update_fields=["route", "reading_sequence"])
    # when the book of the route is exported
    book = list(csv.DictReader(io.StringIO(reading_book_csv(operator=operator_a, cycle="2026-01", route=route)[1:])))
    # then it lists them in sequence with their meter and previous index, and empty columns to fill
    assert [(row["connection_number"], row["meter_serial"], row["previous_index"], row["index"]) for row in book] == [
        ("AAL-0002", "30002", "500", ""),
        ("AAL-0001", "30001", "100", ""),
    ]
    # and once the reader fills one row (the other not read), the file imports back as it is
    book[0]["index"], book[0]["read_on"] = "531", "2026-01-27"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(BOOK_COLUMNS))
    writer.writeheader()
    writer.writerows(book)
    reading_import = record(operator_a, out.getvalue().encode(), name="book.csv")
    assert (reading_import.rows_created, reading_import.rows_blank, reading_import.rows_error) == (1, 1, 0)
    assert reading_import.ignored_columns == []
    reading = Reading.objects.get(connection=second.connection, source="import")
    assert (reading.previous_index, reading.consumption, reading.cycle) == (D(500), D(31), "2026-01")


def test_the_xlsx_reading_book_of_all_routes_has_the_import_columns(operator_a, two_connections):
    content = reading_book_xlsx(operator=operator_a, cycle="2026-01")
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == list(BOOK_COLUMNS)
    assert sorted(row[2] for row in rows[1:]) == ["AAL-0001", "AAL-0002"]


def test_another_operators_connections_are_unknown_to_a_file(operator_a, operator_b, two_connections):
    metered_connection(operator_b, number="BWC-0001", serial="40001")
    reading_import = check(operator_a, csv_bytes("BWC-0001,,,112,2026-01-28,,,,", ",40001,,112,2026-01-28,,,,"))
    assert reading_import.rows_valid == 0
    assert problems(reading_import) == {2: [("error", "", "connection_number")], 3: [("error", "", "meter_serial")]}


# Between the check and the confirmation ------------------------------------------------------------------------------


def test_the_confirmation_records_what_the_check_found_without_reading_the_file_again(operator_a, two_connections):
    # given a checked file whose stored bytes are then lost
    reading_import = check(operator_a, csv_bytes("AAL-0001,,,112,2026-01-28,,,,", "AAL-9999,,,1,2026-01-28,,,,"))
    ReadingImport.objects.filter(pk=reading_import.pk).update(content=b"")
    # when it is confirmed
    reading_import_confirm(reading_import=reading_import, acting_user=None)
    done = ReadingImport.objects.get(pk=reading_import.pk)
    # then the check's rows are recorded, and its errors reported, as the check found them
    assert (done.rows_total, done.rows_error, done.rows_created) == (2, 1, 1)
    assert problems(done) == {3: [("error", "", "connection_number")]}
    assert Reading.objects.get(source="import").current_index == D(112)
    assert bytes(done.checked) == b""  # recorded: the check's rows are not kept


def test_an_import_checked_without_its_rows_kept_reads_the_file_again(operator_a, two_connections):
    reading_import = check(operator_a, csv_bytes("AAL-0001,,,112,2026-01-28,,,,", "AAL-9999,,,1,2026-01-28,,,,"))
    ReadingImport.objects.filter(pk=reading_import.pk).update(checked=b"")  # as imports checked before they were kept
    reading_import_confirm(reading_import=reading_import, acting_user=None)
    done = ReadingImport.objects.get(pk=reading_import.pk)
    assert (done.rows_total, done.rows_error, done.rows_created) == (2, 1, 1)
    assert problems(done) == {3: [("error", "", "connection_number")]}


def test_a_meter_replaced_between_the_check_and_the_confirmation_is_looked_up_again(operator_a, two_connections):
    # given a file checked while AAL-0001 had meter 30001
    first = two_connections[0]
    content = csv_bytes(
        "AAL-0001,,,112,2026-01-28,,,,", "AAL-0002,,,530,2026-01-29,,,,", "AAL-0001,,,40,2026-02-27,,,,"
    )
    reading_import = check(operator_a, content)
    assert (reading_import.rows_valid, reading_import.rows_error) == (3, 0)
    # when the meter is replaced on 10 February, before the file is confirmed
    new_meter = meter_of(operator_a, first.meter.meter_model, "39999")
    meter_replace(
        connection=first.connection,
        new_meter=new_meter,
        replaced_on=datetime.date(2026, 2, 10),
        final_index=D(120),
        initial_index=D(10),
        reason="faulty",
        to_store=store_of(operator_a),
        acting_user=None,
    )
    reading_import_confirm(reading_import=reading_import, acting_user=None)
    done = ReadingImport.objects.get(pk=reading_import.pk)
    # then the January row, read before the new meter, is an error as a new check says, and the February row counts
    # on the new meter from its initial index
    assert problems(done) == {2: [("error", "", "read_on")]}
    assert (done.rows_error, done.rows_valid, done.rows_created, done.rows_refused) == (1, 2, 2, 0)
    february = Reading.objects.get(connection=first.connection, source="import")
    assert (february.installation.meter.serial, february.previous_index, february.current_index) == (
        "39999",
        D(10),
        D(40),
    )


def test_a_meter_removed_between_the_check_and_the_confirmation_leaves_its_rows_in_error(operator_a, two_connections):
    reading_import = check(operator_a, csv_bytes("AAL-0001,,,112,2026-01-28,,,,", "AAL-0002,,,530,2026-01-29,,,,"))
    meter_remove(
        connection=two_connections[0].connection,
        removed_on=datetime.date(2026, 1, 30),
        final_index=D(113),
        reason="faulty",
        to_store=store_of(operator_a),
        acting_user=None,
    )
    reading_import_confirm(reading_import=reading_import, acting_user=None)
    done = ReadingImport.objects.get(pk=reading_import.pk)
    assert problems(done) == {2: [("error", "", "connection_number")]}
    assert (done.rows_error, done.rows_created) == (1, 1)


def test_a_reader_who_left_between_the_check_and_the_confirmation_is_an_error(operator_a, two_connections):
    reader = member("billing_officer", operator_a, name="Rita Reader", phone="+250788555111")
    reading_import = check(
        operator_a, csv_bytes("AAL-0001,,,112,2026-01-28,,,Rita Reader,", "AAL-0002,,,530,2026-01-29,,,,")
    )
    assert reading_import.rows_error == 0
    reader.memberships.all().delete()
    reading_import_confirm(reading_import=reading_import, acting_user=None)
    done = ReadingImport.objects.get(pk=reading_import.pk)
    assert problems(done) == {2: [("error", "", "reader")]}
    assert (done.rows_error, done.rows_created) == (1, 1)


def test_a_long_file_looks_its_numbers_and_serials_up_in_one_read_with_the_same_findings(
    operator_a, operator_b, two_connections, monkeypatch
):
    # given lists long enough to be read whole rather than in chunks (made short here)
    monkeypatch.setattr(reading_lookups, "SCAN_PAST", 0)
    metered_connection(operator_b, number="BWC-0001", serial="40001")
    content = csv_bytes(
        "aal-0001,,,112,2026-01-28,,,,",
        ",30002,,530,2026-01-29,,,,",
        "BWC-0001,,,1,2026-01-28,,,,",
        ",40001,,1,2026-01-28,,,,",
    )
    reading_import = check(operator_a, content)
    # then the operator's own are found whatever their case, another operator's are not
    assert (reading_import.rows_valid, reading_import.rows_error) == (2, 2)
    assert problems(reading_import) == {4: [("error", "", "connection_number")], 5: [("error", "", "meter_serial")]}
