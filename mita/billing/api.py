"""API of billing: the cycles calendar, bill runs (create, read, approve, publish) and bills. Amounts are decimal
strings; another operator's cycles, runs and bills are a 404."""

import dataclasses
import datetime
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Router, Schema, Status

from mita.billing.cycles import cycles_generate
from mita.billing.models import Bill, BillRun
from mita.billing.selectors import (
    BILLING_ADMIN_ROLES,
    BILLING_READ_ROLES,
    BILLING_WRITE_ROLES,
    bill_get_for_access,
    bills_visible_to,
    cycle_get_for_access,
    cycles_visible_to,
    exceptions_by_kind,
    run_get_for_access,
    runs_visible_to,
)
from mita.billing.services import billrun_approve, billrun_create, billrun_discard, billrun_publish, cycle_close
from mita.core.permissions import require_api_roles

router = Router(tags=["billing"])


class CycleOut(Schema):
    id: int
    operator_id: int
    code: str
    frequency: str
    start: datetime.date
    end: datetime.date
    read_from: datetime.date
    read_to: datetime.date
    bill_on: datetime.date
    due_on: datetime.date
    status: str
    closed_at: datetime.datetime | None


class CyclesIn(Schema):
    year: int
    frequency: str = "monthly"
    due_days: int = 15
    window_before: int = 5
    window_after: int = 10


class RunIn(Schema):
    cycle_id: int
    scope_kind: str = "operator"
    scope_id: int | None = None


class ExceptionCount(Schema):
    kind: str
    label: str
    count: int


class RunOut(Schema):
    id: int
    operator_id: int
    cycle_id: int
    cycle_code: str
    scope_kind: str
    scope_id: int | None
    scope_label: str
    status: str
    units_total: int
    units_done: int
    connections: int
    bills: int
    exceptions: int
    exceptions_by_kind: list[ExceptionCount]
    total: Decimal
    message: str
    created_at: datetime.datetime
    approved_at: datetime.datetime | None
    issued_at: datetime.datetime | None
    published_at: datetime.datetime | None
    discarded_at: datetime.datetime | None


class DiscardIn(Schema):
    """The body of a discard: `{"reason": "..."}`, or `{}` without a reason."""

    reason: str = ""


class LineOut(Schema):
    position: int
    label: str
    quantity: Decimal
    rate: Decimal
    amount: Decimal
    head: str
    vat: Decimal
    kind: str


class BillOut(Schema):
    id: int
    operator_id: int
    connection_id: int
    account: str
    cycle_code: str
    run_id: int
    status: str
    number: str
    consumption: Decimal
    previous_index: Decimal | None
    current_index: Decimal | None
    net: Decimal
    vat: Decimal
    round_off: Decimal
    total: Decimal
    arrears: Decimal
    credit: Decimal
    currency: str
    due_on: datetime.date
    issued_at: datetime.datetime | None
    published_at: datetime.datetime | None
    lines: list[LineOut] | None = None


def _run_out(run: BillRun) -> dict[str, Any]:
    return {
        **{field: getattr(run, field) for field in RunOut.model_fields if hasattr(run, field)},
        "cycle_code": run.cycle.code,
        "units_done": run.job.done if run.job_id and run.job else 0,
        "exceptions_by_kind": exceptions_by_kind(run=run),
    }


def _bill_out(bill: Bill, *, lines: bool = False) -> dict[str, Any]:
    out = {field: getattr(bill, field) for field in BillOut.model_fields if hasattr(bill, field) and field != "lines"}
    out["cycle_code"] = bill.cycle.code
    if lines:
        out["lines"] = [dataclasses.asdict(line) for line in bill.line_items]
    return out


def require_writer(request: HttpRequest) -> Any:
    access = require_api_roles(request, *BILLING_WRITE_ROLES)
    if access.operator is None:
        raise Http404
    return access


def _reader(request: HttpRequest) -> Any:
    return require_api_roles(request, *BILLING_READ_ROLES)


def _own_run(request: HttpRequest, bill_run_id: int) -> BillRun:
    access = require_writer(request)
    run = run_get_for_access(access=access, run_id=bill_run_id)
    if run.operator_id != access.operator.pk:
        raise Http404
    return run


@router.get("/billing-cycles", response=list[CycleOut], summary="The billing calendar")
def cycle_list(request: HttpRequest, year: int | None = None) -> Any:
    return cycles_visible_to(access=_reader(request), year=year)[:500]


@router.post("/billing-cycles", response={201: list[CycleOut]}, summary="Make a year's cycles (idempotent)")
def cycles_generate_endpoint(request: HttpRequest, payload: CyclesIn) -> Status[Any]:
    access = require_writer(request)
    return Status(201, cycles_generate(operator=access.operator, **payload.dict()))


@router.get("/billing-cycles/{cycle_id}", response=CycleOut, summary="One billing cycle")
def cycle_get(request: HttpRequest, cycle_id: int) -> Any:
    return cycle_get_for_access(access=_reader(request), cycle_id=cycle_id)


def _admin(request: HttpRequest) -> Any:
    access = require_api_roles(request, *BILLING_ADMIN_ROLES)
    if access.operator is None:
        raise Http404
    return access


@router.post(
    "/billing-cycles/{cycle_id}/close",
    response=CycleOut,
    summary="Close a cycle whose runs are issued: it takes no new run (operator admins)",
)
def cycle_close_endpoint(request: HttpRequest, cycle_id: int) -> Any:
    access = _admin(request)
    cycle = cycle_get_for_access(access=access, cycle_id=cycle_id)
    if cycle.operator_id != access.operator.pk:
        raise Http404
    return cycle_close(cycle=cycle, acting_user=request.user)


@router.get("/bill-runs", response=list[RunOut], summary="Bill runs, the latest first")
def run_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_run_out(run) for run in runs_visible_to(access=_reader(request))[:200]]


@router.post(
    "/bill-runs", response={201: RunOut}, summary="Start a bill run: its preview is computed in the background"
)
def run_create(request: HttpRequest, payload: RunIn) -> Status[Any]:
    access = require_writer(request)
    cycle = cycle_get_for_access(access=access, cycle_id=payload.cycle_id)
    if cycle.operator_id != access.operator.pk:
        raise Http404
    run = billrun_create(
        operator=access.operator,
        cycle=cycle,
        acting_user=request.user,
        scope_kind=payload.scope_kind,
        scope_id=payload.scope_id,
    )
    return Status(201, _run_out(run_get_for_access(access=access, run_id=run.pk)))


@router.get("/bill-runs/{bill_run_id}", response=RunOut, summary="One bill run, its progress and exceptions")
def run_get(request: HttpRequest, bill_run_id: int) -> dict[str, Any]:
    return _run_out(run_get_for_access(access=_reader(request), run_id=bill_run_id))


@router.post("/bill-runs/{bill_run_id}/approve", response=RunOut, summary="Approve the preview: issue the bills")
def run_approve(request: HttpRequest, bill_run_id: int) -> dict[str, Any]:
    run = billrun_approve(run=_own_run(request, bill_run_id), acting_user=request.user)
    return _run_out(run_get_for_access(access=_reader(request), run_id=run.pk))


@router.post("/bill-runs/{bill_run_id}/publish", response=RunOut, summary="Send the issued bills' SMS")
def run_publish(request: HttpRequest, bill_run_id: int) -> dict[str, Any]:
    run = billrun_publish(run=_own_run(request, bill_run_id), acting_user=request.user)
    return _run_out(run_get_for_access(access=_reader(request), run_id=run.pk))


@router.post(
    "/bill-runs/{bill_run_id}/discard",
    response=RunOut,
    summary="Discard a preview: its drafts and exceptions are deleted, the run marked discarded (operator admins)",
)
def run_discard(request: HttpRequest, bill_run_id: int, payload: DiscardIn) -> dict[str, Any]:
    access = _admin(request)
    run = run_get_for_access(access=access, run_id=bill_run_id)
    if run.operator_id != access.operator.pk:
        raise Http404
    run = billrun_discard(run=run, acting_user=request.user, reason=payload.reason)
    return _run_out(run_get_for_access(access=access, run_id=run.pk))


@router.get("/bills", response=list[BillOut], summary="Bills (filters: bill_run_id, cycle, status, account)")
def bill_list(
    request: HttpRequest, bill_run_id: int | None = None, cycle: str = "", status: str = "", account: str = ""
) -> list[dict[str, Any]]:
    access = _reader(request)
    run = run_get_for_access(access=access, run_id=bill_run_id) if bill_run_id else None
    bills = bills_visible_to(access=access, run=run, cycle=cycle, status=status, account=account)
    return [_bill_out(bill) for bill in bills[:500]]


@router.get("/bills/{bill_id}", response=BillOut, summary="One bill with its lines")
def bill_get(request: HttpRequest, bill_id: int) -> dict[str, Any]:
    return _bill_out(bill_get_for_access(access=_reader(request), bill_id=bill_id), lines=True)


router.add_router("/", "mita.billing.api_documents.router")  # bill PDFs, household view, customers billed
router.add_router("/", "mita.billing.api_corrections.router")  # billing/corrections
