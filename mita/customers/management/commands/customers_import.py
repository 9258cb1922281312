"""`mita customers-import FILE --operator PREFIX [--commit]`: preview a CSV or XLSX of customers and connections
(every row judged, nothing imported), and with --commit import it; prints the counts and the rows to fix."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from mita.core.errors import DomainError
from mita.customers.imports import import_batch_run, import_preview, import_rows_to_fix
from mita.registry.models import Operator


class Command(BaseCommand):
    help = "Preview (and with --commit, import) a CSV or XLSX of customers and connections for one operator."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="a CSV (UTF-8, comma or semicolon) or XLSX file, one row per connection")
        parser.add_argument("--operator", required=True, help="the operator's prefix, e.g. AAL")
        parser.add_argument("--commit", action="store_true", help="import the new rows (without it: preview only)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        operator = Operator.objects.filter(prefix__iexact=options["operator"].strip()).first()
        if operator is None:
            raise CommandError(f"No operator has the prefix {options['operator']!r}.")
        try:
            batch = import_preview(operator=operator, acting_user=None, file_name=path.name, content=path.read_bytes())
            self.stdout.write(
                f"Preview of {path.name} for {operator.prefix} (import {batch.pk}): {batch.rows_total} rows, "
                f"{batch.rows_new} new, {batch.rows_unchanged} unchanged, {batch.rows_conflict} conflicts, "
                f"{batch.rows_error} errors."
            )
            if options["commit"]:
                batch = import_batch_run(batch_id=batch.pk)
                self.stdout.write(
                    f"Imported: {batch.rows_imported} rows, {batch.customers_created} customers registered; "
                    f"{batch.rows_unchanged} unchanged, {batch.rows_conflict} conflicts, {batch.rows_error} errors."
                )
        except DomainError as error:
            raise CommandError(str(error.message)) from None
        for row in import_rows_to_fix(batch=batch):
            for problem in row.errors:
                self.stderr.write(f"row {row.number} {row.outcome} {problem['column']}: {problem['message']}")
        if not options["commit"] and batch.rows_new:
            self.stdout.write("Nothing imported: add --commit to import the new rows.")
