"""Set-based writes and look-ups for the paths that handle a whole file, unit or batch at once (a bill run's ledger
postings, a reading import), in as few statements as the database allows:
- `among`: rows whose column is one of many values: `= ANY(array)` on PostgreSQL, one parameter whatever the count
  (an IN of 100,000 parameters costs seconds in the driver alone), chunks of IN elsewhere;
- `instances_insert`: new model instances by COPY on PostgreSQL and one executemany on SQLite, their ids taken
  beforehand so that the objects get their primary keys (bulk_create spends more time building SQL than the
  database spends writing);
- `instance_of`: a model instance from its values without Model.__init__.
Moved here from mita/metering/reading_writes.py so that the ledger (below metering) uses the same code."""

import contextlib
import copy
import gc
import json
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from django.db import connections, models, router
from django.db.models import F, Lookup, Q, signals
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

from mita.core.arrays import array_literal
from mita.core.foreign_keys import keys_checked
from mita.core.prepared import Read, prepared_cursor, sent_later, writes_flush

IN_CHUNK = 900  # values per IN (...) where there are no arrays (SQLite's old limit is 999)


def attnames_of(model: type[models.Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def instance_of(model: type[Any], values: Any, *, db: str | None = None, related: dict[str, Any] | None = None) -> Any:
    """A model instance from its field values (every concrete field's attname; a dict or (name, value) pairs), as the
    ORM makes one from a row but without Model.__init__ (keyword handling, descriptors, signals: about 15 us each,
    seconds for 100,000 rows). A field left out is deferred, loaded when first read, as with QuerySet.defer().
    `db` set: an instance loaded from that database; None: a new one, not saved yet. `related`: the related objects
    already at hand, by field name (as select_related leaves them), so that reading them makes no query."""
    instance = object.__new__(model)
    instance.__dict__.update(values)
    state = models.base.ModelState()
    if db is not None:
        state.adding, state.db = False, db
    if related is not None:
        state.fields_cache = related
    instance._state = state
    return instance


def maker(model: type[Any], **fixed: Any) -> Callable[..., Any]:
    """A maker of new, unsaved instances of `model` for instances_insert: each field at its default (auto_now and
    auto_now_add fields at this moment), then `fixed`, then the call's own values, through instance_of."""
    now = timezone.now()
    base: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        stamped = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        base[field.attname] = now if stamped else field.get_default()
    base.update(fixed)
    mutable = [name for name, value in base.items() if isinstance(value, dict | list)]

    def make(**values: Any) -> Any:
        made = {**base, **values}
        for name in mutable:
            if name not in values:
                made[name] = copy.copy(made[name])
        return instance_of(model, made)

    return make


class AnyOf(Lookup):
    """`lhs = ANY(%s::<lhs type>[])` with the values as one array parameter (PostgreSQL). The array has the column's
    own type: PostgreSQL hashes `= ANY` only between equal types, else it compares each row with every value (10^10
    comparisons for 100,000 values, about a minute)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        db_type = self.lhs.output_field.db_type(connection)
        return f"{lhs} = ANY(%s::{db_type}[])", [*lhs_params, array_literal(self.rhs)]


class InList(Lookup):
    """`lhs IN (%s, %s, ...)` with the values passed to the driver as they are: for strings and integers, which the
    drivers take alike, without Django's per-value preparation (about 5 us a value: seconds over a million)."""

    lookup_name = "in_list"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} IN ({', '.join(['%s'] * len(self.rhs))})", [*lhs_params, *self.rhs]


def id_span(field: str, ids: list[int]) -> Q:
    """The ids' range when they are close together (the caller keeps only its ids from what it reads): a range costs
    the database and Django far less than an IN list of thousands of parameters."""
    if not ids:
        return Q(pk__in=[])
    low, high = min(ids), max(ids)
    if high - low < 4 * len(ids):
        return Q(**{f"{field}__gte": low, f"{field}__lte": high})
    return Q(**{f"{field}__in": ids})  # scattered (a route's connections made years apart): the list itself


def among(queryset: Any, field: str, values: Iterable[Any]) -> Iterator[Any]:
    """The queryset narrowed to rows whose `field` (a field or an annotation) is one of `values`: one queryset on
    PostgreSQL, one per chunk of IN_CHUNK values elsewhere."""
    values = list(values)
    if not values:
        return
    if connections[queryset.db].vendor == "postgresql":
        yield queryset.filter(AnyOf(F(field), values))
        return
    plain = all(type(value) in (str, int) for value in values)
    for start in range(0, len(values), IN_CHUNK):
        chunk = values[start : start + IN_CHUNK]
        yield queryset.filter(InList(F(field), chunk)) if plain else queryset.filter(**{f"{field}__in": chunk})


def reader_of(field: models.Field[Any, Any], connection: Any) -> Callable[[Any], Any]:
    """How to read one field of a model for the driver: raw for what the driver adapts alike, through the field
    otherwise (files are their names, JSON its text; dates and decimals as Django writes them on SQLite)."""
    attname = field.attname
    if isinstance(field, models.FileField):

        def read_file(instance: Any) -> Any:
            value = instance.__dict__.get(attname)
            if isinstance(value, str):  # a name not read through the field yet (a new reading's empty photo)
                return value
            return getattr(instance, attname).name or ""

        return read_file
    if isinstance(field, models.JSONField):
        encoder = field.encoder
        return lambda instance: json.dumps(getattr(instance, attname), cls=encoder)
    if isinstance(field, models.DateField):
        written = date_writer(field, connection)
        return lambda instance: written(getattr(instance, attname))
    # Decimals go as they are: Django's SQLite backend registers str() as their adapter, psycopg adapts them itself.
    return lambda instance: getattr(instance, attname)


def date_writer(field: models.DateField, connection: Any) -> Callable[[Any], Any]:
    """A date or time (DateTimeField is a DateField) as the driver takes it: Django's text on SQLite; the ISO text on
    PostgreSQL, in place of psycopg's own formatting of every value. Each distinct value written once (once_each)."""
    if connection.vendor == "sqlite" and isinstance(field, models.DateTimeField):
        return once_each(lambda value: field.get_db_prep_save(value, connection))
    return iso_formatter()


FORMATTED_AT_MOST = 4096  # distinct values a converter keeps converted (a batch holds few: created_at is one)


def once_each(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`convert` with each distinct value converted once, up to FORMATTED_AT_MOST of them (None stays None): for the
    dates and times of a batch, which repeat."""
    converted: dict[Any, Any] = {}

    def convert_once(value: Any) -> Any:
        if value is None:
            return None
        text = converted.get(value)
        if text is None:
            text = convert(value)
            if len(converted) < FORMATTED_AT_MOST:
                converted[value] = text
        return text

    return convert_once


def iso_formatter() -> Callable[[Any], str | None]:
    """Dates and times as the ISO text both databases take (None stays None): on SQLite how Django writes a date; on
    PostgreSQL in place of psycopg's own formatting of every value, which is a third of the work of copying a row of
    readings. Each distinct value is formatted once (once_each)."""
    return once_each(lambda value: value.isoformat())


# (connection alias, database name, table, primary key column) -> the table's id sequence, as PostgreSQL names it
_SEQUENCES: dict[tuple[str, str, str, str], str] = {}


def _sequence_of(connection: Any, model: type[models.Model]) -> str:
    """The PostgreSQL sequence behind the model's primary key, looked up once per database. Named once: with
    pg_get_serial_sequence in the select list it is looked up again for every id (about ten times the cost of nextval
    itself); a regclass constant is resolved when the query is planned."""
    table, pk_column = model._meta.db_table, model._meta.pk.column
    key = (connection.alias, connection.settings_dict["NAME"], table, pk_column)
    if key not in _SEQUENCES:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, pk_column])
            _SEQUENCES[key] = cursor.fetchone()[0]
    return _SEQUENCES[key]


def id_read(model: type[models.Model], connection: Any = None) -> Read | None:
    """On PostgreSQL, a read (core.prepared.reads_together) that takes one new primary key of the model's table from
    its sequence, for instance_create to insert with; None elsewhere (there the insert takes its own)."""
    connection = connection or connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        return None
    return Read(_ID_NEXT_SQL, [_sequence_of(connection, model)], answer=lambda rows: rows[0][0])


_ID_NEXT_SQL = "SELECT nextval(%s::regclass)"


def ids_take(connection: Any, model: type[models.Model], count: int) -> list[int]:
    """`count` new primary keys of the model's table, in increasing order, that no other writer will take."""
    table = model._meta.db_table
    pk_column = model._meta.pk.column
    if connection.vendor == "postgresql":
        sequence = _sequence_of(connection, model)
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, count])
            return [row[0] for row in cursor.fetchall()]
    with connection.cursor() as cursor:
        # SQLite: the transaction holds the database's write lock (transaction_mode IMMEDIATE, or the writes this
        # transaction made already), so no one else takes ids until it ends. AUTOINCREMENT never reuses an id.
        cursor.execute(f"SELECT MAX({connection.ops.quote_name(pk_column)}) FROM {connection.ops.quote_name(table)}")  # noqa: S608 (model names, quoted)
        highest = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        found = cursor.fetchone()
        first = max(highest, found[0] if found else 0) + 1
        return list(range(first, first + count))


def instances_insert(instances: Sequence[models.Model], *, keys_together: bool = False) -> None:
    """Insert new instances of one model (every concrete field as it is set: defaults and auto_now_add are the
    caller's) and give them their primary keys, as bulk_create would (a primary key that is not an auto field, e.g. a
    one-to-one, is the caller's too). `keys_together`: on PostgreSQL their foreign keys are checked once per distinct
    value (core.foreign_keys), for batches that refer to the same rows again and again."""
    if not instances:
        return
    model = type(instances[0])
    alias = router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor not in ("postgresql", "sqlite"):
        model.objects.using(alias).bulk_create(instances, batch_size=1000)  # type: ignore[attr-defined]
        return
    fields = list(model._meta.concrete_fields)
    assert fields[0].primary_key, f"{model.__name__}: the primary key is not the first field"
    if isinstance(model._meta.pk, models.AutoField | models.BigAutoField | models.SmallAutoField):
        ids = ids_take(connection, model, len(instances))
        for instance, instance_id in zip(instances, ids, strict=True):
            instance.pk = instance_id
    # The values straight from the instances' __dict__ (one C call per row); through readers (reader_of) only the
    # files and JSON; the dates and times set (not None) written from the row's own values (date_writer).
    row_of = operator.itemgetter(*(field.attname for field in fields))
    special = [
        (position, reader_of(field, connection))
        for position, field in enumerate(fields)
        if isinstance(field, models.FileField | models.JSONField)
    ]
    dated = [
        (position, date_writer(field, connection))
        for position, field in enumerate(fields)
        if isinstance(field, models.DateField)
    ]

    def rows() -> Iterator[list[Any]]:
        for instance in instances:
            row = list(row_of(vars(instance)))
            for position, read in special:
                row[position] = read(instance)
            for position, written in dated:
                if row[position] is not None:
                    row[position] = written(row[position])
            yield row

    rows_insert(connection, model, [field.column for field in fields], list(rows()), keys_together=keys_together)
    for instance in instances:
        instance._state.adding = False
        instance._state.db = alias


def rows_insert(
    connection: Any,
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    keys_together: bool = False,
) -> None:
    """Insert rows (values in `columns` order, as the driver takes them) into the model's table: one COPY on
    PostgreSQL (with `keys_together`, the foreign keys checked once per distinct value: core.foreign_keys), one
    executemany on SQLite."""
    if not rows:
        return
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in columns)
    table = quote(model._meta.db_table)
    if connection.vendor == "postgresql":
        writes_flush(connection)  # COPY goes around Django's cursor: the writes waiting go first
        checked = keys_checked(connection, model, columns, rows) if keys_together else contextlib.nullcontext()
        with checked, connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608 (model names, quoted)


def statistics_refresh(*tables: type[models.Model], using: str = "default") -> None:
    """After writing many rows: PostgreSQL's planner statistics of these models' tables (of the whole database when
    none is named) brought up to date with ANALYZE, rather than left to autovacuum's next pass (or to none, where it
    is off) while the next statements are planned for the tables as they were. Nothing elsewhere."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    names = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {names}".strip())


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while a batch is worked (a file of readings, a bill run's unit): the hundreds of
    thousands of objects it makes live until it ends, and each full collection would walk them all again."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# A field of one of these classes, not a subclass, reads its value as it is (pre_save) and prepares a value of the
# paired type as it is (get_db_prep_save: int(), str(), bool() of the same value); so does a foreign key to one.
_PLAIN_FIELDS: dict[type[Any], type[Any]] = {
    **dict.fromkeys(
        (
            models.AutoField,
            models.BigAutoField,
            models.SmallAutoField,
            models.IntegerField,
            models.BigIntegerField,
            models.SmallIntegerField,
            models.PositiveIntegerField,
            models.PositiveBigIntegerField,
            models.PositiveSmallIntegerField,
        ),
        int,
    ),
    **dict.fromkeys((models.CharField, models.TextField), str),
    models.BooleanField: bool,
}


def _plain_type(field: models.Field[Any, Any]) -> type[Any] | None:
    """The type of value the field sends to the database unchanged (_PLAIN_FIELDS), or None: through the field."""
    if type(field) in (models.ForeignKey, models.OneToOneField):
        field = field.target_field  # type: ignore[attr-defined]
    return _PLAIN_FIELDS.get(type(field))


_INSERT_STATEMENTS: dict[
    tuple[type[models.Model], str, bool], tuple[str, list[tuple[models.Field[Any, Any], type[Any] | None]]]
] = {}


def _insert_statement(
    model: type[models.Model], connection: Any, *, with_pk: bool
) -> tuple[str, list[tuple[models.Field[Any, Any], type[Any] | None]]] | None:
    """The INSERT of a model on a connection and the fields it writes, built once: `with_pk`, of an id taken already
    (id_read); else letting the table give one, RETURNING it. None where Model.save() does more than insert one row
    (signal receivers, inherited tables, database defaults)."""
    key = (model, connection.alias, with_pk)
    if key in _INSERT_STATEMENTS:
        return _INSERT_STATEMENTS[key]
    pk = model._meta.pk
    fields = [field for field in model._meta.local_concrete_fields if with_pk or field is not pk]
    if (
        model._meta.parents
        or not isinstance(pk, AutoFieldMixin)
        or any(field.has_db_default() or field.generated for field in fields)
        or not connection.features.can_return_columns_from_insert
    ):
        return None
    quote = connection.ops.quote_name
    sql = "INSERT INTO {table} ({columns}) VALUES ({marks}){returning}".format(  # noqa: S608 (model names, quoted)
        table=quote(model._meta.db_table),
        columns=", ".join(quote(field.column) for field in fields),
        marks=", ".join(["%s"] * len(fields)),
        returning="" if with_pk else f" RETURNING {quote(pk.column)}",
    )
    _INSERT_STATEMENTS[key] = (sql, [(field, _plain_type(field)) for field in fields])
    return _INSERT_STATEMENTS[key]


def instance_create(instance: models.Model) -> models.Model:
    """Insert one new instance as `instance.save(force_insert=True)` does (each field's pre_save, so auto_now_add,
    and its database preparation), through an INSERT statement built once per model: save() builds the same
    statement again on every call, which is most of what a single-row insert costs on the hot paths (a payment
    makes four). An instance whose id is set already (id_read) is inserted with it. Falls back to save() where that
    does more (pre_save/post_save receivers, see _insert_statement)."""
    model = type(instance)
    alias = router.db_for_write(model, instance=instance)
    connection = connections[alias]
    with_pk = instance.pk is not None
    statement = _insert_statement(model, connection, with_pk=with_pk)
    if statement is None or signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model):
        instance.save(force_insert=True, using=alias)
        return instance
    instance._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    sql, fields = statement
    # Each field's pre_save and database preparation, as save() does; a plain field's value of its own type (or None)
    # as it is, which is what those calls return for it, without them (34 of a payment's 51 calls, docs/payments.md).
    params = []
    for field, plain in fields:
        if plain is None:
            params.append(field.get_db_prep_save(field.pre_save(instance, True), connection))
            continue
        value = getattr(instance, field.attname)
        params.append(value if value is None or type(value) is plain else field.get_db_prep_save(value, connection))
    answered = _nothing if with_pk else (lambda cursor: _pk_set(instance, cursor))
    if not sent_later(sql, params, answered, connection):
        with prepared_cursor(connection) as cursor:
            cursor.execute(sql, params)
            answered(cursor)
    # else its id is set as the writes_joined block ends (mita.core.prepared)
    instance._state.adding = False
    instance._state.db = alias
    return instance


def _pk_set(instance: models.Model, cursor: Any) -> None:
    instance.pk = cursor.fetchone()[0]


def _nothing(cursor: Any) -> None:
    """An INSERT of an id given has no answer to read."""
