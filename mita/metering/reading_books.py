"""Reading books for external handhelds: per route (or every route) and cycle, the connections to read in their
reading sequence with their meter, register and previous index, and empty columns for the index, the date, the
reader's code and a note. The file comes back through the readings import as it is (docs/metering-imports.md)."""

import csv
import io
from typing import Any

from django.utils.translation import gettext as _

from mita.metering.errors import MeteringError
from mita.metering.models import MeterState
from mita.metering.validation import cycle_bounds

BOOK_COLUMNS = (
    "route",
    "sequence",
    "connection_number",
    "customer",
    "meter_serial",
    "brand",
    "register",
    "previous_index",
    "previous_date",
    "cycle",
    "index",
    "read_on",
    "reader_code",
    "reader",
    "note",
)


def cycle_clean(cycle: str) -> str:
    cycle = (cycle or "").strip()
    try:
        cycle_bounds(cycle)
    except ValueError:
        raise MeteringError(
            _("Write the cycle as a month: YYYY-MM, e.g. 2026-10."),
            code="cycle_invalid",
            fields={"cycle": [_("YYYY-MM")]},
        ) from None
    return cycle


def reading_book_rows(*, operator: Any, cycle: str, route: Any = None) -> list[list[Any]]:
    """The book's rows (values in BOOK_COLUMNS order): every register of every connection with a meter installed,
    on the route (or on any route, then those on none), by route, reading sequence and connection number."""
    cycle = cycle_clean(cycle)
    states = MeterState.objects.filter(operator=operator, installation__isnull=False).exclude(
        connection__status="terminated"
    )
    if route is not None:
        states = states.filter(connection__route=route)
    values = states.order_by().values_list(
        "connection__route__code",
        "connection__reading_sequence",
        "connection__number",
        "connection__customer__name",
        "installation__meter__serial",
        "installation__meter__brand",
        "register",
        "last_index",
        "last_read_on",
    )
    rows = [
        [
            route_code or "",
            sequence or "",
            number,
            customer,
            serial,
            brand,
            register,
            format(last_index.normalize(), "f"),
            last_read_on.isoformat(),
            cycle,
            "",
            "",
            "",
            "",
            "",
        ]
        for route_code, sequence, number, customer, serial, brand, register, last_index, last_read_on in values
    ]
    # Routes first (no route last), then the reader's order along the route, then the number.
    rows.sort(key=lambda row: (row[0] == "", row[0], row[1] == "", row[1] or 0, row[2], row[6] != "main", row[6]))
    return rows


def reading_book_csv(*, operator: Any, cycle: str, route: Any = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(BOOK_COLUMNS)
    writer.writerows(reading_book_rows(operator=operator, cycle=cycle, route=route))
    return "\ufeff" + out.getvalue()  # a BOM, so that spreadsheets open it as UTF-8


def reading_book_xlsx(*, operator: Any, cycle: str, route: Any = None) -> bytes:
    import openpyxl

    rows = reading_book_rows(operator=operator, cycle=cycle, route=route)
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("readings")
    sheet.append(list(BOOK_COLUMNS))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def reading_book_name(*, cycle: str, route: Any = None, file_format: str = "csv") -> str:
    where = route.code if route is not None else "all-routes"
    return f"reading-book-{where}-{cycle}.{file_format}"
