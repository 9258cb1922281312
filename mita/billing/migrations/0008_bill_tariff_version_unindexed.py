import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0007_bill_cycle_unit_unindexed"),
        ("tariffs", "0001_initial"),
    ]

    # Nothing looks bills up by tariff version (a version is never deleted): the state drops the field's index, the
    # database drops it by name (an AlterField would rebuild the table on SQLite).
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="bill",
                    name="tariff_version",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tariffs.tariffversion",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS billing_bill_tariff_version_id_b35b20db",
                    reverse_sql="CREATE INDEX billing_bill_tariff_version_id_b35b20db ON billing_bill (tariff_version_id)",
                ),
            ],
        ),
    ]
