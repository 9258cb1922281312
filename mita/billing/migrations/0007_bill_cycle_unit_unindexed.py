import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0006_lines_on_the_bill"),
    ]

    # A bill's cycle and unit lose their own indexes: every query by them names the operator (bill_cycle) or the run
    # (bill_run_unit) too. The state changes the fields; the database drops the indexes by name (an AlterField would
    # rebuild the table on SQLite).
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="bill",
                    name="cycle",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="bills",
                        to="billing.billingcycle",
                    ),
                ),
                migrations.AlterField(
                    model_name="bill",
                    name="unit",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="billing.billrununit",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS billing_bill_cycle_id_659e8641",
                    reverse_sql="CREATE INDEX billing_bill_cycle_id_659e8641 ON billing_bill (cycle_id)",
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS billing_bill_unit_id_21996ba5",
                    reverse_sql="CREATE INDEX billing_bill_unit_id_21996ba5 ON billing_bill (unit_id)",
                ),
            ],
        ),
    ]
