import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("metering", "0010_reading_indexes_lead_with_connection_and_reader"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # Nothing looks readings up by who recorded them: the state drops the field's index, the database drops it by name
    # (an AlterField would rebuild the table on SQLite and lose its append-only triggers).
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="reading",
                    name="created_by",
                    field=models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS metering_reading_created_by_id_ab1845c4",
                    reverse_sql="CREATE INDEX metering_reading_created_by_id_ab1845c4 ON metering_reading (created_by_id)",
                ),
            ],
        ),
    ]
