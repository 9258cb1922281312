"""Bulk import of customers and their connections from CSV or XLSX: read, preview (judge every row, write no
customer), then import (idempotent by connection number, each row in its own savepoint). docs/customers.md
"Bulk import" is the operator's guide; the columns are the one table IMPORT_COLUMNS below."""

import csv
import dataclasses
import datetime
import io
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mita.core.audit import audit_record, audit_record_many, snapshot
from mita.core.errors import Conflict, DomainError
from mita.core.jobs import job_advance, job_create, job_fail, job_finish, job_start
from mita.core.sequences import sequence_advance, sequence_claim
from mita.customers.models import (
    Connection,
    ConnectionHolding,
    Customer,
    CustomerStatusChange,
    ImportBatch,
    ImportRow,
    SearchTerm,
)
from mita.customers.search import connection_term, customer_terms_of
from mita.customers.services import (
    CONTACT_FIELDS,
    CUSTOMER_SEQUENCE,
    CustomerError,
    bank_check,
    connection_create,
    connection_fields_problems,
    connection_number_clean,
    connection_supply_clean,
    customer_contacts_clean,
    customer_create,
    customer_number,
    degrees,
)
from mita.ledger import services as ledger
from mita.registry.models import Boundary, Cluster, SupplySystem

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
CHUNK_ROWS = 500  # rows per transaction in a run: progress shows between chunks; a crash loses at most one chunk
LOOKUP_CHUNK = 900  # values per IN (...) (SQLite's old limit is 999)
XLSX_MAGIC = b"PK\x03\x04"


class ImportFileError(CustomerError):
    """The file as a whole cannot be read (format, encoding, columns): nothing was saved."""


class ImportCellError(Exception):
    """One cell cannot be read; the message says what to write instead."""


# Reading one cell (text as read from the file) into the value the services take ---------------------------------


@dataclasses.dataclass
class Lookups:
    """What cells name by code or name (districts, supply systems, clusters), read once per file, not per row."""

    districts_by_code: dict[str, Boundary]
    districts_by_name: dict[str, list[Boundary]]
    supply_systems: dict[str, SupplySystem]
    clusters: dict[str, Cluster]
    operator_district_ids: set[int]
    district_ids: frozenset[int]

    @classmethod
    def load(cls, operator: Any) -> "Lookups":
        by_code: dict[str, Boundary] = {}
        by_name: dict[str, list[Boundary]] = {}
        for district in Boundary.objects.districts():
            by_code[district.code.casefold()] = district
            by_name.setdefault(district.name.casefold(), []).append(district)
        return cls(
            districts_by_code=by_code,
            districts_by_name=by_name,
            supply_systems={
                system.code.casefold(): system for system in SupplySystem.objects.select_related("cluster")
            },
            clusters={cluster.code.casefold(): cluster for cluster in Cluster.objects.all()},
            operator_district_ids=set(operator.districts.values_list("pk", flat=True)),
            district_ids=frozenset(district.pk for district in by_code.values()),
        )


def _text(cell: str, lookups: Lookups) -> str:
    return cell.strip()


def _choice(choices: Any, default: str = "", aliases: dict[str, str] | None = None) -> Callable[[str, Lookups], str]:
    """A value of a TextChoices, written as its code (`public_tap`) or its label (`Public tap`), any case."""

    def read(cell: str, lookups: Lookups) -> str:
        text = cell.strip().casefold()
        if not text:
            return default
        text = (aliases or {}).get(text, text)
        for value, label in choices.choices:
            if value and text in {value.casefold(), str(label).casefold(), value.casefold().replace("_", " ")}:
                return str(value)
        known = ", ".join(value for value, _label in choices.choices if value)
        raise ImportCellError(_("Write one of: %(known)s.") % {"known": known})

    return read


def _language(cell: str, lookups: Lookups) -> str:
    return cell.strip().lower()


def _boolean(cell: str, lookups: Lookups) -> bool:
    text = cell.strip().casefold()
    if text in {"", "yes", "y", "true", "1", "oui", "ndiyo"}:
        return True
    if text in {"no", "n", "false", "0", "non", "oya"}:
        return False
    raise ImportCellError(_("Write yes or no (empty means yes)."))


def _decimal(cell: str, lookups: Lookups) -> Decimal | None:
    text = cell.strip()
    if not text:
        return None
    if "," in text:
        raise ImportCellError(_("Write the number with a dot for decimals and no thousands separator, e.g. 1500.50."))
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ImportCellError(_("Write a number, e.g. 1500 or -1.9536.")) from None
    if not value.is_finite():
        raise ImportCellError(_("Write a number, e.g. 1500 or -1.9536."))
    return value


def _date(cell: str, lookups: Lookups) -> datetime.date | None:
    text = cell.strip()
    if not text:
        return None
    try:
        return datetime.date.fromisoformat(text[:10])
    except ValueError:
        raise ImportCellError(_("Write the date as year-month-day, e.g. 2025-12-31.")) from None


def _district(cell: str, lookups: Lookups) -> Boundary | None:
    text = cell.strip().casefold()
    if not text:
        return None
    if text in lookups.districts_by_code:
        return lookups.districts_by_code[text]
    named = lookups.districts_by_name.get(text, [])
    if len(named) > 1:  # the same name in two provinces: the one the operator serves, if only one
        named = [district for district in named if district.pk in lookups.operator_district_ids] or named
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise ImportCellError(_("Several districts have this name: write the district's code instead."))
    raise ImportCellError(_("No district has this name or code: write it as the district list shows it."))


def _supply_system(cell: str, lookups: Lookups) -> SupplySystem | None:
    text = cell.strip().casefold()
    if not text:
        return None
    if text not in lookups.supply_systems:
        raise ImportCellError(_("No supply system has this code: write the code shown on the supply systems page."))
    return lookups.supply_systems[text]


def _cluster(cell: str, lookups: Lookups) -> Cluster | None:
    text = cell.strip().casefold()
    if not text:
        return None
    if text not in lookups.clusters:
        raise ImportCellError(_("No cluster has this code: write the code shown on the clusters page."))
    return lookups.clusters[text]


# The columns: one line each. `target` says where the value goes: the customer's contacts, the connection, or
# "key" (the customer number that matches rows to a customer already registered). More columns (route, package,
# UPI) are one line each once their fields exist.


@dataclasses.dataclass(frozen=True)
class ImportColumn:
    key: str  # the header, as in the template
    label: Promise  # what it holds, for the template's notes and the docs
    target: str  # "customer" | "connection" | "key"
    field: str  # the services' keyword
    read: Callable[[str, Lookups], Any]
    required: bool = False
    example: str = ""
    aliases: tuple[str, ...] = ()


C, K, N = "customer", "key", "connection"

# fmt: off
IMPORT_COLUMNS: tuple[ImportColumn, ...] = (
    ImportColumn("customer_number", gettext_lazy("Customer number, if already registered (else empty)"), K, "number", _text),
    ImportColumn("kind", gettext_lazy("person or organisation (empty: person)"), C, "kind", _choice(Customer.Kind, Customer.Kind.PERSON, {"organization": "organisation"}), example="person"),
    ImportColumn("name", gettext_lazy("Name"), C, "name", _text, required=True, example="Jeanne Uwase"),
    ImportColumn("relative_name", gettext_lazy("Father's or spouse's name"), C, "relative_name", _text),
    ImportColumn("phone", gettext_lazy("Phone (local or +country)"), C, "phone", _text, required=True, example="0788123456"),
    ImportColumn("phone_2", gettext_lazy("Second phone"), C, "phone_2", _text, aliases=("second_phone",)),
    ImportColumn("id_type", gettext_lazy("ID type: national_id, passport, company, other"), C, "id_type", _choice(Customer.IdType), example="national_id"),
    ImportColumn("id_number", gettext_lazy("ID number"), C, "id_number", _text, example="1199080012345678"),
    ImportColumn("email", gettext_lazy("E-mail"), C, "email", _text, aliases=("e_mail",)),
    ImportColumn("language", gettext_lazy("Language code: en, fr, rw, hi, pa (empty: the operator's)"), C, "language", _language, example="rw"),
    ImportColumn("district", gettext_lazy("District, by name or code"), C, "district", _district),
    ImportColumn("village", gettext_lazy("Village"), C, "village", _text, example="Nyamata"),
    ImportColumn("street", gettext_lazy("Street"), C, "street", _text),
    ImportColumn("house", gettext_lazy("House"), C, "house", _text),
    ImportColumn("bank_name", gettext_lazy("Bank"), C, "bank_name", _text),
    ImportColumn("bank_account", gettext_lazy("Bank account number (with its bank)"), C, "bank_account", _text),
    ImportColumn("connection_number", gettext_lazy("Connection number (unique at your operator)"), N, "number", _text, required=True, example="AAL-0001"),
    ImportColumn("utility", gettext_lazy("water or electricity"), N, "utility", _choice(Connection.Utility), required=True, example="water"),
    ImportColumn("property_type", gettext_lazy("residential, commercial, institutional, public_tap, industrial, other"), N, "property_type", _choice(Connection.PropertyType), required=True, example="residential"),
    ImportColumn("connection_type", gettext_lazy("Connection type (a code)"), N, "connection_type", _text),
    ImportColumn("metered", gettext_lazy("Metered: yes or no (empty: yes)"), N, "metered", _boolean, example="yes"),
    ImportColumn("supply_system", gettext_lazy("Supply system code"), N, "supply_system", _supply_system),
    ImportColumn("cluster", gettext_lazy("Cluster code"), N, "cluster", _cluster),
    ImportColumn("latitude", gettext_lazy("Latitude, decimal degrees"), N, "latitude", _decimal, example="-2.1531"),
    ImportColumn("longitude", gettext_lazy("Longitude, decimal degrees"), N, "longitude", _decimal, example="30.0903"),
    ImportColumn("opening_arrears", gettext_lazy("Opening arrears in your currency (empty: none)"), N, "opening_arrears", _decimal, example="2500"),
    ImportColumn("arrears_as_of", gettext_lazy("Date the arrears were owed at, e.g. 2025-12-31"), N, "arrears_as_of", _date, example="2025-12-31"),
)
# fmt: on
COLUMNS_BY_KEY = {column.key: column for column in IMPORT_COLUMNS}
# A service's field name → the column that holds it (to put a service's error on the right column).
CUSTOMER_FIELD_COLUMN = {column.field: column.key for column in IMPORT_COLUMNS if column.target == "customer"}
CONNECTION_FIELD_COLUMN = {column.field: column.key for column in IMPORT_COLUMNS if column.target == "connection"}
# Compared with what is saved to tell "unchanged" from "conflict" (opening arrears are posted once, at creation).
CONNECTION_COMPARED = (
    "utility",
    "property_type",
    "connection_type",
    "metered",
    "supply_system",
    "cluster",
    "latitude",
    "longitude",
)


def _header_key(raw: Any) -> str:
    text = str(raw or "").strip().lstrip("\ufeff").casefold()
    for separator in (" ", "-", ".", "/"):
        text = text.replace(separator, "_")
    while "__" in text:
        text = text.replace("__", "_")
    return text.strip("_")


ALIASES = {alias: column.key for column in IMPORT_COLUMNS for alias in column.aliases}


# Reading the file -------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class ImportFile:
    file_format: str  # csv | xlsx
    columns: list[str]  # the column keys, in the file's order
    rows: list[tuple[int, dict[str, str]]]  # (spreadsheet row number, values by column key)


def _cell(value: Any) -> str:
    """An XLSX cell as the text a CSV would hold (dates as ISO, whole numbers without .0)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _records_csv(content: bytes) -> Iterator[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            _("The file is not in UTF-8. Save it as “CSV UTF-8” (or as XLSX) and upload it again."),
            code="import_encoding",
        ) from None
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _records_xlsx(content: bytes) -> Iterator[list[str]]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged file
        raise ImportFileError(
            _("This XLSX file cannot be opened. Save it again from your spreadsheet, or save it as CSV UTF-8."),
            code="import_xlsx_invalid",
        ) from None
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell(value) for value in values]
    finally:
        workbook.close()


def import_file_read(*, file_name: str, content: bytes) -> ImportFile:
    """The file's rows by column key; a file that cannot be read as a whole raises ImportFileError."""
    if not content.strip():
        raise ImportFileError(_("The file is empty."), code="import_empty")
    if len(content) > MAX_FILE_BYTES:
        raise ImportFileError(_("The file is larger than 20 MB: split it into several files."), code="import_too_large")
    is_xlsx = content.startswith(XLSX_MAGIC)
    if file_name.lower().endswith(".xls") and not is_xlsx:
        raise ImportFileError(
            _("Old Excel files (.xls) are not read: save the sheet as XLSX or CSV UTF-8."), code="import_format"
        )
    records = _records_xlsx(content) if is_xlsx else _records_csv(content)
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    for index, record in enumerate(records, start=1):
        if header is None:
            if not any(str(cell).strip() for cell in record):
                continue  # blank lines above the header
            header = _header(record)
            continue
        if not any(cell.strip() for cell in record):
            continue
        if len(rows) >= MAX_ROWS:
            raise ImportFileError(
                _("The file has more than %(max)s rows: split it into several files.") % {"max": MAX_ROWS},
                code="import_too_many_rows",
            )
        values = {
            key: (record[position].strip() if position < len(record) else "")
            for position, key in enumerate(header)
            if key
        }
        rows.append((index, values))
    if header is None:
        raise ImportFileError(_("The file has no header row."), code="import_no_header")
    if not rows:
        raise ImportFileError(_("The file has a header but no rows of customers."), code="import_no_rows")
    return ImportFile(file_format="xlsx" if is_xlsx else "csv", columns=[key for key in header if key], rows=rows)


def _header(record: list[str]) -> list[str]:
    keys: list[str] = []
    unknown: list[str] = []
    for raw in record:
        key = _header_key(raw)
        key = ALIASES.get(key, key)
        if key and key not in COLUMNS_BY_KEY:
            unknown.append(str(raw).strip())
        if key and key in keys:
            raise ImportFileError(
                _("The column “%(column)s” appears twice: keep one.") % {"column": raw}, code="import_columns"
            )
        keys.append(key)
    if unknown:
        raise ImportFileError(
            _("Unknown columns: %(unknown)s. Rename them as in the template (%(known)s) or delete them.")
            % {"unknown": ", ".join(unknown), "known": ", ".join(COLUMNS_BY_KEY)},
            code="import_columns",
        )
    missing = [column.key for column in IMPORT_COLUMNS if column.required and column.key not in keys]
    if missing:
        raise ImportFileError(
            _("Required columns are missing: %(missing)s. Add them as in the template.")
            % {"missing": ", ".join(missing)},
            code="import_columns",
        )
    return keys


# Judging the rows (the preview, and again at the start of the import) -------------------------------------------


@dataclasses.dataclass
class RowPlan:
    number: int
    values: dict[str, str]
    errors: list[dict[str, str]] = dataclasses.field(default_factory=list)
    outcome: str = ImportRow.Outcome.NEW
    customer_number: str = ""
    contacts: dict[str, Any] = dataclasses.field(default_factory=dict)
    connection: dict[str, Any] = dataclasses.field(default_factory=dict)
    connection_number: str = ""
    group: tuple[str, ...] = ()
    customer_id: int | None = None  # the customer already registered that the row's connection goes to
    connection_id: int | None = None  # the connection already there (unchanged or conflict)

    def error(self, column: str, message: Any) -> None:
        self.errors.append({"column": column, "message": str(message)})
        self.outcome = ImportRow.Outcome.ERROR


def _service_errors(plan: RowPlan, error: DomainError, field_columns: dict[str, str]) -> None:
    if not error.fields:
        plan.error("", error.message)
        return
    if isinstance(error, Conflict):  # its message names the number; the field's only says "already in use"
        plan.error(field_columns.get(next(iter(error.fields)), ""), error.message)
        return
    for field, messages in error.fields.items():
        column = field_columns.get(field, field)
        for message in messages:
            plan.error(column, message)


def _row_read(*, operator: Any, number: int, values: dict[str, str], lookups: Lookups, present: set[str]) -> RowPlan:
    """Read and check one row on its own, with the same checks the customer and connection services make."""
    plan = RowPlan(number=number, values=values)
    contacts: dict[str, Any] = {}
    connection: dict[str, Any] = {}
    for column in IMPORT_COLUMNS:
        if column.key not in present and not column.required:
            continue
        try:
            value = column.read(values.get(column.key, ""), lookups)
        except ImportCellError as error:
            plan.error(column.key, error)
            continue
        if column.target == "key":
            plan.customer_number = str(value).upper()
        elif column.target == "customer":
            contacts[column.field] = value
        else:
            connection[column.field] = value
    readable_contacts = {
        field: value for field, value in contacts.items() if not _failed(plan, CUSTOMER_FIELD_COLUMN[field])
    }
    try:
        plan.contacts = customer_contacts_clean(
            operator=operator, values=readable_contacts, district_ids=lookups.district_ids
        )
        bank_check(bank_name=plan.contacts.get("bank_name", ""), bank_account=plan.contacts.get("bank_account", ""))
    except CustomerError as error:
        _service_errors(plan, error, CUSTOMER_FIELD_COLUMN)
    if not _failed(plan, "connection_number"):
        try:
            plan.connection_number = connection_number_clean(connection.pop("number", ""))
        except CustomerError as error:
            _service_errors(plan, error, CONNECTION_FIELD_COLUMN)
    if not any(
        _failed(plan, key)
        for key in ("utility", "property_type", "latitude", "longitude", "opening_arrears", "arrears_as_of")
    ):
        problems = connection_fields_problems(
            operator=operator,
            utility=connection.get("utility", ""),
            property_type=connection.get("property_type", ""),
            latitude=connection.get("latitude"),
            longitude=connection.get("longitude"),
            opening_arrears=connection.get("opening_arrears"),
            arrears_as_of=connection.get("arrears_as_of"),
        )
        for field, messages in problems.items():
            for message in messages:
                plan.error(CONNECTION_FIELD_COLUMN.get(field, field), message)
    plan.connection = connection
    if plan.customer_number:
        plan.group = ("number", plan.customer_number)
    else:
        plan.group = ("person", str(plan.contacts.get("name", "")).casefold(), str(plan.contacts.get("phone", "")))
    return plan


def _failed(plan: RowPlan, column: str) -> bool:
    return any(error["column"] == column for error in plan.errors)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _existing_connections(*, operator: Any, numbers: Iterable[str]) -> dict[str, Connection]:
    """The operator's connections among these numbers, by upper-case number (numbers are unique in any case)."""
    found: dict[str, Connection] = {}
    for chunk in _chunks(sorted({number.upper() for number in numbers if number}), LOOKUP_CHUNK):
        connections = (
            Connection.objects.filter(operator=operator)
            .annotate(number_upper=Upper("number"))
            .filter(number_upper__in=chunk)
            .select_related("customer")
        )
        for connection in connections:
            found[connection.number.upper()] = connection
    return found


def _existing_customers(*, operator: Any, numbers: Iterable[str]) -> dict[str, Customer]:
    found: dict[str, Customer] = {}
    for chunk in _chunks(sorted({number for number in numbers if number}), LOOKUP_CHUNK):
        customers = (
            Customer.objects.filter(operator=operator)
            .annotate(number_upper=Upper("number"))
            .filter(number_upper__in=chunk)
        )
        for customer in customers:
            found[customer.number.upper()] = customer
    return found


def _comparable(value: Any) -> Any:
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, Decimal):
        return value.normalize()
    return value


def _contact_differences(plan: RowPlan, customer: Customer) -> list[str]:
    differences = []
    for field, value in plan.contacts.items():
        saved = getattr(customer, f"{field}_id") if field == "district" else getattr(customer, field)
        if _comparable(value) != _comparable(saved):
            differences.append(CUSTOMER_FIELD_COLUMN[field])
    return differences


def _connection_differences(plan: RowPlan, connection: Connection) -> list[str]:
    differences = []
    for field in CONNECTION_COMPARED:
        if field not in plan.connection:
            continue
        value = plan.connection[field]
        if field == "cluster" and value is None and plan.connection.get("supply_system") is not None:
            continue  # the supply system gives the cluster
        saved = (
            getattr(connection, f"{field}_id") if field in ("supply_system", "cluster") else getattr(connection, field)
        )
        if field == "connection_type":
            value = (value or "").strip()
        if _comparable(value) != _comparable(saved):
            differences.append(CONNECTION_FIELD_COLUMN[field])
    return differences


def _conflict(plan: RowPlan, columns: list[str], message: str) -> None:
    plan.outcome = ImportRow.Outcome.CONFLICT
    for column in columns or [""]:
        plan.errors.append({"column": column, "message": message})


def rows_plan(*, operator: Any, columns: list[str], rows: list[tuple[int, dict[str, str]]]) -> list[RowPlan]:
    """Judge every row against the file and what is saved: new, unchanged, conflict (would update) or error."""
    lookups = Lookups.load(operator)
    present = set(columns)
    plans = [
        _row_read(operator=operator, number=number, values=values, lookups=lookups, present=present)
        for number, values in rows
    ]
    supply_checked: dict[tuple[int | None, int | None], tuple[Cluster | None, str]] = {}
    for plan in plans:
        if plan.outcome == ImportRow.Outcome.ERROR:
            continue
        supply_system, cluster = plan.connection.get("supply_system"), plan.connection.get("cluster")
        if supply_system is None and cluster is None:
            continue
        key = (getattr(supply_system, "pk", None), getattr(cluster, "pk", None))
        if key not in supply_checked:  # one check per pair, not per row
            try:
                resolved = connection_supply_clean(operator=operator, supply_system=supply_system, cluster=cluster)
                supply_checked[key] = (resolved, "")
            except CustomerError as error:
                detail = " ".join(str(message) for messages in error.fields.values() for message in messages)
                supply_checked[key] = (None, f"{error.message} {detail}".strip())
        resolved, problem = supply_checked[key]
        plan.connection["cluster"] = resolved
        if problem:
            plan.error("supply_system" if supply_system is not None else "cluster", supply_checked[key])

    # One connection is one row: a number written twice in the file is an error on the later rows.
    first_row: dict[str, int] = {}
    for plan in plans:
        if not plan.connection_number:
            continue
        upper = plan.connection_number.upper()
        if upper in first_row:
            plan.error(
                "connection_number",
                _("Connection %(number)s is also on row %(row)s: a connection is one row.")
                % {"number": plan.connection_number, "row": first_row[upper]},
            )
        else:
            first_row[upper] = plan.number

    # The rows of one customer (same customer number, else same name and phone) must say the same about them.
    group_first: dict[tuple[str, ...], RowPlan] = {}
    for plan in plans:
        if plan.outcome == ImportRow.Outcome.ERROR:
            continue
        first = group_first.setdefault(plan.group, plan)
        if first is plan:
            continue
        for field, value in plan.contacts.items():
            if _comparable(first.contacts.get(field)) != _comparable(value):
                plan.error(
                    CUSTOMER_FIELD_COLUMN[field],
                    _(
                        "Row %(row)s has the same customer with another %(column)s: write the same on every row of one customer."
                    )
                    % {"row": first.number, "column": CUSTOMER_FIELD_COLUMN[field]},
                )

    good = [plan for plan in plans if plan.outcome != ImportRow.Outcome.ERROR]
    connections = _existing_connections(operator=operator, numbers=[plan.connection_number for plan in good])
    customers = _existing_customers(operator=operator, numbers=[plan.customer_number for plan in good])
    group_customer: dict[tuple[str, ...], Customer] = {}
    for plan in good:  # a group's customer: the named one, else the holder of one of its connections already saved
        if plan.customer_number and plan.customer_number in customers:
            group_customer.setdefault(plan.group, customers[plan.customer_number])
        elif (existing := connections.get(plan.connection_number.upper())) is not None and plan.group == (
            "person",
            existing.customer.name.casefold(),
            existing.customer.phone,
        ):
            group_customer.setdefault(plan.group, existing.customer)
    for plan in good:
        existing = connections.get(plan.connection_number.upper())
        if existing is not None:
            plan.connection_id, plan.customer_id = existing.pk, existing.customer_id
            if plan.customer_number and plan.customer_number != existing.customer.number.upper():
                _conflict(
                    plan,
                    ["customer_number"],
                    _("Connection %(number)s belongs to customer %(customer)s, not %(given)s.")
                    % {"number": existing.number, "customer": existing.customer.number, "given": plan.customer_number},
                )
                continue
            differences = _contact_differences(plan, existing.customer) + _connection_differences(plan, existing)
            if differences:
                _conflict(
                    plan,
                    differences,
                    _(
                        "Connection %(number)s is already saved with other details (%(columns)s); the import does not overwrite them: change them on the customer's page, or make the file say what is saved."
                    )
                    % {"number": existing.number, "columns": ", ".join(differences)},
                )
            else:
                plan.outcome = ImportRow.Outcome.UNCHANGED
            continue
        if plan.customer_number and plan.customer_number not in customers:
            plan.error(
                "customer_number",
                _("No customer %(number)s at your operator: correct it, or leave it empty to register a new customer.")
                % {"number": plan.customer_number},
            )
            continue
        customer = group_customer.get(plan.group)
        if customer is not None:
            plan.customer_id = customer.pk
            differences = _contact_differences(plan, customer)
            if differences:
                _conflict(
                    plan,
                    differences,
                    _(
                        "Customer %(customer)s is already saved with other details (%(columns)s); the import does not overwrite them: change them on the customer's page, or make the file say what is saved."
                    )
                    % {"customer": customer.number, "columns": ", ".join(differences)},
                )
    return plans


# Preview, run, and what the pages offer to download ----------------------------------------------------------------


def _counts(batch: ImportBatch, outcomes: Iterable[str]) -> None:
    tally: dict[str, int] = {}
    for outcome in outcomes:
        tally[outcome] = tally.get(outcome, 0) + 1
    batch.rows_total = sum(tally.values())
    batch.rows_new = tally.get(ImportRow.Outcome.NEW, 0)
    batch.rows_unchanged = tally.get(ImportRow.Outcome.UNCHANGED, 0)
    batch.rows_conflict = tally.get(ImportRow.Outcome.CONFLICT, 0)
    batch.rows_error = tally.get(ImportRow.Outcome.ERROR, 0)
    batch.rows_imported = tally.get(ImportRow.Outcome.IMPORTED, 0)


@transaction.atomic
def import_preview(*, operator: Any, acting_user: Any, file_name: str, content: bytes) -> ImportBatch:
    """Read and judge a file; saves the batch and its rows (for the pages and the import), never a customer."""
    read = import_file_read(file_name=file_name, content=content)
    plans = rows_plan(operator=operator, columns=read.columns, rows=read.rows)
    batch = ImportBatch(
        operator=operator,
        file_name=(file_name or "upload")[:255],
        file_format=read.file_format,
        columns=read.columns,
        created_by=acting_user,
    )
    _counts(batch, (plan.outcome for plan in plans))
    batch.save()
    ImportRow.objects.bulk_create(
        [
            ImportRow(
                operator=operator,
                batch=batch,
                number=plan.number,
                values=plan.values,
                connection_number=plan.connection_number or plan.values.get("connection_number", "")[:200],
                outcome=plan.outcome,
                errors=plan.errors,
                customer_id=plan.customer_id,
                connection_id=plan.connection_id,
            )
            for plan in plans
        ],
        batch_size=500,
    )
    audit_record(
        actor=acting_user,
        action="customers.import_previewed",
        target=batch,
        detail={"file": batch.file_name, "rows": batch.rows_total, "new": batch.rows_new, "errors": batch.rows_error},
    )
    return batch


def import_batch_queue(*, batch: ImportBatch, acting_user: Any) -> ImportBatch:
    """Start the import of a previewed batch in the background (the worker; at once under the immediate backend)."""
    from mita.customers.tasks import customers_import_run

    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        _runnable(batch)
        batch.job = job_create(
            kind="customers.import",
            title=_("Import of %(file)s") % {"file": batch.file_name},
            total=batch.rows_total,
            operator=batch.operator,
            created_by=acting_user,
        )
        batch.status = ImportBatch.Status.QUEUED
        batch.run_by = acting_user
        batch.save(update_fields=["job", "status", "run_by"])
        # The task's row commits with the batch's status (the database backend): never one without the other.
        customers_import_run.enqueue(batch_id=batch.pk)
    batch.refresh_from_db()
    return batch


def _runnable(batch: ImportBatch) -> None:
    if batch.status == ImportBatch.Status.DONE:
        raise CustomerError(
            _("This file is already imported. Upload it again to see what changed since."), code="import_done"
        )
    if batch.status in {ImportBatch.Status.QUEUED, ImportBatch.Status.RUNNING}:
        raise CustomerError(_("This file is being imported; wait for it to finish."), code="import_busy")


def import_batch_run(*, batch_id: int, acting_user: Any = None) -> ImportBatch:
    """Import a batch: judge its rows again against what is saved now, then write the new ones, each in its own
    savepoint (a bad row loses nothing else), in transactions of CHUNK_ROWS rows. Running it again makes nothing
    new: every row imported is then "unchanged"."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().select_related("operator").get(pk=batch_id)
        if batch.status == ImportBatch.Status.DONE:
            _runnable(batch)
        batch.status = ImportBatch.Status.RUNNING
        batch.started_at = timezone.now()
        batch.run_by = batch.run_by or acting_user
        batch.save(update_fields=["status", "started_at", "run_by"])
    acting_user = acting_user or batch.run_by
    operator = batch.operator
    if batch.job_id:
        job_start(job_id=batch.job_id, total=batch.rows_total)
    try:
        rows = list(ImportRow.objects.filter(batch=batch).order_by("number"))
        plans = rows_plan(operator=operator, columns=batch.columns, rows=[(row.number, row.values) for row in rows])
        created = _rows_write(batch=batch, operator=operator, rows=rows, plans=plans, acting_user=acting_user)
    except Exception as error:
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportBatch.Status.FAILED, finished_at=timezone.now(), message=str(error)[:500]
        )
        if batch.job_id:
            job_fail(job_id=batch.job_id, message=str(error))
        raise
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        _counts(batch, ImportRow.objects.filter(batch=batch).values_list("outcome", flat=True))
        batch.customers_created = created
        batch.status = ImportBatch.Status.DONE
        batch.finished_at = timezone.now()
        batch.save()
        audit_record(
            actor=acting_user,
            action="customers.imported",
            target=batch,
            detail={
                "file": batch.file_name,
                "imported": batch.rows_imported,
                "unchanged": batch.rows_unchanged,
                "conflicts": batch.rows_conflict,
                "errors": batch.rows_error,
                "customers_created": created,
            },
        )
    if batch.job_id:
        job_finish(
            job_id=batch.job_id,
            message=_("%(imported)s rows imported, %(errors)s with errors, %(conflicts)s conflicts.")
            % {"imported": batch.rows_imported, "errors": batch.rows_error, "conflicts": batch.rows_conflict},
        )
    return batch


def _rows_write(
    *, batch: ImportBatch, operator: Any, rows: list[ImportRow], plans: list[RowPlan], acting_user: Any
) -> int:
    known = Customer.objects.in_bulk({plan.customer_id for plan in plans if plan.customer_id})
    made: dict[tuple[str, ...], Customer] = {}
    created = 0
    for chunk in _chunks(list(zip(rows, plans, strict=True)), CHUNK_ROWS):
        new = [plan for _row, plan in chunk if plan.outcome == ImportRow.Outcome.NEW]
        judged = [(plan, plan.customer_id) for plan in new]
        try:
            with transaction.atomic():
                made_here = _chunk_write(plans=new, operator=operator, known=known, made=made, acting_user=acting_user)
                _rows_record(chunk)
        except (IntegrityError, DomainError):
            # Something changed since the rows were judged (a number taken meanwhile): write this chunk row by row,
            # each in its own savepoint through the services, so that the one bad row is reported and skipped.
            for plan, customer_id in judged:  # as judged, before the rolled-back attempt
                plan.outcome, plan.customer_id, plan.connection_id = ImportRow.Outcome.NEW, customer_id, None
            with transaction.atomic():
                for plan in new:
                    created += _row_write(plan=plan, operator=operator, known=known, made=made, acting_user=acting_user)
                _rows_record(chunk)
        else:
            made.update(made_here)
            created += len(made_here)
        if batch.job_id:
            job_advance(job_id=batch.job_id, by=len(chunk))
    return created


def _rows_record(chunk: list[tuple[ImportRow, RowPlan]]) -> None:
    for row, plan in chunk:
        row.outcome, row.errors = plan.outcome, plan.errors
        row.customer_id, row.connection_id = plan.customer_id, plan.connection_id
        if plan.connection_number:
            row.connection_number = plan.connection_number
    # Deleted and inserted again with the same ids: two statements (an UPDATE per row's values is 10x slower).
    ImportRow.objects.filter(pk__in=[row.pk for row, _plan in chunk]).delete()
    ImportRow.objects.bulk_create([row for row, _plan in chunk])


def _chunk_write(
    *,
    plans: list[RowPlan],
    operator: Any,
    known: dict[int, Customer],
    made: dict[tuple[str, ...], Customer],
    acting_user: Any,
) -> dict[tuple[str, ...], Customer]:
    """Write a chunk's new rows with bulk statements: the same rows customer_create and connection_create write (the
    customer, their first status line, the connection, its first holding, its receivable, the audit entries, the
    opening arrears through the ledger's service), in a handful of statements instead of twenty per row. Rows were
    judged with the services' own checks; the database's constraints catch what changed since (the caller then
    writes the chunk row by row). Returns the customers it registered, by group."""
    today = timezone.localdate()
    made_here: dict[tuple[str, ...], Customer] = {}
    to_make = []
    for plan in plans:
        if not plan.customer_id and plan.group not in made and plan.group not in made_here:
            made_here[plan.group] = Customer(operator=operator, created_by=acting_user, **plan.contacts)
            to_make.append(made_here[plan.group])
    if to_make:
        sequence = sequence_claim(operator_id=operator.pk, name=CUSTOMER_SEQUENCE)
        assert sequence is not None  # waits for the row
        first = sequence_advance(sequence, len(to_make))
        for offset, customer in enumerate(to_make):
            customer.sequence_number = first + offset
            customer.number = customer_number(operator=operator, sequence_number=customer.sequence_number)
        Customer.objects.bulk_create(to_make)
        CustomerStatusChange.objects.bulk_create(
            [
                CustomerStatusChange(
                    operator=operator,
                    customer=customer,
                    to_status=customer.status,
                    reason=_("Customer created"),
                    changed_by=acting_user,
                )
                for customer in to_make
            ]
        )
        SearchTerm.objects.bulk_create(
            [
                SearchTerm(operator=operator, customer=customer, kind=kind, term=term)
                for customer in to_make
                for kind, term in customer_terms_of(customer)
            ]
        )
        audit_record_many(
            actor=acting_user,
            action="customer.created",
            targets=list(to_make),
            after=[snapshot(customer, list(CONTACT_FIELDS)) for customer in to_make],
        )
    connections = []
    for plan in plans:
        holder = known.get(plan.customer_id) if plan.customer_id else made.get(plan.group) or made_here[plan.group]
        assert holder is not None
        fields = plan.connection
        connections.append(
            Connection(
                operator=operator,
                number=plan.connection_number,
                customer=holder,
                utility=fields["utility"],
                property_type=fields["property_type"],
                connection_type=(fields.get("connection_type") or "").strip(),
                metered=fields.get("metered", True),
                supply_system=fields.get("supply_system"),
                cluster=fields.get("cluster"),
                latitude=degrees(fields.get("latitude")),
                longitude=degrees(fields.get("longitude")),
                created_by=acting_user,
            )
        )
    Connection.objects.bulk_create(connections)
    ConnectionHolding.objects.bulk_create(
        [
            ConnectionHolding(operator=operator, connection=connection, customer=connection.customer, starts_on=today)
            for connection in connections
        ]
    )
    SearchTerm.objects.bulk_create(
        [
            SearchTerm(
                operator=operator,
                customer=connection.customer,
                connection=connection,
                kind=SearchTerm.Kind.CONNECTION_NUMBER,
                term=connection_term(connection.number),
            )
            for connection in connections
        ]
    )
    ledger.holder_accounts_ensure(
        operator=operator, holders=[connection.number for connection in connections], purpose="receivable"
    )
    audit_record_many(
        actor=acting_user,
        action="connection.created",
        targets=list(connections),
        after=[
            snapshot(connection, ["number", "customer_id", "utility", "property_type", "metered", "status"])
            for connection in connections
        ],
    )
    for plan, connection in zip(plans, connections, strict=True):
        arrears, as_of = plan.connection.get("opening_arrears"), plan.connection.get("arrears_as_of")
        if arrears and as_of is not None:
            ledger.opening_balance_post(
                operator=operator,
                holder=connection.number,
                amount=arrears,
                as_of=as_of,
                reference=f"opening:{connection.number}",
                acting_user=acting_user,
            )
        plan.outcome = ImportRow.Outcome.IMPORTED
        plan.customer_id, plan.connection_id = connection.customer_id, connection.pk
    return made_here


def _row_write(
    *,
    plan: RowPlan,
    operator: Any,
    known: dict[int, Customer],
    made: dict[tuple[str, ...], Customer],
    acting_user: Any,
) -> int:
    """Write one new row in its own savepoint; returns 1 when it registered a customer."""
    try:
        with transaction.atomic():
            customer = known.get(plan.customer_id) if plan.customer_id else made.get(plan.group)
            new_customer = customer is None
            if customer is None:
                contacts = dict(plan.contacts)
                customer = customer_create(
                    operator=operator,
                    acting_user=acting_user,
                    name=contacts.pop("name"),
                    phone=contacts.pop("phone"),
                    **contacts,
                )
            connection = connection_create(
                operator=operator,
                customer=customer,
                number=plan.connection_number,
                acting_user=acting_user,
                **plan.connection,
            )
    except DomainError as error:
        _service_errors(plan, error, CONNECTION_FIELD_COLUMN | CUSTOMER_FIELD_COLUMN | {"number": "connection_number"})
        return 0
    if new_customer:
        made[plan.group] = customer
    plan.outcome = ImportRow.Outcome.IMPORTED
    plan.customer_id, plan.connection_id = customer.pk, connection.pk
    return 1 if new_customer else 0


def import_errors_csv(*, batch: ImportBatch) -> str:
    """The rows to fix (errors and conflicts), one line per problem, for a spreadsheet next to the file."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("row"), _("connection number"), _("outcome"), _("column"), _("what to fix")])
    rows = ImportRow.objects.filter(
        batch=batch, outcome__in=[ImportRow.Outcome.ERROR, ImportRow.Outcome.CONFLICT]
    ).order_by("number")
    for row in rows:
        for error in row.errors or [{"column": "", "message": ""}]:
            writer.writerow(
                [row.number, row.connection_number, row.get_outcome_display(), error["column"], error["message"]]
            )
    return "\ufeff" + out.getvalue()  # a BOM, so that spreadsheets open it as UTF-8


def import_template_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([column.key for column in IMPORT_COLUMNS])
    writer.writerow([column.example for column in IMPORT_COLUMNS])
    return "\ufeff" + out.getvalue()


def import_template_xlsx() -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "customers"
    sheet.append([column.key for column in IMPORT_COLUMNS])
    sheet.append([column.example for column in IMPORT_COLUMNS])
    notes = workbook.create_sheet("columns")
    notes.append([_("column"), _("required"), _("what to write")])
    for column in IMPORT_COLUMNS:
        notes.append([column.key, _("yes") if column.required else "", str(column.label)])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# Reads for the pages and the API ----------------------------------------------------------------------------------


def import_batches_visible_to(*, access: Any) -> Any:
    """The batches of the user's operator, newest first (none for a workspace that is not an operator)."""
    if access.operator is None:
        return ImportBatch.objects.none()
    return (
        ImportBatch.objects.filter(operator=access.operator).select_related("created_by").order_by("-created_at", "-pk")
    )


def import_batch_get_for_access(*, access: Any, import_id: int) -> ImportBatch:
    """One batch of the user's operator, or 404 (another operator's batch does not exist for them)."""
    from django.http import Http404

    batch = import_batches_visible_to(access=access).filter(pk=import_id).select_related("job").first()
    if batch is None:
        raise Http404
    return batch


def import_rows_to_fix(*, batch: ImportBatch) -> Any:
    return ImportRow.objects.filter(
        batch=batch, outcome__in=[ImportRow.Outcome.ERROR, ImportRow.Outcome.CONFLICT]
    ).order_by("number")
