import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0004_indexes_led"),
        ("registry", "0004_default_requirements"),
    ]

    # Accounts are found by operator and code (account_code_unique_per_operator leads with the operator). With an
    # index on the operator alone, PostgreSQL chose it for a unit's few thousand codes and read every account of the
    # operator (a million at a national utility). The state drops the foreign key's index; the database drops it by
    # name (an AlterField would rebuild the table on SQLite).
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="account",
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
                    "DROP INDEX IF EXISTS ledger_account_operator_id_15c8f30e", reverse_sql=migrations.RunSQL.noop
                ),
            ],
        ),
    ]
