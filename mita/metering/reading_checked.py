"""What a file's check found, kept on the import (`ReadingImport.checked`) for the run to record without reading and
looking the file up again, and held by column while it is recorded: one list per field of the good rows, the rows with
errors apart. By column, not as a row object each: the encoder writes long lists of plain values in C where a list per
row cost Python twice over, and recording 100,000 rows then makes no object per row in the process that shares the
chunks out, only in the processes recording them (docs/metering-imports.md, "Eleventh round" and "Thirteenth round")."""

import datetime
import json
import zlib
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from mita.metering.reading_files import FileRow
from mita.metering.readings import ReadingInput

VERSION = 3  # of the kept layout; another version is read as none (the file is checked again)

# The fields of a good row kept, in FileRow's own order: those before its errors, and its ids after them.
_BEFORE = (
    "number",
    "connection_number",
    "meter_serial",
    "brand",
    "register",
    "index",
    "read_on",
    "cycle",
    "reader_code",
    "reader",
    "note",
)
_AFTER = ("connection_id", "meter_id", "reader_id", "installation_id")
FIELDS = (*_BEFORE, *_AFTER)


def reading_key(connection_id: int, register: str, read_on: datetime.date) -> str:
    """The idempotency key of a file's row: the same connection, register and read date is the same reading."""
    return f"file:{connection_id}:{register}:{read_on.isoformat()}"


def _each_once(convert: Callable[[Any], Any], values: list[Any]) -> list[Any]:
    """`values` converted, each distinct one once and None kept: a file's rows share a few dates, and the list is
    made by one C call where a comprehension calls per row."""
    done = {value: convert(value) for value in set(values) - {None}}
    done[None] = None
    return list(map(done.__getitem__, values))


class Checked:
    """A checked file's good rows by column (`index` a Decimal or None, `read_on` a date; row k is every column's
    k-th value) and its rows with errors, as reported."""

    def __init__(self, columns: dict[str, list[Any]], errors: list[FileRow]) -> None:
        self.columns = columns
        self.errors = errors

    @classmethod
    def of(cls, rows: Iterable[FileRow]) -> "Checked":
        """The good rows of these (neither blank nor with errors) by column, and those with errors."""
        rows = list(rows)
        good = [row for row in rows if row.ok]
        return cls({name: [getattr(row, name) for row in good] for name in FIELDS}, [row for row in rows if row.errors])

    @classmethod
    def joined(cls, shares: Sequence["Checked"]) -> "Checked":
        """Shares of one file checked apart (in file order) as one."""
        return cls(
            {name: [value for share in shares for value in share.columns[name]] for name in FIELDS},
            [row for share in shares for row in share.errors],
        )

    def duplicates_refused(self) -> None:
        """A good row of the same connection, register and date as an earlier one, with another index, cycle or
        reader's code, is an error (two readings of one meter on one day: keep one); it joins the rows with errors.
        The same reading twice stays (recorded once)."""
        columns = self.columns
        numbers, indexes, cycles, codes = columns["number"], columns["index"], columns["cycle"], columns["reader_code"]
        first: dict[tuple[int, str, datetime.date], int] = {}
        twice: list[tuple[int, int]] = []  # (position, position of the first)
        for k, same in enumerate(zip(columns["connection_id"], columns["register"], columns["read_on"], strict=True)):
            j = first.setdefault(same, k)
            if j != k and (indexes[j], cycles[j], codes[j]) != (indexes[k], cycles[k], codes[k]):
                twice.append((k, j))
        if not twice:
            return
        for k, j in twice:
            row = self.row(k)
            row.error(
                "index",
                _("Row %(row)s has another reading of this connection and register on the same date: keep one.")
                % {"row": numbers[j]},
            )
            self.errors.append(row)
        self.errors.sort(key=lambda row: row.number)
        gone = {k for k, _j in twice}
        kept = [k for k in range(len(self)) if k not in gone]
        self.columns = {name: [values[k] for k in kept] for name, values in columns.items()}

    def __getstate__(self) -> dict[str, Any]:
        """As pickled from a forked process (reading_imports._checked): indexes as text and dates as day numbers,
        which pickle in a tenth of the time (a Decimal or a date is a call each way)."""
        columns = dict(self.columns)
        columns["index"] = [None if index is None else str(index) for index in columns["index"]]
        columns["read_on"] = [day.toordinal() for day in columns["read_on"]]
        return {"columns": columns, "errors": self.errors}

    def __setstate__(self, state: dict[str, Any]) -> None:
        columns = state["columns"]
        columns["index"] = _each_once(Decimal, columns["index"])
        columns["read_on"] = _each_once(datetime.date.fromordinal, columns["read_on"])
        self.columns, self.errors = columns, state["errors"]

    def __len__(self) -> int:
        return len(self.columns["number"])

    def row(self, position: int) -> FileRow:
        """The good row at `position`, as a FileRow of its own (changing it changes no column)."""
        row = FileRow(**{name: self.columns[name][position] for name in _BEFORE}, errors=[])
        row.connection_id, row.meter_id, row.reader_id, row.installation_id = (
            self.columns[name][position] for name in _AFTER
        )
        return row

    def place(self, position: int, row: FileRow) -> None:
        """Put a row looked up again back at its position (its ids may have changed)."""
        for name in _AFTER:
            self.columns[name][position] = getattr(row, name)

    def inputs(self, positions: Sequence[int], *, installation_checked: bool) -> list[ReadingInput]:
        """The rows at `positions` for readings_record. `installation_checked`: each with the installation the check
        found, for readings_record to refuse it (installation_changed) when its meter changed since."""
        columns = self.columns
        connection_ids, indexes, days = columns["connection_id"], columns["index"], columns["read_on"]
        registers, cycles, codes, notes = columns["register"], columns["cycle"], columns["reader_code"], columns["note"]
        reader_ids, meter_ids, installation_ids = columns["reader_id"], columns["meter_id"], columns["installation_id"]
        return [
            ReadingInput(
                connection_id=connection_ids[k],
                current_index=indexes[k],
                read_on=days[k],
                register=registers[k],
                cycle=cycles[k],
                reader_code=codes[k],
                key=reading_key(connection_ids[k], registers[k], days[k]),
                reader_id=reader_ids[k],
                meter_id=meter_ids[k],
                note=notes[k],
                installation_id=installation_ids[k] if installation_checked else None,
            )
            for k in positions
        ]

    def kept(self) -> bytes:
        """The compressed JSON ReadingImport.checked keeps: each column a list, or {"all": value} when every row has
        the same value (most of a file's columns: its register, cycle, empty serials and notes), which JSON writes
        and reads once instead of once per row."""
        columns: dict[str, Any] = {}
        for name, values in self.columns.items():
            if name == "index":
                values = [None if index is None else str(index) for index in values]
            elif name == "read_on":
                values = _each_once(datetime.date.isoformat, values)
            columns[name] = {"all": values[0]} if values and values.count(values[0]) == len(values) else values
        errors = [[row.number, row.connection_number, row.meter_serial, row.errors] for row in self.errors]
        text = json.dumps(
            {"version": VERSION, "rows": len(self), "good": columns, "errors": errors}, separators=(",", ":")
        )
        return zlib.compress(text.encode(), 1)

    @classmethod
    def read(cls, kept: bytes) -> "Checked | None":
        """What `kept` wrote, or None when there is nothing kept or it has another layout."""
        if not kept:
            return None
        found = json.loads(zlib.decompress(kept))
        if found.get("version") != VERSION:
            return None
        count = found["rows"]
        columns = {
            name: [values["all"]] * count if isinstance(values, dict) else values
            for name, values in found["good"].items()
        }
        columns["index"] = _each_once(Decimal, columns["index"])
        columns["read_on"] = _each_once(datetime.date.fromisoformat, columns["read_on"])
        errors = [
            FileRow(number, connection_number, meter_serial, "", "", None, None, "", "", "", "", errors)
            for number, connection_number, meter_serial, errors in found["errors"]
        ]
        return cls(columns, errors)
