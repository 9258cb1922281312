"""`mita ledger verify`: recompute every balance from the transfers; exit 1 and list them if any differs."""

from typing import Any

from django.core.management.base import BaseCommand

from mita.ledger.models import Transfer
from mita.ledger.selectors import ledger_verify


class Command(BaseCommand):
    help = "Check the ledger: `mita ledger verify`."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        mismatches = ledger_verify()
        transfers = Transfer.objects.count()
        if mismatches:
            for mismatch in mismatches:
                self.stderr.write(f"MISMATCH {mismatch}")
            self.stderr.write(f"{len(mismatches)} balance(s) differ from their {transfers} transfers.")
            raise SystemExit(1)
        self.stdout.write(f"Ledger verified: every balance matches its transfers ({transfers} transfers).")
