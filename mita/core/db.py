"""Database helpers shared by apps: append-only tables enforced by triggers on PostgreSQL and SQLite.

The triggers refuse UPDATE, DELETE (and on PostgreSQL TRUNCATE) unless the table `mita_purge_allowed`
has a row. Nothing in Mita writes that row: the test suite does, only around tests that must empty the
database between runs (see docs/decisions/0002-append-only-tables.md).
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

PURGE_GUARD_TABLE = "mita_purge_allowed"

_PG_FUNCTION = """
CREATE TABLE IF NOT EXISTS mita_purge_allowed (id integer PRIMARY KEY);
CREATE OR REPLACE FUNCTION mita_refuse_change() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM mita_purge_allowed) THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        IF TG_OP = 'UPDATE' THEN RETURN NEW; END IF;
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'mita: %% on %% is refused: this table is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'raise_exception';
END;
$$ LANGUAGE plpgsql;
"""


def _forward(table: str):  # type: ignore[no-untyped-def]
    def apply(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            schema_editor.execute(_PG_FUNCTION)
            schema_editor.execute(
                f"""
                CREATE TRIGGER {table}_append_only
                    BEFORE UPDATE OR DELETE ON {table}
                    FOR EACH ROW EXECUTE FUNCTION mita_refuse_change();
                CREATE TRIGGER {table}_no_truncate
                    BEFORE TRUNCATE ON {table}
                    FOR EACH STATEMENT EXECUTE FUNCTION mita_refuse_change();
                """
            )
        elif vendor == "sqlite":
            schema_editor.execute(f"CREATE TABLE IF NOT EXISTS {PURGE_GUARD_TABLE} (id integer PRIMARY KEY)")
            for operation in ("UPDATE", "DELETE"):
                schema_editor.execute(
                    f"""
                    CREATE TRIGGER {table}_no_{operation.lower()}
                    BEFORE {operation} ON {table}
                    WHEN NOT EXISTS (SELECT 1 FROM {PURGE_GUARD_TABLE})
                    BEGIN
                        SELECT RAISE(ABORT, 'mita: {operation} on {table} is refused: this table is append-only');
                    END;
                    """
                )
        else:  # pragma: no cover - we support two databases
            raise RuntimeError(f"No append-only trigger for database vendor {vendor}")

    return apply


def _backward(table: str):  # type: ignore[no-untyped-def]
    def unapply(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};")
        else:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update;")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete;")

    return unapply


def append_only(table: str) -> migrations.RunPython:
    """A migration operation that makes the database refuse UPDATE and DELETE on `table`."""
    return migrations.RunPython(_forward(table), _backward(table))


def index_replaced(
    *, table: str, old: str, new: str, columns: str, where: str = "", like: bool = False
) -> migrations.RunPython:
    """A migration's database side when a field's index becomes one of Meta.indexes (state: the field's db_index
    off, the named index added), without an AlterField, which rebuilds the table on SQLite and loses its triggers.

    `old` is the field's index as Django named it; on PostgreSQL a CharField's also had `<old>_like`
    (varchar_pattern_ops, for LIKE 'prefix%'), dropped when `like` is set. `where`: the new index is partial. On
    PostgreSQL a plain index is renamed (no rebuild of a large table); elsewhere it is made again."""

    def forward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        postgresql = schema_editor.connection.vendor == "postgresql"
        if postgresql and like:
            schema_editor.execute(f"DROP INDEX IF EXISTS {old}_like")
        if postgresql and not where:
            schema_editor.execute(f"ALTER INDEX IF EXISTS {old} RENAME TO {new}")
            return
        schema_editor.execute(f"DROP INDEX IF EXISTS {old}")
        condition = f" WHERE {where}" if where else ""
        schema_editor.execute(f"CREATE INDEX {new} ON {table} ({columns}){condition}")

    def backward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        schema_editor.execute(f"DROP INDEX IF EXISTS {new}")
        schema_editor.execute(f"CREATE INDEX {old} ON {table} ({columns})")
        if like and schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"CREATE INDEX {old}_like ON {table} ({columns} varchar_pattern_ops)")

    return migrations.RunPython(forward, backward)


def fill_factor(table: str, percent: int, *, back: int | None = None) -> migrations.RunPython:
    """Keep (100 - percent)% of each page of `table` free on PostgreSQL (its fillfactor), so that updates which change
    no indexed column stay on their page (heap-only tuples, no index entry written); nothing on SQLite. Reversed to
    `back`, or to PostgreSQL's default where None. Pages written before keep their fill until rewritten."""

    def setting(value: int | None):  # type: ignore[no-untyped-def]
        def apply(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
            if schema_editor.connection.vendor != "postgresql":
                return
            if value is None:
                schema_editor.execute(f"ALTER TABLE {table} RESET (fillfactor)")
            else:
                schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {int(value)})")

        return apply

    return migrations.RunPython(setting(percent), setting(back))
