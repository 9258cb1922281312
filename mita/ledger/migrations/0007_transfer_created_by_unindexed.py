import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0006_indexes_used"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # Nothing looks transfers up by who made them: the state drops the field's index, the database drops it by name
    # (an AlterField would rebuild the table on SQLite and lose its append-only triggers).
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="transfer",
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
                    "DROP INDEX IF EXISTS ledger_transfer_created_by_id_09df1316",
                    reverse_sql="CREATE INDEX ledger_transfer_created_by_id_09df1316 ON ledger_transfer (created_by_id)",
                ),
            ],
        ),
    ]
