import django.db.models.deletion
from django.db import migrations, models

# Two indexes fewer written with every reading (docs/decisions/0007):
# - a connection is one operator's, so reading_connection_cycle needs no operator: (connection, cycle) serves the
#   same look-ups and the connection's foreign key, whose own index goes;
# - reading_reader_date becomes (reader, read_on) where a reader is set: it serves a reader's recent readings and the
#   reader's foreign key, so reading_reader goes, and a reading without a reader (an import, a smart meter) writes
#   neither.
# The connection's field index is dropped by SQL: an AlterField would rebuild the table on SQLite.


class Migration(migrations.Migration):
    dependencies = [
        ("metering", "0009_meter_state_fillfactor_half"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="reading", name="reading_connection_cycle"),
        migrations.RemoveIndex(model_name="reading", name="reading_reader_date"),
        migrations.RemoveIndex(model_name="reading", name="reading_reader"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="reading",
                    name="connection",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="customers.connection",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS metering_reading_connection_id_052178da",
                    "CREATE INDEX metering_reading_connection_id_052178da ON metering_reading (connection_id)",
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="reading",
            index=models.Index(fields=["connection", "cycle"], name="reading_connection_cycle"),
        ),
        migrations.AddIndex(
            model_name="reading",
            index=models.Index(
                condition=models.Q(("reader__isnull", False)), fields=["reader", "read_on"], name="reading_reader_date"
            ),
        ),
    ]
