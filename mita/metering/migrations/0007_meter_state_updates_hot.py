import django.db.models.deletion
from django.db import migrations, models

from mita.core.db import fill_factor

# Every reading recorded updates its connection's meter state (last index, date, history). The state's connection
# index only repeated the lead of meter_state_unique; it is dropped by name (an AlterField rebuilds the table on
# SQLite). On PostgreSQL the table keeps a fifth of each page free (fillfactor 80), so that those updates, which
# change no indexed column, stay on their page as heap-only tuples and touch none of the table's indexes (the pages
# written before keep their fill until rewritten; new and updated rows get the room).


class Migration(migrations.Migration):
    dependencies = [
        ("metering", "0006_indexes_led"),
        ("customers", "0013_connection_number_trigger_after_assessed_usage"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="meterstate",
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
                    "DROP INDEX IF EXISTS metering_meterstate_connection_id_3d693f9e",
                    reverse_sql=migrations.RunSQL.noop,
                ),
            ],
        ),
        fill_factor("metering_meterstate", 80),
    ]
