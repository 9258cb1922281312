import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0003_balance_shards"),
        ("registry", "0004_default_requirements"),
    ]

    # The state drops the foreign keys' own indexes; the database drops them by name (an AlterField would rebuild the
    # table on SQLite, losing the append-only triggers of the ledger's tables).
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="transfer",
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
                    "DROP INDEX IF EXISTS ledger_transfer_operator_id_d6c333d8", reverse_sql=migrations.RunSQL.noop
                ),
            ],
        ),
    ]
