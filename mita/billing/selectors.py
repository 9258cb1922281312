"""Reads of billing: cycles, runs, bills and exceptions a workspace may see (another operator's are a 404)."""

from typing import Any

from django.db.models import Count, QuerySet
from django.http import Http404

from mita.accounts.roles import OPERATOR_ROLES, Role
from mita.billing.models import Bill, BillException, BillingCycle, BillRun
from mita.core.access import Access

BILLING_READ_ROLES = (*sorted(OPERATOR_ROLES), Role.REGULATOR_ADMIN, Role.REGULATOR_VIEWER, Role.DISTRICT_OFFICER)
BILLING_WRITE_ROLES = (Role.OPERATOR_ADMIN, Role.BILLING_OFFICER)
# Discarding a preview and closing a cycle: the operator's admins only (docs/billing.md).
BILLING_ADMIN_ROLES = (Role.OPERATOR_ADMIN,)


def cycles_visible_to(*, access: Access, year: int | None = None) -> QuerySet[BillingCycle]:
    cycles = BillingCycle.objects.visible_to(access).select_related("operator")
    if year:
        cycles = cycles.filter(start__year=year)
    return cycles.order_by("operator__name", "start", "frequency")


def cycle_get_for_access(*, access: Access, cycle_id: int) -> BillingCycle:
    cycle = BillingCycle.objects.visible_to(access).filter(pk=cycle_id).first()
    if cycle is None:
        raise Http404
    return cycle


def runs_visible_to(*, access: Access) -> QuerySet[BillRun]:
    return BillRun.objects.visible_to(access).select_related("operator", "cycle", "job").order_by("-created_at", "-pk")


def run_get_for_access(*, access: Access, run_id: int) -> BillRun:
    run = runs_visible_to(access=access).filter(pk=run_id).first()
    if run is None:
        raise Http404
    return run


def bills_visible_to(
    *, access: Access, run: BillRun | None = None, cycle: str = "", status: str = "", account: str = ""
) -> QuerySet[Bill]:
    bills = Bill.objects.visible_to(access).select_related("operator", "cycle", "connection__customer__district")
    if run is not None:
        bills = bills.filter(run=run)
    if cycle:
        bills = bills.filter(cycle__code=cycle)
    if status:
        bills = bills.filter(status=status)
    if account:
        bills = bills.filter(account__istartswith=account.strip())
    return bills.order_by("operator__name", "-cycle__start", "account")


def bill_get_for_access(*, access: Access, bill_id: int) -> Bill:
    bill = (
        Bill.objects.visible_to(access)
        .select_related("operator", "cycle", "run", "connection__customer", "tariff_version__tariff")
        .filter(pk=bill_id)
        .first()
    )
    if bill is None:
        raise Http404
    return bill


def exceptions_by_kind(*, run: BillRun) -> list[dict[str, Any]]:
    """The run's exceptions counted by kind, with the label of each kind."""
    labels = dict(BillException.Kind.choices)
    rows = BillException.objects.filter(run=run).values("kind").annotate(count=Count("pk")).order_by("kind")
    return [
        {"kind": row["kind"], "label": str(labels.get(row["kind"], row["kind"])), "count": row["count"]} for row in rows
    ]


def exceptions_of(*, run: BillRun, kind: str = "") -> QuerySet[BillException]:
    exceptions = BillException.objects.filter(run=run).select_related("connection")
    if kind:
        exceptions = exceptions.filter(kind=kind)
    return exceptions.order_by("kind", "connection__number")
