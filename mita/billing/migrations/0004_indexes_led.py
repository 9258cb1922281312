import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0003_discard_and_close"),
        ("customers", "0011_imports"),
        ("registry", "0004_default_requirements"),
    ]

    # The state drops the foreign keys' own indexes; the database drops them by name (an AlterField would rebuild the
    # table on SQLite, losing the append-only triggers of the ledger's tables).
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="bill",
                    name="connection",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="customers.connection",
                    ),
                ),
                migrations.AlterField(
                    model_name="bill",
                    name="operator",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="registry.operator",
                    ),
                ),
                migrations.AlterField(
                    model_name="bill",
                    name="run",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="bill_set",
                        to="billing.billrun",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS billing_bill_connection_id_65221ae5", reverse_sql=migrations.RunSQL.noop
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS billing_bill_operator_id_4a0b9d3f", reverse_sql=migrations.RunSQL.noop
                ),
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS billing_bill_run_id_cf99d4c3", reverse_sql=migrations.RunSQL.noop
                ),
            ],
        ),
    ]
