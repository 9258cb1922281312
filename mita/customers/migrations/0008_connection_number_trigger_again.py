# Hand-written: kept in its own file so that it survives renumbering (RULES.md).
#
# On SQLite, adding a NOT NULL column rebuilds the table (Django's _remake_table), and a rebuilt table loses its
# triggers: 0007 (and any later migration adding Connection fields) drops customers_connection_number_fixed, the
# trigger of 0001 that refuses a change of a connection's number. This puts it back; it is idempotent, so the merger
# can keep it after the last migration that adds a Connection field. PostgreSQL keeps triggers through ALTER TABLE.

from django.db import migrations

_SQLITE_NUMBER_FIXED = """
CREATE TRIGGER IF NOT EXISTS customers_connection_number_fixed
    BEFORE UPDATE OF number ON customers_connection
    WHEN NEW.number IS NOT OLD.number
BEGIN
    SELECT RAISE(ABORT, 'mita: a connection number never changes');
END;
"""


def _number_fixed_again(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(_SQLITE_NUMBER_FIXED)


class Migration(migrations.Migration):
    dependencies = [("customers", "0007_connection_lifecycle")]

    operations = [migrations.RunPython(_number_fixed_again, migrations.RunPython.noop)]
