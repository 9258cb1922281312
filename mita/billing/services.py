"""Writes of billing: start a bill run, approve it, publish it. Each step runs in the background (tasks.billrun_step)
unit by unit (run.py); these functions only check, record who and when, and queue the step after commit."""

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.billing.errors import BillingError
from mita.billing.models import BillingCycle, BillRun
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
    run = BillRun.objects.select_for_update().select_related("cycle", "operator", "job").get(pk=run.pk)
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
