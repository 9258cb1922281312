# Hand-written, as 0008: on SQLite, 0012 (Connection.assessed_usage and its check constraint) rebuilds the
# connection table, which drops customers_connection_number_fixed, the trigger that refuses a change of a
# connection's number. This puts it back (idempotent). PostgreSQL keeps triggers through ALTER TABLE.

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
    dependencies = [("customers", "0012_indigent_register_assessed_usage")]

    operations = [migrations.RunPython(_number_fixed_again, migrations.RunPython.noop)]
