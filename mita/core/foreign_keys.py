"""Foreign keys checked once per batch, not once per row, for the rows a bill run copies in (docs/decisions/0009).

PostgreSQL checks a foreign key of every row it inserts with a trigger: a look-up of the referenced row, locked
FOR KEY SHARE so that it cannot be deleted (or its key changed) before the inserting transaction ends. A unit of a
bill run inserts 2,000 bills with six foreign keys each and 4,000 transfers with four, most of them the same run,
unit, operator or account again and again: measured, those checks cost three times the insert itself.

`keys_checked` (around `core.bulk.rows_insert`'s COPY) does what the triggers do, once per distinct value: for each
foreign key of the rows, the referenced rows are looked up and locked FOR KEY SHARE in one statement (in key order,
as the triggers would lock them one by one), a value that is not there is an IntegrityError naming the column and
the value, and the rows are then copied with the triggers off (`session_replication_role = replica`, for the COPY
only, inside the caller's transaction).
The lock is held to the end of the transaction, as the triggers' is, so the integrity is the same.

It applies only where it is the same thing: on PostgreSQL, inside a transaction, for a role allowed to set
`session_replication_role` (a superuser, or a role granted SET on it: docs/deployment.md), on a table with no trigger
of its own on INSERT (the triggers off would skip it too). Otherwise the rows are copied as before and the database
checks each one.
"""

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from django.db import IntegrityError, models

from mita.core.arrays import array_literal

# (alias, database, user) -> whether the role may set session_replication_role: asked once per database and user
_ALLOWED: dict[tuple[str, str, str], bool] = {}


def role_may_switch_triggers(connection: Any) -> bool:
    """Whether the connection's role may set session_replication_role (asked of the server, not remembered)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper OR has_parameter_privilege(current_user, 'session_replication_role', 'SET') "
            "FROM pg_roles WHERE rolname = current_user"
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def _role_allowed(connection: Any) -> bool:
    settings = connection.settings_dict
    key = (connection.alias, settings["NAME"], settings.get("USER") or "")
    if key not in _ALLOWED:
        _ALLOWED[key] = role_may_switch_triggers(connection)
    return _ALLOWED[key]


def _has_insert_trigger(connection: Any, table: str) -> bool:
    """A trigger of the table's own (not a constraint's) fires on INSERT: turning triggers off would skip it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal "
            "AND tgtype & 4 = 4)",  # TRIGGER_TYPE_INSERT
            [table],
        )
        return bool(cursor.fetchone()[0])


def checked_together(connection: Any, model: type[models.Model]) -> bool:
    """Whether keys_checked checks the model's foreign keys once per batch here (else the database checks each row)."""
    return (
        connection.vendor == "postgresql"
        and connection.in_atomic_block
        and _role_allowed(connection)
        and not _has_insert_trigger(connection, model._meta.db_table)
    )


def _keys_lock(cursor: Any, model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Look up and lock FOR KEY SHARE, in key order, the rows the batch refers to; raise for one that is missing."""
    quote = cursor.db.ops.quote_name
    position = {column: index for index, column in enumerate(columns)}
    for field in model._meta.concrete_fields:
        if not (
            isinstance(field, models.ForeignKey) and getattr(field, "db_constraint", True) and field.column in position
        ):
            continue
        at = position[field.column]
        values = sorted({row[at] for row in rows if row[at] is not None})
        if not values:
            continue
        target = field.target_field
        table, column = quote(target.model._meta.db_table), quote(target.column)
        # The values as one array literal of the key's own type: a list goes through the driver's array dumper value
        # by value (a readings chunk refers to 5,000 connections and 5,000 installations).
        db_type = field.db_type(cursor.db)  # the foreign key column's type, the key's own (bigint, not bigserial)
        cursor.execute(
            f"SELECT {column} FROM ONLY {table} WHERE {column} = ANY(%s::{db_type}[]) ORDER BY {column} FOR KEY SHARE",  # noqa: S608 (model names, quoted)
            [array_literal(values)],
        )
        found = {row[0] for row in cursor.fetchall()}
        if len(found) < len(values):
            missing = next(value for value in values if value not in found)
            raise IntegrityError(
                f'insert into "{model._meta.db_table}": {field.column} = {missing} is not a row of '
                f'"{target.model._meta.db_table}" (foreign key {field.name})'
            )


@contextlib.contextmanager
def keys_checked(
    connection: Any, model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> Iterator[None]:
    """Around the COPY of the rows (values in `columns` order) into the model's table: where checked_together allows,
    their foreign keys checked and locked once per distinct value and the triggers off for the COPY alone; otherwise
    nothing, and the database checks each row."""
    if not checked_together(connection, model):
        yield
        return
    with connection.cursor() as cursor:
        _keys_lock(cursor, model, columns, rows)
        cursor.execute("SET LOCAL session_replication_role = replica")
    yield
    # not reached when the COPY fails: that fails the transaction (or its savepoint), which undoes the SET LOCAL too
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = origin")
