"""Reading a file of readings (CSV or XLSX) into rows: tolerant headers and one cell reader per column, with what is
wrong with each cell. The look-ups (numbers, serials, readers to ids) are in reading_lookups.py. The columns are the
one table COLUMNS below; docs/metering-imports.md is the operator's guide."""

import csv
import dataclasses
import datetime
import functools
import io
import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mita.metering.errors import MeteringError
from mita.metering.models import Reading
from mita.metering.validation import cycle_bounds, cycle_of

MAX_FILE_BYTES = 30 * 1024 * 1024
MAX_ROWS = 200_000
XLSX_MAGIC = b"PK\x03\x04"
LARGEST_INDEX = Decimal(10) ** 13  # the Reading's indexes hold 16 digits, 3 of them decimals


class ReadingFileError(MeteringError):
    """The file as a whole cannot be read (format, encoding, columns): nothing was saved."""


@dataclasses.dataclass(frozen=True)
class Column:
    key: str
    label: Promise  # what to write, for the upload page and the docs
    aliases: tuple[str, ...] = ()
    example: str = ""


# fmt: off
COLUMNS: tuple[Column, ...] = (
    Column("connection_number", gettext_lazy("Connection number (or give the meter serial)"), ("connection", "connection_no", "connection_id", "account", "account_number", "account_no"), "AAL-0001"),
    Column("meter_serial", gettext_lazy("Meter serial number (or give the connection number)"), ("meter", "serial", "serial_number", "serial_no", "meter_number", "meter_no", "meter_serial_number"), "30001"),
    Column("brand", gettext_lazy("Meter brand, when two brands share a serial (optional)"), ("meter_brand", "make"), ""),
    Column("register", gettext_lazy("Register (empty: main)"), ("reg", "register_code"), "main"),
    Column("index", gettext_lazy("Index read on the dial (empty when not read: then a reader's code)"), ("reading", "current_index", "current_reading", "meter_reading", "new_index", "value"), "1234.5"),
    Column("read_on", gettext_lazy("Read date: 2026-10-28 or 28/10/2026"), ("read_date", "date", "reading_date", "date_read", "read_at"), "2026-10-28"),
    Column("cycle", gettext_lazy("Cycle YYYY-MM (empty: the month of the read date)"), ("period", "billing_cycle", "month"), "2026-10"),
    Column("reader_code", gettext_lazy("Reader's code when not read: no_access, dog, meter_broken, ... (optional)"), ("code", "reader_s_code", "readers_code", "remark_code", "obs_code"), ""),
    Column("reader", gettext_lazy("Reader: phone or name of a user of your operator (optional)"), ("reader_phone", "reader_name", "read_by", "meter_reader"), ""),
    Column("note", gettext_lazy("Note (optional)"), ("notes", "comment", "comments", "remark", "remarks"), ""),
)
# fmt: on
# Columns the reading book export writes for the reader's benefit; an import reads past them.
BOOK_ONLY = ("route", "sequence", "customer", "previous_index", "previous_date", "unit")
COLUMN_KEYS = tuple(column.key for column in COLUMNS)
ALIASES = {alias: column.key for column in COLUMNS for alias in column.aliases} | {key: key for key in COLUMN_KEYS}
READER_CODE_ALIASES = {
    "na": "no_access",
    "noaccess": "no_access",
    "closed": "locked",
    "gate_locked": "locked",
    "broken": "meter_broken",
    "buried": "meter_buried",
    "covered": "meter_buried",
    "unreadable": "dial_unreadable",
    "fogged": "dial_unreadable",
    "dog_present": "dog",
}


@dataclasses.dataclass(slots=True)
class FileRow:
    """One line of the file, as read, then as resolved (ids), with what is wrong with it."""

    number: int
    connection_number: str
    meter_serial: str
    brand: str
    register: str
    index: Decimal | None
    read_on: datetime.date | None
    cycle: str
    reader_code: str
    reader: str
    note: str
    errors: list[dict[str, str]]
    blank: bool = False  # neither an index nor a reader's code: a connection of the book not read
    connection_id: int | None = None
    meter_id: int | None = None
    reader_id: int | None = None
    installation_id: int | None = None  # the installation the check found for the row

    def error(self, column: str, message: Any) -> None:
        self.errors.append({"column": column, "message": str(message)})

    @property
    def ok(self) -> bool:
        return not self.errors and not self.blank


@dataclasses.dataclass
class ReadingFile:
    """A file read as far as its records (each a list of cell texts, after the header); `rows` makes them rows."""

    file_format: str
    columns: list[str]
    ignored_columns: list[str]
    records: list[list[str]]
    first_number: int  # records[0]'s number in the file (whose records are numbered from 1, the header's too)
    # Each column's position in a record, a missing column's the one past the header's last: a record is padded with
    # empty cells to there (`width`), so that every cell is read by position (no dict per row).
    at: tuple[int, ...]
    width: int
    today: datetime.date

    def rows(self, start: int = 0, stop: int | None = None) -> list[FileRow]:
        """The rows of records[start:stop] (all by default) with their cells read; blank records are not rows."""
        at, width, today = self.at, self.width, self.today
        rows: list[FileRow] = []
        for number, record in enumerate(self.records[start:stop], start=self.first_number + start):
            cells = [cell.strip() for cell in record]
            if not any(cells):
                continue
            if len(cells) < width:
                cells += [""] * (width - len(cells))
            rows.append(_row(number, [cells[position] for position in at], today))
        return rows


# Records: lists of cell texts --------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    """An XLSX cell as the text a CSV would hold (dates as ISO, whole numbers without .0)."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _records_csv(content: bytes) -> Iterator[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReadingFileError(
            _("The file is not in UTF-8. Save it as “CSV UTF-8” (or as XLSX) and upload it again."),
            code="import_encoding",
        ) from None
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _records_xlsx(content: bytes) -> Iterator[list[str]]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged file
        raise ReadingFileError(
            _("This XLSX file cannot be opened. Save it again from your spreadsheet, or save it as CSV UTF-8."),
            code="import_xlsx_invalid",
        ) from None
    try:
        for values in workbook.worksheets[0].iter_rows(values_only=True):
            yield [_cell(value) for value in values]
    finally:
        workbook.close()


HEADER_CLEAN = re.compile(r"[^a-z0-9]+")


def header_key(raw: Any) -> str:
    """A header as typed (“Meter Serial”, "meter-serial", "METER_SERIAL ") -> its column key, or its cleaned text."""
    key = HEADER_CLEAN.sub("_", str(raw or "").strip().casefold()).strip("_")
    return ALIASES.get(key, key)


def _header(record: list[str]) -> tuple[list[str], list[str]]:
    """The key of each position ("" for a column read past) and the columns read past, as written."""
    keys: list[str] = []
    ignored: list[str] = []
    for raw in record:
        key = header_key(raw)
        if key in COLUMN_KEYS:
            if key in keys:
                raise ReadingFileError(
                    _("The column “%(column)s” appears twice: keep one.") % {"column": str(raw).strip()},
                    code="import_columns",
                )
            keys.append(key)
        else:
            keys.append("")
            if key and key not in BOOK_ONLY:
                ignored.append(str(raw).strip())
    missing = []
    if "connection_number" not in keys and "meter_serial" not in keys:
        missing.append(_("connection_number or meter_serial"))
    missing += [key for key in ("index", "read_on") if key not in keys]
    if missing:
        raise ReadingFileError(
            _("Required columns are missing: %(missing)s. Name them as in the template (%(known)s).")
            % {"missing": ", ".join(missing), "known": ", ".join(COLUMN_KEYS)},
            code="import_columns",
        )
    return keys, ignored


# Cells ---------------------------------------------------------------------------------------------------------------


def _index(text: str, row: FileRow) -> Decimal | None:
    if not text:
        return None
    if "," in text:
        row.error("index", _("Write the index with a dot for decimals and no thousands separator, e.g. 1234.5."))
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        row.error("index", _("Write the index as a number, e.g. 1234 or 1234.5."))
        return None
    if not value.is_finite():
        row.error("index", _("Write the index as a number, e.g. 1234 or 1234.5."))
    elif value < 0:
        row.error("index", _("An index is never negative: write the number on the dial."))
    elif value >= LARGEST_INDEX or _decimals(text, value) > 3:
        row.error("index", _("Write the index with at most 13 digits before the dot and 3 after it."))
    else:
        return value
    return None


def _decimals(text: str, value: Decimal) -> int:
    """How many decimals `value`, read from `text`, has: from the text where it is plain digits and a dot (a tenth of
    the cost of Decimal.as_tuple, which spells out every digit), from the value otherwise (1e-4)."""
    if "e" in text or "E" in text:
        return -value.as_tuple().exponent  # type: ignore[operator]
    dot = text.find(".")
    return 0 if dot < 0 else len(text) - dot - 1


DAY_FIRST = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


def _date(text: str, row: FileRow, today: datetime.date) -> datetime.date | None:
    if not text:
        return None
    try:
        day = datetime.date.fromisoformat(text[:10])
    except ValueError:
        match = DAY_FIRST.match(text.split(" ", 1)[0])
        try:
            if match is None:
                raise ValueError(text)
            day = datetime.date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
        except ValueError:
            row.error("read_on", _("Write the date as year-month-day (2026-10-28) or day/month/year (28/10/2026)."))
            return None
    if day > today:
        row.error("read_on", _("This date is in the future: write the day the meter was read."))
        return None
    return day


READER_CODES = {
    **{str(value).casefold(): str(value) for value, _label in Reading.ReaderCode.choices if value},
    **{str(value).replace("_", " "): str(value) for value, _label in Reading.ReaderCode.choices if value},
    **READER_CODE_ALIASES,
}


def _reader_code(text: str, row: FileRow) -> str:
    if not text:
        return ""
    folded = text.casefold()
    code = READER_CODES.get(folded) or READER_CODES.get(HEADER_CLEAN.sub("_", folded).strip("_"))
    if code is None:
        for value, label in Reading.ReaderCode.choices:
            if value and str(label).casefold() == folded:
                return str(value)
        known = ", ".join(value for value, _label in Reading.ReaderCode.choices if value)
        row.error("reader_code", _("Write one of these codes: %(known)s.") % {"known": known})
        return ""
    return code


_cycle_of = functools.lru_cache(maxsize=4096)(cycle_of)  # a file's rows share a few dates


def _cycle(text: str, row: FileRow) -> str:
    if not text:
        return _cycle_of(row.read_on) if row.read_on else ""
    try:
        cycle_bounds(text)
    except ValueError:
        row.error("cycle", _("Write the cycle as a month: YYYY-MM, e.g. 2026-10."))
        return ""
    return text


# The file ------------------------------------------------------------------------------------------------------------


def reading_file_read(*, file_name: str, content: bytes) -> ReadingFile:
    """The file's header and records (no row read yet, no look-up); a file that cannot be read raises."""
    if not content.strip():
        raise ReadingFileError(_("The file is empty."), code="import_empty")
    if len(content) > MAX_FILE_BYTES:
        raise ReadingFileError(
            _("The file is larger than 30 MB: split it into several files."), code="import_too_large"
        )
    is_xlsx = content.startswith(XLSX_MAGIC)
    if file_name.lower().endswith(".xls") and not is_xlsx:
        raise ReadingFileError(
            _("Old Excel files (.xls) are not read: save the sheet as XLSX or CSV UTF-8."), code="import_format"
        )
    records = iter(_records_xlsx(content) if is_xlsx else _records_csv(content))
    keys: list[str] | None = None
    ignored: list[str] = []
    header_number = 0
    for number, record in enumerate(records, start=1):
        if _filled(record):
            keys, ignored = _header(record)
            header_number = number
            break
    if keys is None:
        raise ReadingFileError(_("The file has no header row."), code="import_no_header")
    rest = list(records)
    if len(rest) > MAX_ROWS and sum(1 for record in rest if _filled(record)) > MAX_ROWS:
        raise ReadingFileError(
            _("The file has more than %(max)s rows: split it into several files.") % {"max": MAX_ROWS},
            code="import_too_many_rows",
        )
    if not any(_filled(record) for record in rest):
        raise ReadingFileError(_("The file has a header but no rows of readings."), code="import_no_rows")
    width = len(keys) + 1
    return ReadingFile(
        file_format="xlsx" if is_xlsx else "csv",
        columns=[key for key in keys if key],
        ignored_columns=ignored,
        records=rest,
        first_number=header_number + 1,
        at=tuple(keys.index(key) if key in keys else width - 1 for key in COLUMN_KEYS),
        width=width,
        today=timezone.localdate(),
    )


def _filled(record: list[str]) -> bool:
    return any(str(cell).strip() for cell in record)


def _row(number: int, values: list[str], today: datetime.date) -> FileRow:
    """A row from its cells in the order of COLUMNS."""
    connection_number, meter_serial, brand, register, index_text, date_text, cycle, reader_code, reader, note = values
    row = FileRow(
        number=number,
        connection_number=connection_number[:64],
        meter_serial=meter_serial[:60],
        brand=brand,
        register=register or "main",
        index=None,
        read_on=None,
        cycle="",
        reader_code="",
        reader=reader,
        note=note,
        errors=[],
    )
    row.reader_code = _reader_code(reader_code, row)
    if not index_text and not row.reader_code and not row.errors:
        # A connection of a reading book left empty: not read, nothing to record (counted, not an error).
        row.blank = True
        return row
    row.index = _index(index_text, row)
    row.read_on = _date(date_text, row, today)
    if not date_text:
        row.error("read_on", _("Write the date the meter was read."))
    row.cycle = _cycle(cycle, row)
    if not row.connection_number and not row.meter_serial:
        row.error("connection_number", _("Write the connection number or the meter serial number."))
    if len(row.note) > 500:
        row.error("note", _("Shorten the note to 500 characters."))
    return row
