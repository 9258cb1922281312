import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("metering", "0005_import_checked_rows"),
        ("registry", "0004_default_requirements"),
    ]

    # The state drops the foreign keys' own indexes; the database drops them by name (an AlterField rebuilds the table
    # on SQLite, and with it every trigger on it).
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="reading",
                    name="installation",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="readings",
                        to="metering.installation",
                    ),
                ),
                migrations.AlterField(
                    model_name="reading",
                    name="operator",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="registry.operator",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS metering_reading_installation_id_bfcf3519", reverse_sql=migrations.RunSQL.noop
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS metering_reading_operator_id_ad6a4e1f", reverse_sql=migrations.RunSQL.noop
                ),
            ],
        ),
    ]
