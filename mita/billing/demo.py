"""The demo's bill runs: each operator's 2026 calendar and a run of November 2026 for one route, left at each stage
of its life (published at Amazi Meza, issued at Kila Raipur, waiting in preview at Izuba Mini-Grids)."""

from typing import Any

from mita.accounts.roles import Role
from mita.billing.cycles import cycles_generate
from mita.billing.models import BillingCycle, BillRun
from mita.billing.run import run_until_done
from mita.billing.services import billrun_approve, billrun_create, billrun_publish
from mita.core.demo import DemoContext, register_demo_step
from mita.customers.lifecycle import connection_status_change
from mita.customers.models import Connection, Route
from mita.registry.models import Cluster
from mita.registry.selectors_clusters import cluster_billable

STAGES = {"amazi": BillRun.Status.PUBLISHED, "kilaraipur": BillRun.Status.ISSUED, "izuba": BillRun.Status.PREVIEW}
CYCLE = "2026-11"
LIVE = (Connection.Status.PENDING, Connection.Status.ACTIVE)


def _busiest_route(operator: Any, cycle: BillingCycle) -> Route | None:
    """The route with the most live metered connections that may be billed for the cycle (none in a cluster the
    operator may no longer bill): their readings of the year are the demo's."""
    billable: dict[int | None, bool] = {None: True}
    counts: dict[int, int] = {}
    for route_id, cluster_id in Connection.objects.filter(
        operator=operator, status__in=LIVE, metered=True, route__isnull=False
    ).values_list("route_id", "cluster_id"):
        if cluster_id not in billable:
            billable[cluster_id] = cluster_billable(Cluster.objects.get(pk=cluster_id), cycle.end, operator)
        if billable[cluster_id]:
            counts[route_id] = counts.get(route_id, 0) + 1
    if not counts:
        return None
    return Route.objects.get(pk=max(counts, key=lambda route_id: (counts[route_id], -route_id)))


def _activate(route: Route, acting_user: Any) -> None:
    """The bulk-imported connections of an old register arrive pending; those of the billed route are connected."""
    for connection in Connection.objects.filter(route=route, status=Connection.Status.PENDING, metered=True):
        connection_status_change(
            connection=connection,
            status=Connection.Status.ACTIVE,
            reason="Connected before Mita (old register)",
            acting_user=acting_user,
        )


def build_bill_runs(ctx: DemoContext) -> None:
    for key, stage in STAGES.items():
        operator: Any = ctx.objects.get(f"operator:{key}")
        if operator is None:
            continue
        cycles_generate(operator=operator, year=2026)
        cycle = BillingCycle.objects.get(operator=operator, code=CYCLE)
        route = _busiest_route(operator, cycle)
        if route is None:
            continue
        officer = ctx.objects["users"].get(f"{Role.BILLING_OFFICER}@{operator}")
        admin = ctx.objects["users"].get(f"{Role.OPERATOR_ADMIN}@{operator}")
        _activate(route, admin)
        run = billrun_create(
            operator=operator, cycle=cycle, acting_user=officer, scope_kind="route", scope_id=route.pk, background=False
        )
        run = run_until_done(run)
        if stage in (BillRun.Status.ISSUED, BillRun.Status.PUBLISHED):
            run = run_until_done(billrun_approve(run=run, acting_user=admin, background=False))
        if stage == BillRun.Status.PUBLISHED:
            run = run_until_done(billrun_publish(run=run, acting_user=admin, background=False))
        ctx.log(
            f"{operator.prefix}: {CYCLE} for route {route.code}: {run.bills} bills, {run.exceptions} exceptions, "
            f"{run.total} {operator.currency}, {run.get_status_display()}"
        )


register_demo_step(70, "billing.runs", build_bill_runs)
