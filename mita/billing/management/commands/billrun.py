"""`mita billrun --operator PREFIX --cycle 2026-10 [--scope route:CODE|cluster:CODE|supply-system:ID] [--approve]
[--publish]`: compute a bill run (or resume the unfinished one of that cycle and scope), approve and publish it; a
progress bar on stderr, a JSON summary on stdout."""

import functools
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mita.billing.errors import BillingError
from mita.billing.models import BillingCycle, BillRun
from mita.billing.run import UNIT_SIZE, run_until_done
from mita.billing.services import ACTIVE, billrun_approve, billrun_create, billrun_publish
from mita.customers.models import Route
from mita.registry.models import Cluster, Operator


def _bar(stream: Any, run: BillRun, done: int, total: int) -> None:
    width = 30
    filled = width * done // total if total else width
    line = f"\r{run.get_status_display():<28} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} units"
    stream.write(line + ("\n" if done >= total else ""), ending="")
    stream.flush()


class Command(BaseCommand):
    help = "Run a cycle's bills for an operator (resuming an unfinished run), approve and publish them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--operator", required=True, help="The operator's prefix, e.g. AMA.")
        parser.add_argument("--cycle", required=True, help="The cycle's code, e.g. 2026-10 or 2026-Q4.")
        parser.add_argument("--scope", default="", help="route:CODE, cluster:CODE or supply-system:ID (default all).")
        parser.add_argument("--approve", action="store_true", help="Approve the preview and issue the bills.")
        parser.add_argument("--publish", action="store_true", help="Send the bills' SMS (implies --approve).")
        parser.add_argument("--unit-size", type=int, default=UNIT_SIZE, help="Connections in a block unit.")
        parser.add_argument("--quiet", action="store_true", help="No progress bar.")
        parser.add_argument(
            "--workers", type=int, default=1, help="Processes sharing the units (PostgreSQL only; default 1)."
        )

    def _scope(self, operator: Operator, scope: str) -> tuple[str, int | None]:
        if not scope:
            return BillRun.Scope.OPERATOR, None
        kind, _sep, value = scope.partition(":")
        if kind == "route":
            route = Route.objects.filter(operator=operator, code__iexact=value).first()
            if route is None:
                raise CommandError(f"No route {value} of {operator.prefix}.")
            return BillRun.Scope.ROUTE, route.pk
        if kind == "cluster":
            cluster = Cluster.objects.filter(code__iexact=value).first()
            if cluster is None:
                raise CommandError(f"No cluster {value}.")
            return BillRun.Scope.CLUSTER, cluster.pk
        if kind == "supply-system" and value.isdigit():
            return BillRun.Scope.SUPPLY_SYSTEM, int(value)
        raise CommandError("--scope is route:CODE, cluster:CODE or supply-system:ID.")

    def handle(self, *args: Any, **options: Any) -> None:
        operator = Operator.objects.filter(prefix__iexact=options["operator"]).first()
        if operator is None:
            raise CommandError(f"No operator with the prefix {options['operator']}.")
        cycle = BillingCycle.objects.filter(operator=operator, code=options["cycle"]).first()
        if cycle is None:
            raise CommandError(f"No cycle {options['cycle']} of {operator.prefix}; make the calendar first.")
        kind, scope_id = self._scope(operator, options["scope"])
        progress = None if options["quiet"] else functools.partial(_bar, self.stderr)
        unit_size = max(1, options["unit_size"])
        workers = max(1, options["workers"])
        run = (
            BillRun.objects.filter(operator=operator, cycle=cycle, scope_kind=kind, scope_id=scope_id)
            .exclude(status=BillRun.Status.FAILED)
            .order_by("-pk")
            .first()
        )
        try:
            if run is None or (run.status not in ACTIVE and not (options["approve"] or options["publish"])):
                run = billrun_create(
                    operator=operator,
                    cycle=cycle,
                    acting_user=None,
                    scope_kind=kind,
                    scope_id=scope_id,
                    background=False,
                )
            run = run_until_done(run, progress=progress, unit_size=unit_size, workers=workers)
            if (options["approve"] or options["publish"]) and run.status == BillRun.Status.PREVIEW:
                run = billrun_approve(run=run, acting_user=None, background=False)
            run = run_until_done(run, progress=progress, workers=workers)
            if options["publish"] and run.status == BillRun.Status.ISSUED:
                run = billrun_publish(run=run, acting_user=None, background=False)
            run = run_until_done(run, progress=progress, workers=workers)
        except BillingError as error:
            raise CommandError(str(error)) from None
        summary = {
            "run": run.pk,
            "operator": operator.prefix,
            "cycle": cycle.code,
            "scope": run.scope_label or "operator",
            "status": run.status,
            "units": run.units_total,
            "connections": run.connections,
            "bills": run.bills,
            "exceptions": run.exceptions,
            "total": format(run.total, "f"),
        }
        self.stdout.write(json.dumps(summary))
