# Hand-written: SQLite rebuilds a table to add NOT NULL columns or constraints, and the rebuild drops its triggers.
# 0004_connection_details rebuilt customers_connection, so the trigger that keeps connection numbers fixed is made
# again here (PostgreSQL keeps its trigger through ALTER TABLE: nothing to do there). Keep this file after any
# migration that rebuilds customers_connection.

from django.db import migrations

_SQLITE_NUMBER_FIXED = """
CREATE TRIGGER customers_connection_number_fixed
    BEFORE UPDATE OF number ON customers_connection
    WHEN NEW.number IS NOT OLD.number
BEGIN
    SELECT RAISE(ABORT, 'mita: a connection number never changes');
END;
"""


def _number_fixed_again(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS customers_connection_number_fixed;")
        schema_editor.execute(_SQLITE_NUMBER_FIXED)


class Migration(migrations.Migration):
    dependencies = [("customers", "0004_connection_details")]

    operations = [migrations.RunPython(_number_fixed_again, migrations.RunPython.noop)]
