"""PostgreSQL only: the pg_trgm extension and a trigram (GIN) index on the name and address words of the search
index, for words found *inside* a word ("wase" finds Uwase). On SQLite this migration does nothing."""

from django.db import migrations

_PG_TRIGRAM = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS searchterm_trigram ON customers_searchterm
    USING gin (term gin_trgm_ops) WHERE kind IN ('name', 'address');
"""


def _trigram(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_PG_TRIGRAM)


def _trigram_undo(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS searchterm_trigram;")


class Migration(migrations.Migration):
    dependencies = [("customers", "0009_search_fields")]

    operations = [migrations.RunPython(_trigram, _trigram_undo)]
