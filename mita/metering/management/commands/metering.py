"""`mita metering verify [--operator PREFIX] [--repair]`: check every connection's meter state against its readings."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mita.metering.state_check import states_check


class Command(BaseCommand):
    help = "Check where each connection's meter stands against its readings; exit code 1 on any mismatch."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="Rebuild the meter states from the readings and compare.")
        verify.add_argument("--operator", help="Only this operator (its prefix).")
        verify.add_argument("--repair", action="store_true", help="Write the rebuilt values over the wrong ones.")

    def handle(self, *args: Any, **options: Any) -> None:
        operator = None
        if options.get("operator"):
            from mita.registry.models import Operator

            operator = Operator.objects.filter(prefix__iexact=options["operator"]).first()
            if operator is None:
                raise CommandError(f"No operator with the prefix {options['operator']!r}.")
        mismatches = list(states_check(operator=operator, repair=options["repair"]))
        for m in mismatches:
            self.stdout.write(
                f"connection {m.connection_id} {m.register}: {m.field} is {m.cached}, readings say {m.rebuilt}"
            )
        if not mismatches:
            self.stdout.write("Meter states verified: every state matches its readings.")
            return
        if options["repair"]:
            self.stdout.write(f"Repaired {len(mismatches)} values.")
            return
        raise SystemExit(1)
