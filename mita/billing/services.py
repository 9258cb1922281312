"""Writes of billing: start a bill run, approve it, publish it, discard a preview, close a cycle. Each step runs in the background (tasks.billrun_step)
unit by unit (run.py); these functions only check, record who and when, and queue the step after commit."""

from decimal import Decimal
from typing import Any

from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.billing.errors import BillingError
from mita.billing.models import Bill, BillException, BillingCycle, BillRun, BillRunUnit
from mita.core import jobs
from mita.core.audit import audit_record
from mita.customers.models import Route
from mita.registry.models import Cluster, SupplySystem
from mita.registry.selectors import operator_billing_permission

ACTIVE = (BillRun.Status.COMPUTING, BillRun.Status.ISSUING, BillRun.Status.PUBLISHING)


def _enqueue(run: BillRun) -> None:
    from mita.billing.tasks import billrun_step

    transaction.on_commit(lambda: billrun_step.enqueue(run_id=run.pk), robust=True)


def _new_job(run: BillRun, *, step: str, acting_user: Any) -> None:
    titles = {
        "compute": _("Bill run %(run)s: preview"),
        "issue": _("Bill run %(run)s: issuing"),
        "publish": _("Bill run %(run)s: publishing"),
    }
    job = jobs.job_create(
        kind=f"billing.{step}",
        title=titles[step] % {"run": f"{run.cycle.code} {run.scope_label}".strip()},
        operator=run.operator,
        created_by=acting_user if getattr(acting_user, "pk", None) else None,
    )
    run.job = job


def scope_resolve(*, operator: Any, kind: str, scope_id: int | None) -> tuple[str, int | None, str]:
    """(kind, id, label) of a run's scope, checked to be the operator's; BillingError when it is not."""
    if kind == BillRun.Scope.OPERATOR:
        return kind, None, ""
    model = {BillRun.Scope.CLUSTER: Cluster, BillRun.Scope.SUPPLY_SYSTEM: SupplySystem, BillRun.Scope.ROUTE: Route}.get(
        kind  # type: ignore[call-overload]
    )
    if model is None:
        raise BillingError(
            _("Unknown scope."),
            code="scope_invalid",
            fields={"scope": [_("operator, cluster, supply_system or route")]},
        )
    found = model.objects.filter(pk=scope_id).first() if scope_id else None
    if found is not None and kind == BillRun.Scope.ROUTE and found.operator_id != operator.pk:
        found = None
    if found is not None and kind == BillRun.Scope.CLUSTER and not found.assignments.filter(operator=operator).exists():
        found = None
    if (
        found is not None
        and kind == BillRun.Scope.SUPPLY_SYSTEM
        and not found.cluster.assignments.filter(operator=operator).exists()
    ):
        found = None
    if found is None:
        raise BillingError(
            _("No such %(kind)s of yours.") % {"kind": kind}, code="scope_unknown", fields={"scope": [_("Not found.")]}
        )
    return kind, found.pk, f"{kind}:{found.code}"


def billrun_create(
    *,
    operator: Any,
    cycle: BillingCycle,
    acting_user: Any,
    scope_kind: str = BillRun.Scope.OPERATOR,
    scope_id: int | None = None,
    background: bool = True,
) -> BillRun:
    """Start a run of a cycle for a scope; the preview is computed in the background. Refused when the operator may
    not bill (the reason is the message), or while another run of the same cycle and scope is still working."""
    if cycle.operator_id != operator.pk:
        raise BillingError(_("No such cycle."), code="cycle_unknown", status=404)
    if cycle.status != BillingCycle.Status.OPEN:
        raise BillingError(_("Cycle %(code)s is closed.") % {"code": cycle.code}, code="cycle_closed")
    permission = operator_billing_permission(operator, timezone.localdate())
    if not permission.allowed:
        raise BillingError(permission.reason, code="operator_may_not_bill", status=403)
    scope_kind, scope_id, label = scope_resolve(operator=operator, kind=scope_kind, scope_id=scope_id)
    with transaction.atomic():
        # The cycle's row is locked so that a cycle being closed (cycle_close) and a run being made cannot cross.
        cycle = BillingCycle.objects.select_for_update().get(pk=cycle.pk)
        if cycle.status != BillingCycle.Status.OPEN:
            raise BillingError(_("Cycle %(code)s is closed.") % {"code": cycle.code}, code="cycle_closed")
        busy = (
            BillRun.objects.select_for_update()
            .filter(operator=operator, cycle=cycle, scope_kind=scope_kind, scope_id=scope_id, status__in=ACTIVE)
            .first()
        )
        if busy is not None:
            raise BillingError(
                _("Run %(id)s of this cycle and scope is still working; wait for it or resume it.") % {"id": busy.pk},
                code="run_in_progress",
                status=409,
            )
        run = BillRun(
            operator=operator,
            cycle=cycle,
            scope_kind=scope_kind,
            scope_id=scope_id,
            scope_label=label,
            created_by=acting_user if getattr(acting_user, "pk", None) else None,
        )
        _new_job(run, step="compute", acting_user=acting_user)
        run.save()
        audit_record(
            actor=acting_user,
            action="billing.run_created",
            target=run,
            operator=operator,
            detail={"cycle": cycle.code, "scope": label},
        )
        if background:  # the CLI runs the steps itself
            _enqueue(run)
    return run


@transaction.atomic
def billrun_approve(*, run: BillRun, acting_user: Any, background: bool = True) -> BillRun:
    """Approve a previewed run: its drafts are numbered, posted to the ledger and issued in the background."""
    run = BillRun.objects.select_for_update().select_related("cycle", "operator").get(pk=run.pk)
    if run.status != BillRun.Status.PREVIEW:
        raise BillingError(
            _("Only a run in preview can be approved; this one is %(status)s.") % {"status": run.get_status_display()},
            code="not_in_preview",
            status=409,
        )
    run.status = BillRun.Status.ISSUING
    run.approved_by = acting_user if getattr(acting_user, "pk", None) else None
    run.approved_at = timezone.now()
    _new_job(run, step="issue", acting_user=acting_user)
    run.save(update_fields=["status", "approved_by", "approved_at", "job"])
    audit_record(
        actor=acting_user,
        action="billing.run_approved",
        target=run,
        operator=run.operator,
        detail={"bills": run.bills, "total": str(run.total)},
    )
    if background:
        _enqueue(run)
    return run


@transaction.atomic
def billrun_publish(*, run: BillRun, acting_user: Any, background: bool = True) -> BillRun:
    """Send the issued bills' SMS (in the background, once per bill)."""
    run = BillRun.objects.select_for_update().select_related("cycle", "operator").get(pk=run.pk)
    if run.status != BillRun.Status.ISSUED:
        raise BillingError(
            _("Only an issued run can be published; this one is %(status)s.") % {"status": run.get_status_display()},
            code="not_issued",
            status=409,
        )
    run.status = BillRun.Status.PUBLISHING
    run.published_by = acting_user if getattr(acting_user, "pk", None) else None
    _new_job(run, step="publish", acting_user=acting_user)
    run.save(update_fields=["status", "published_by", "job"])
    audit_record(actor=acting_user, action="billing.run_published", target=run, operator=run.operator, detail={})
    if background:
        _enqueue(run)
    return run


@transaction.atomic
def billrun_resume(*, run: BillRun, acting_user: Any, background: bool = True) -> BillRun:
    """Queue a stopped run's current step again (its worker died or failed): the units already done stay done."""
    run = BillRun.objects.select_for_update().select_related("cycle", "operator").get(pk=run.pk)
    if run.status not in ACTIVE:
        raise BillingError(
            _("Only a run that is still working can be resumed; this one is %(status)s.")
            % {"status": run.get_status_display()},
            code="not_working",
            status=409,
        )
    step = {BillRun.Status.COMPUTING: "compute", BillRun.Status.ISSUING: "issue", BillRun.Status.PUBLISHING: "publish"}
    _new_job(run, step=step[run.status], acting_user=acting_user)  # type: ignore[index]
    run.message = ""
    run.save(update_fields=["job", "message"])
    audit_record(actor=acting_user, action="billing.run_resumed", target=run, operator=run.operator, detail={})
    if background:
        _enqueue(run)
    return run


@transaction.atomic
def billrun_discard(*, run: BillRun, acting_user: Any, reason: str = "") -> BillRun:
    """Throw a previewed run away: its draft bills, their lines, its exceptions and units are deleted (drafts are not
    in the ledger: nothing was posted) and the run is marked discarded, so its connections can be billed by a new run
    of the cycle. What it held is kept in the run's message and the audit entry."""
    run = BillRun.objects.select_for_update().select_related("cycle", "operator").get(pk=run.pk)
    if run.status != BillRun.Status.PREVIEW:
        raise BillingError(
            _("Only a run in preview can be discarded; this one is %(status)s.") % {"status": run.get_status_display()},
            code="not_in_preview",
            status=409,
        )
    reason = (reason or "").strip()[:300]
    bills = Bill.objects.filter(run=run)
    if bills.exclude(status=Bill.Status.DRAFT).exists():  # a preview holds drafts only; never delete an issued bill
        raise BillingError(_("This run holds bills that are not drafts."), code="not_drafts", status=409)
    held = {"bills": run.bills, "total": str(run.total), "exceptions": run.exceptions, "reason": reason}
    # Set-based: a preview may hold hundreds of thousands of drafts (their lines are kept on them).
    with db_connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {Bill._meta.db_table} WHERE run_id = %s AND status = %s",  # noqa: S608
            [run.pk, Bill.Status.DRAFT],
        )
    BillException.objects.filter(run=run).delete()
    BillRunUnit.objects.filter(run=run).delete()
    run.status = BillRun.Status.DISCARDED
    run.discarded_by = acting_user if getattr(acting_user, "pk", None) else None
    run.discarded_at = timezone.now()
    run.message = (
        _("Discarded: %(bills)s draft bills totalling %(total)s, %(exceptions)s exceptions.")
        % {"bills": held["bills"], "total": held["total"], "exceptions": held["exceptions"]}
    )[:500]
    run.bills, run.exceptions, run.total = 0, 0, Decimal(0)
    run.save(update_fields=["status", "discarded_by", "discarded_at", "message", "bills", "exceptions", "total"])
    audit_record(actor=acting_user, action="billing.run_discarded", target=run, operator=run.operator, detail=held)
    return run


# Runs that are not finished with their cycle: closing it waits for them (discarded and failed runs do not count).
UNFINISHED = (BillRun.Status.COMPUTING, BillRun.Status.PREVIEW, BillRun.Status.ISSUING)


@transaction.atomic
def cycle_close(*, cycle: BillingCycle, acting_user: Any) -> BillingCycle:
    """Close a billing cycle once its runs are issued (or published): it takes no new run afterwards. Refused while
    a run of it is computing, in preview or issuing (approve or discard it first)."""
    cycle = BillingCycle.objects.select_for_update().select_related("operator").get(pk=cycle.pk)
    if cycle.status == BillingCycle.Status.CLOSED:
        raise BillingError(
            _("Cycle %(code)s is already closed.") % {"code": cycle.code}, code="cycle_closed", status=409
        )
    unfinished = list(BillRun.objects.filter(cycle=cycle, status__in=UNFINISHED).order_by("pk"))
    if unfinished:
        raise BillingError(
            _("Cycle %(code)s still has runs that are not issued: %(runs)s. Approve or discard them first.")
            % {
                "code": cycle.code,
                "runs": ", ".join(f"#{run.pk} ({run.get_status_display()})" for run in unfinished),
            },
            code="runs_unfinished",
            status=409,
        )
    cycle.status = BillingCycle.Status.CLOSED
    cycle.closed_by = acting_user if getattr(acting_user, "pk", None) else None
    cycle.closed_at = timezone.now()
    cycle.save(update_fields=["status", "closed_by", "closed_at"])
    audit_record(
        actor=acting_user,
        action="billing.cycle_closed",
        target=cycle,
        operator=cycle.operator,
        detail={
            "code": cycle.code,
            "bills": Bill.objects.filter(operator_id=cycle.operator_id, cycle=cycle)
            .exclude(status=Bill.Status.CANCELLED)
            .count(),
        },
    )
    return cycle
