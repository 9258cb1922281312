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
from mita.metering.models import Reading
from mita.registry.models import Cluster
from mita.registry.selectors_clusters import cluster_billable
from mita.tariffs.selectors import ConnectionFacts, tariff_book

STAGES = {"amazi": BillRun.Status.PUBLISHED, "kilaraipur": BillRun.Status.ISSUED, "izuba": BillRun.Status.PREVIEW}
CYCLE = "2026-11"
LIVE = (Connection.Status.PENDING, Connection.Status.ACTIVE)


def _busiest_route(operator: Any, cycle: BillingCycle) -> Route | None:
    """The route with the most connections a run would bill for the cycle: live, metered, read and accepted in the
    cycle with nothing waiting for review, priced by a tariff, and in no cluster the operator may no longer bill."""
    read = set(
        Reading.objects.filter(operator=operator, cycle__in=cycle.months, status=Reading.Status.ACCEPTED).values_list(
            "connection_id", flat=True
        )
    ) - set(
        Reading.objects.filter(operator=operator, cycle__in=cycle.months, status=Reading.Status.REVIEW).values_list(
            "connection_id", flat=True
        )
    )
    book = tariff_book(operator=operator, on=cycle.end)
    billable: dict[int | None, bool] = {None: True}
    counts: dict[int, int] = {}
    for connection in Connection.objects.filter(
        operator=operator, status__in=LIVE, metered=True, route__isnull=False
    ).only(
        "pk", "route_id", "cluster_id", "utility", "property_type", "connection_type", "supply_system_id", "package"
    ):
        connection_id, route_id, cluster_id = connection.pk, connection.route_id, connection.cluster_id
        if connection_id not in read or book.match(ConnectionFacts.of(connection)) is None:
            continue
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
