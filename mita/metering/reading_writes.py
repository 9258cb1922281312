"""Set-based SQL behind readings_record and the file imports, in as few statements as the database allows:
- `among`: rows whose column is one of many values: `= ANY(array)` on PostgreSQL, one parameter whatever the count
  (an IN of 100,000 parameters costs seconds in the driver alone), chunks of IN elsewhere;
- new readings: COPY on PostgreSQL, one executemany on SQLite, ids taken beforehand so that the objects get their
  primary keys;
- moved meter states: UPDATE ... FROM unnest(arrays) on PostgreSQL, executemany on SQLite. Django's bulk_update
  builds a CASE per field and row and took 45 s for 10,000 states; these take well under a second for 100,000."""

import json
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from django.db import connections, models, router
from django.db.models import F, Lookup
from django.utils import timezone

from mita.metering.models import MeterState, Reading

IN_CHUNK = 900  # values per IN (...) where there are no arrays (SQLite's old limit is 999)


def attnames_of(model: type[models.Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def instance_of(model: type[Any], values: dict[str, Any], *, db: str | None = None) -> Any:
    """A model instance from its field values (every concrete field's attname), as the ORM makes one from a row but
    without Model.__init__ (keyword handling, descriptors, signals: about 15 us each, seconds for 100,000 rows).
    `db` set: an instance loaded from that database; None: a new one, not saved yet."""
    instance = object.__new__(model)
    instance.__dict__.update(values)
    state = models.base.ModelState()
    if db is not None:
        state.adding, state.db = False, db
    instance._state = state
    return instance


class AnyOf(Lookup):
    """`lhs = ANY(%s::<lhs type>[])` with the values as one array parameter (PostgreSQL). The array has the column's
    own type: PostgreSQL hashes `= ANY` only between equal types, else it compares each row with every value (10^10
    comparisons for 100,000 values, about a minute)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        db_type = self.lhs.output_field.db_type(connection)
        return f"{lhs} = ANY(%s::{db_type}[])", [*lhs_params, list(self.rhs)]


def among(queryset: Any, field: str, values: Iterable[Any]) -> Iterator[Any]:
    """The queryset narrowed to rows whose `field` (a field or an annotation) is one of `values`: one queryset on
    PostgreSQL, one per chunk of IN_CHUNK values elsewhere."""
    values = list(values)
    if not values:
        return
    if connections[queryset.db].vendor == "postgresql":
        yield queryset.filter(AnyOf(F(field), values))
        return
    for start in range(0, len(values), IN_CHUNK):
        yield queryset.filter(**{f"{field}__in": values[start : start + IN_CHUNK]})


STATE_FIELDS = ("last_index", "last_read_on", "last_cycle", "last_estimated", "last_actual_index", "history")


def _reader(field: models.Field[Any, Any], connection: Any) -> Callable[[Any], Any]:
    """How to read one field of a model for the driver: raw for what the driver adapts alike, through the field
    otherwise (files are their names; dates and decimals as Django writes them on SQLite)."""
    attname = field.attname
    if isinstance(field, models.FileField):
        return lambda instance: getattr(instance, attname).name or ""
    if connection.vendor == "sqlite" and isinstance(field, models.DateTimeField):
        converted: dict[Any, Any] = {}  # created_at is one value for a whole batch: converted once

        def read_datetime(instance: Any) -> Any:
            value = getattr(instance, attname)
            if value not in converted:
                converted[value] = field.get_db_prep_save(value, connection)
            return converted[value]

        return read_datetime
    if connection.vendor == "sqlite" and isinstance(field, models.DateField):
        return lambda instance: None if (value := getattr(instance, attname)) is None else value.isoformat()
    # Decimals go as they are: Django's SQLite backend registers str() as their adapter, psycopg adapts them itself.
    return lambda instance: getattr(instance, attname)


def _ids_take(connection: Any, model: type[models.Model], count: int) -> list[int]:
    table = model._meta.db_table
    pk_column = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, pk_column, count]
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite: the transaction holds the database's write lock (transaction_mode IMMEDIATE, or the writes this
        # transaction made already), so no one else takes ids until it ends. AUTOINCREMENT never reuses an id.
        cursor.execute(f"SELECT MAX({connection.ops.quote_name(pk_column)}) FROM {connection.ops.quote_name(table)}")  # noqa: S608 (model names, quoted)
        highest = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        found = cursor.fetchone()
        first = max(highest, found[0] if found else 0) + 1
        return list(range(first, first + count))


def readings_insert(readings: Sequence[Reading]) -> None:
    """Insert new readings and give them their primary keys, as bulk_create would (created_at set now)."""
    if not readings:
        return
    alias = router.db_for_write(Reading)
    connection = connections[alias]
    now = timezone.now()
    for reading in readings:
        reading.created_at = now
    if connection.vendor not in ("postgresql", "sqlite"):
        Reading.objects.using(alias).bulk_create(readings, batch_size=1000)
        return
    fields = list(Reading._meta.concrete_fields)
    readers = [_reader(field, connection) for field in fields[1:]]  # the id first, then the rest
    ids = _ids_take(connection, Reading, len(readings))
    for reading, reading_id in zip(readings, ids, strict=True):
        reading.pk = reading_id
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    table = quote(Reading._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The values straight from the instances' __dict__ (one C call per row); only the photo needs its name.
            row_of = operator.itemgetter(*(field.attname for field in fields))
            photo = next(position for position, field in enumerate(fields) if isinstance(field, models.FileField))
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for reading in readings:
                    row = list(row_of(vars(reading)))
                    if not isinstance(row[photo], str):
                        row[photo] = getattr(row[photo], "name", None) or ""
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(fields))
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608 (model names, quoted)
                [[reading.pk, *[read(reading) for read in readers]] for reading in readings],
            )
    for reading in readings:
        reading._state.adding = False
        reading._state.db = alias


def states_save(states: Sequence[MeterState]) -> None:
    """Save the fields readings_record moves (STATE_FIELDS) of these meter states."""
    if not states:
        return
    connection = connections[router.db_for_write(MeterState)]
    quote = connection.ops.quote_name
    meta = MeterState._meta
    table = quote(meta.db_table)
    fields: list[models.Field[Any, Any]] = [meta.get_field(name) for name in STATE_FIELDS]  # type: ignore[misc]
    readers = [_reader(field, connection) for field in fields[:-1]]  # all but the history (JSON)

    def values(state: MeterState) -> list[Any]:
        return [state.pk, *[read(state) for read in readers], json.dumps(state.history)]

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY into a scratch table, then one UPDATE ... FROM it: no parameters for the driver to quote one by one.
            names = ", ".join(quote(field.column) for field in fields)
            assignments = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in fields)
            cursor.execute(
                "CREATE TEMPORARY TABLE IF NOT EXISTS metering_state_moves (id bigint, last_index numeric, "
                "last_read_on date, last_cycle text, last_estimated boolean, last_actual_index numeric, history jsonb) "
                "ON COMMIT DELETE ROWS"
            )
            cursor.execute("TRUNCATE metering_state_moves")
            with cursor.cursor.copy(f"COPY metering_state_moves (id, {names}) FROM STDIN") as copy:
                for state in states:
                    copy.write_row(values(state))
            cursor.execute(
                f"UPDATE {table} AS s SET {assignments} FROM metering_state_moves AS v WHERE s.id = v.id"  # noqa: S608 (model names, quoted)
            )
        else:
            assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
            cursor.executemany(
                f"UPDATE {table} SET {assignments} WHERE id = %s",  # noqa: S608 (model names, quoted)
                [[*values(state)[1:], state.pk] for state in states],
            )
