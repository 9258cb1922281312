"""The database's indexes are the models' own: migrations that change an index by hand (core.db.index_replaced, or a
DROP INDEX beside a state-only AlterField) leave neither a missing index nor a stray one behind."""

import pytest
from django.apps import apps
from django.db import connection, models
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

from mita.core.db import index_replaced

pytestmark = pytest.mark.django_db


def _expected(model: type[models.Model], editor) -> set[str]:  # type: ignore[no-untyped-def]
    """The names of the indexes (not primary keys) Django would make for the model on this database."""
    table = model._meta.db_table
    like = getattr(editor, "_create_like_index_sql", None)  # PostgreSQL's LIKE index of a text column
    names = {index.name for index in model._meta.indexes}
    names |= {
        constraint.name for constraint in model._meta.constraints if isinstance(constraint, models.UniqueConstraint)
    }
    for field in model._meta.local_concrete_fields:
        if field.primary_key:
            continue
        if field.unique:  # the column's own UNIQUE, named by PostgreSQL (SQLite's has no name)
            if connection.vendor == "postgresql":
                names.add(f"{table}_{field.column}_key")
        elif field.db_index:
            names.add(editor._create_index_name(table, [field.column], suffix=""))
        if (field.unique or field.db_index) and like is not None and like(model, field) is not None:
            names.add(editor._create_index_name(table, [field.column], suffix="_like"))
    return names


def _constraints(table: str) -> dict[str, dict]:
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, table)


def _found(table: str) -> set[str]:
    return {
        name
        for name, details in _constraints(table).items()
        if (details["index"] or details["unique"]) and not details["primary_key"] and not details["foreign_key"]
    }


MITA_APPS = (
    "accounts",
    "billing",
    "core",
    "customers",
    "ledger",
    "metering",
    "notifications",
    "payments",
    "registry",
    "servicing",
    "stock",
    "tariffs",
)
# Made by a migration's SQL, which no model field or Meta index can say: customer search's trigram index (PostgreSQL).
MADE_BY_SQL = {"customers.SearchTerm": {"searchterm_trigram"}}


def test_every_table_has_the_indexes_its_model_declares_and_no_other():
    mismatched = {}
    editor = connection.schema_editor()  # for its index names only: not entered, nothing is changed
    for app_label in MITA_APPS:
        for model in apps.get_app_config(app_label).get_models():
            if model._meta.proxy or not model._meta.managed:
                continue
            expected, found = _expected(model, editor), _found(model._meta.db_table)
            found -= MADE_BY_SQL.get(model._meta.label, set())
            if connection.vendor == "sqlite":  # a unique column's constraint is inline, without a name of Django's
                found = {name for name in found if not name.startswith(("sqlite_autoindex_", "__unnamed_constraint_"))}
            if expected != found:
                mismatched[model._meta.label] = {"missing": expected - found, "stray": found - expected}
    assert not mismatched, mismatched


def _indexes_of(table: str) -> dict[str, list[str]]:
    return {name: details["columns"] for name, details in _constraints(table).items() if details["index"]}


def _apply(operation: Operation, forward: bool) -> None:
    state = ProjectState()
    with connection.schema_editor() as editor:
        if forward:
            operation.database_forwards("core", editor, state, state)
        else:
            operation.database_backwards("core", editor, state, state)


@pytest.mark.django_db(transaction=True)
def test_index_replaced_renames_or_remakes_an_index_and_can_be_undone():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE mita_test_indexed (id integer PRIMARY KEY, code varchar(20), who integer)")
        cursor.execute("CREATE INDEX mita_test_indexed_code_1 ON mita_test_indexed (code)")
        cursor.execute("CREATE INDEX mita_test_indexed_who_1 ON mita_test_indexed (who)")
        if connection.vendor == "postgresql":
            cursor.execute("CREATE INDEX mita_test_indexed_code_1_like ON mita_test_indexed (code varchar_pattern_ops)")
    try:
        plain = index_replaced(
            table="mita_test_indexed", old="mita_test_indexed_code_1", new="test_code", columns="code", like=True
        )
        partial = index_replaced(
            table="mita_test_indexed",
            old="mita_test_indexed_who_1",
            new="test_who",
            columns="who",
            where="who IS NOT NULL",
        )
        _apply(plain, forward=True)
        _apply(partial, forward=True)
        assert _indexes_of("mita_test_indexed") == {"test_code": ["code"], "test_who": ["who"]}
        _apply(partial, forward=False)
        _apply(plain, forward=False)
        expected = {"mita_test_indexed_code_1": ["code"], "mita_test_indexed_who_1": ["who"]}
        if connection.vendor == "postgresql":
            expected["mita_test_indexed_code_1_like"] = ["code"]
        assert _indexes_of("mita_test_indexed") == expected
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE mita_test_indexed")
