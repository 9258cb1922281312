"""Look-ups for a file of readings: connection numbers, meter serials, registers and readers turned into ids with one
query per look-up for the whole file (`= ANY` of one array on PostgreSQL), never one per row; and what is wrong with a
row once they are known (docs/metering-imports.md, "What the check says")."""

import datetime
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models.functions import Upper
from django.utils.translation import gettext as _

from mita.accounts.phones import normalize_phone
from mita.accounts.selectors import users_of_operator
from mita.core.bulk import IN_CHUNK, among
from mita.metering.models import Installation, Meter, Register
from mita.metering.reading_files import FileRow


class Placed(NamedTuple):
    """A meter installed on a connection, as a row needs it (a tuple: made straight from the query's rows, 100,000
    of them in a large file, where a frozen dataclass cost a second)."""

    installation_id: int
    connection_id: int
    connection_number: str
    meter_id: int
    serial: str
    brand: str
    installed_on: datetime.date


# Without arrays (SQLite), a long list goes as chunks of IN, and where no index serves the column (a connection number
# in any case) each chunk reads all the operator's installations again: 112 reads for 100,000 numbers. Past this many
# values they are read once and picked here.
SCAN_PAST = 5 * IN_CHUNK


def _installations(operator: Any, field: str, values: list[Any]) -> Iterator[Placed]:
    fields = (
        "pk",
        "connection_id",
        "connection__number",
        "meter_id",
        "meter__serial",
        "meter__brand",
        "installed_on",
    )
    installations = Installation.objects.filter(operator=operator, removed_on__isnull=True).order_by()
    if field == "number_upper":
        installations = installations.annotate(number_upper=Upper("connection__number"))
    if len(values) > SCAN_PAST and connections[installations.db].vendor != "postgresql":
        wanted = set(values)
        for found in installations.values_list(field, *fields):
            if found[0] in wanted:
                yield Placed._make(found[1:])
        return
    for narrowed in among(installations, field, values):
        for found in narrowed.values_list(*fields):
            yield Placed._make(found)


def rows_resolve(*, operator: Any, rows: list[FileRow]) -> None:
    """Find each row's connection, meter and reader (ids, in place) and add what is wrong: unknown numbers or
    serials, a meter not installed or not the one on the connection, a date before the installation. (Two readings of
    one connection, register and date are found among the good rows: Checked.duplicates_refused.)"""
    readable = [row for row in rows if not row.errors and not row.blank]
    _registers_check(operator, readable)
    by_number = _installed_by_number(operator, readable)
    by_serial = _installed_by_serial(operator, readable)
    readers = _Readers(operator) if any(row.reader for row in readable) else None
    for row in readable:
        placed = _row_place(row, by_number, by_serial)
        if placed is None:
            continue
        assert row.read_on is not None
        if row.read_on < placed.installed_on:
            row.error(
                "read_on",
                _("Meter %(serial)s was installed on %(day)s, after this date: check the date.")
                % {"serial": placed.serial, "day": placed.installed_on.isoformat()},
            )
        if row.reader and readers is not None:
            row.reader_id = readers.find(row)


def _row_place(
    row: FileRow,
    by_number: dict[str, Placed],
    by_serial: dict[str, list[Placed]],
) -> Placed | None:
    """The installation the row is about, or None with the row's error said."""
    placed: Placed | None = None
    if row.meter_serial:
        found = by_serial.get(row.meter_serial.upper(), [])
        if row.brand:
            found = [placed for placed in found if placed.brand.upper() == row.brand.upper()]
        if len(found) > 1:
            row.error("brand", _("Meters of several brands have this serial: write the brand."))
            return None
        if found:
            placed = found[0]
        elif not row.connection_number:
            row.error(
                "meter_serial",
                _("No meter with this serial is installed on a connection of your operator: check the serial."),
            )
            return None
    if row.connection_number:
        on_connection = by_number.get(row.connection_number.upper())
        if on_connection is None:
            row.error(
                "connection_number",
                _("No connection of yours with this number has a meter installed: check the number."),
            )
            return None
        if row.meter_serial and (placed is None or placed.meter_id != on_connection.meter_id):
            row.error(
                "meter_serial",
                _("The meter installed on %(number)s is %(serial)s, not this one: check the serial or the connection.")
                % {"number": on_connection.connection_number, "serial": on_connection.serial},
            )
            return None
        placed = on_connection
    assert placed is not None
    row.connection_id, row.connection_number = placed.connection_id, placed.connection_number
    row.installation_id = placed.installation_id
    if row.meter_serial:
        row.meter_id = placed.meter_id
    return placed


def _installed_by_number(operator: Any, rows: list[FileRow]) -> dict[str, Placed]:
    numbers = sorted({row.connection_number.upper() for row in rows if row.connection_number})
    return {placed.connection_number.upper(): placed for placed in _installations(operator, "number_upper", numbers)}


def _installed_by_serial(operator: Any, rows: list[FileRow]) -> dict[str, list[Placed]]:
    serials = sorted({row.meter_serial.upper() for row in rows if row.meter_serial})
    meters = Meter.objects.filter(operator=operator).annotate(serial_upper=Upper("serial")).order_by()
    meter_ids = [
        meter_id
        for narrowed in among(meters, "serial_upper", serials)
        for meter_id in narrowed.values_list("pk", flat=True)
    ]
    found: dict[str, list[Placed]] = {}
    for placed in _installations(operator, "meter_id", meter_ids):
        found.setdefault(placed.serial.upper(), []).append(placed)
    return found


def _registers_check(operator: Any, rows: list[FileRow]) -> None:
    """Registers as the operator's meter models name them, whatever the case in the file."""
    if all(row.register == "main" for row in rows):
        return
    codes = {
        code.casefold(): code
        for code in Register.objects.filter(meter_model__operator=operator).values_list("code", flat=True).distinct()
    }
    codes.setdefault("main", "main")
    for row in rows:
        code = codes.get(row.register.casefold())
        if code is None:
            row.error(
                "register",
                _("No meter model of yours has the register “%(register)s”: write one of %(known)s.")
                % {"register": row.register, "known": ", ".join(sorted(codes.values()))},
            )
        else:
            row.register = code


class _Readers:
    """The operator's users by phone and by name, read once per file."""

    def __init__(self, operator: Any) -> None:
        self.by_phone: dict[str, int] = {}
        self.by_name: dict[str, list[int]] = {}
        for user_id, phone, name in users_of_operator(operator_id=operator.pk).values_list("pk", "phone", "name"):
            self.by_phone[phone] = user_id
            self.by_name.setdefault(name.strip().casefold(), []).append(user_id)
        self.phones: dict[str, str] = {}

    def find(self, row: FileRow) -> int | None:
        found = self.id_of(row.reader)
        if found == AMBIGUOUS:
            row.error("reader", _("Several users have this name: write the reader's phone instead."))
            return None
        if found is None:
            row.error(
                "reader",
                _("No user of your operator has this phone or name: correct it, or leave the reader empty."),
            )
        return found

    def id_of(self, text: str) -> int | None:
        """The user written as `text` (name or phone); None when no one, AMBIGUOUS when several have that name."""
        named = self.by_name.get(text.casefold(), [])
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            return AMBIGUOUS
        if any(character.isdigit() for character in text):
            if text not in self.phones:
                try:
                    self.phones[text] = normalize_phone(text)
                except ValidationError:
                    self.phones[text] = ""
            return self.by_phone.get(self.phones[text])
        return None


AMBIGUOUS = -1  # not a user's id


def rows_changed_since(
    *, operator: Any, readers: Sequence[str], reader_ids: Sequence[int | None], registers: Sequence[str]
) -> list[int]:
    """Of rows resolved by an earlier check, given by column (each row's reader as written, the id it resolved to,
    its register), the positions of those whose reader or register no longer resolves to what it did (a user left
    the operator, a meter model's register was renamed): to be checked again. Each distinct reader and register is
    looked at once. Their installations are checked by readings_record itself (ReadingInput.installation_id), under
    the meter states' locks."""
    changed: set[int] = set()
    written = set(readers) - {""}
    if written:
        users = _Readers(operator)
        now = {reader: users.id_of(reader) for reader in written}
        changed.update(
            k
            for k, (reader, reader_id) in enumerate(zip(readers, reader_ids, strict=True))
            if reader and now[reader] != reader_id
        )
    others = set(registers) - {"main"}
    if others:
        gone = others - set(Register.objects.filter(meter_model__operator=operator).values_list("code", flat=True))
        changed.update(k for k, register in enumerate(registers) if register in gone)
    return sorted(changed)
