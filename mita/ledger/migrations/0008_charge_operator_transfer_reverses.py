import django.db.models.deletion
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

REVERSES_ONCE = (
    "CREATE UNIQUE INDEX transfer_reverses_once ON ledger_transfer (reverses_id) WHERE reverses_id IS NOT NULL"
)


def reverses_once(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """PostgreSQL: the column's own UNIQUE (an index entry for every transfer, NULLs included) becomes a partial
    unique index. SQLite keeps its inline UNIQUE (dropping it rebuilds the table) beside the partial index."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE ledger_transfer DROP CONSTRAINT IF EXISTS ledger_transfer_reverses_id_key")
    schema_editor.execute(REVERSES_ONCE)


def reverses_unique(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    schema_editor.execute("DROP INDEX IF EXISTS transfer_reverses_once")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE ledger_transfer ADD CONSTRAINT ledger_transfer_reverses_id_key UNIQUE (reverses_id)"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0007_transfer_created_by_unindexed"),
        ("registry", "0004_default_requirements"),
    ]

    # Indexes written with every charge and every transfer that no query uses (docs/decisions/0007): a charge's
    # operator (every query names a holder, a reference or a key beside it), and the unique index of the transfer a
    # transfer reverses, empty for almost every transfer. The state changes the fields; the database drops or
    # replaces the indexes by name (an AlterField would rebuild the table on SQLite and lose its triggers).
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="charge",
                    name="operator",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="registry.operator",
                    ),
                ),
                migrations.AlterField(
                    model_name="transfer",
                    name="reverses",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reversed_by",
                        to="ledger.transfer",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="transfer",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("reverses__isnull", False)),
                        fields=("reverses",),
                        name="transfer_reverses_once",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS ledger_charge_operator_id_1aa28c3b",
                    reverse_sql="CREATE INDEX ledger_charge_operator_id_1aa28c3b ON ledger_charge (operator_id)",
                ),
                migrations.RunPython(reverses_once, reverses_unique),
            ],
        ),
    ]
