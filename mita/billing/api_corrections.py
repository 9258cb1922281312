"""API of billing corrections: penalty rules, the penalty run (preview, levy), penalties levied, cancel and rebill a
bill, the bills flagged for rebill by index adjustments. Amounts are decimal strings; another operator's rules and
bills are a 404."""

import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status

from mita.billing.corrections import bill_cancel, bill_rebill, bills_flagged_for_rebill
from mita.billing.models import Bill, BillCancellation, Penalty, PenaltyRule
from mita.billing.penalties import penalties_apply, penalties_preview, penalty_rule_save
from mita.billing.selectors import BILLING_READ_ROLES
from mita.billing.selectors_corrections import (
    CANCEL_ROLES,
    PENALTY_RUN_ROLES,
    REBILL_ROLES,
    RULE_WRITE_ROLES,
    operator_of,
    own_bill,
    penalties_of,
    rule_get_for_access,
    rules_of,
)
from mita.core.permissions import require_api_roles

router = Router(tags=["billing corrections"])


class RuleIn(Schema):
    name: str
    kind: str = "percent"
    rate: Decimal | None = None
    amount: Decimal | None = None
    base: str = "bill"
    days_after_due: int = 30
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    applies_from: datetime.date | None = None
    active: bool = True


class RulePatch(Schema):
    name: str | None = None
    kind: str | None = None
    rate: Decimal | None = None
    amount: Decimal | None = None
    base: str | None = None
    days_after_due: int | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    applies_from: datetime.date | None = None
    active: bool | None = None


class RuleOut(Schema):
    id: int
    operator_id: int
    name: str
    kind: str
    rate: Decimal
    amount: Decimal
    base: str
    days_after_due: int
    minimum: Decimal | None
    maximum: Decimal | None
    applies_from: datetime.date
    active: bool


class PenaltyDueOut(Schema):
    bill_id: int
    number: str
    account: str
    due_on: datetime.date
    days_late: int
    unpaid: Decimal
    base_amount: Decimal
    amount: Decimal
    rule_id: int
    rule_name: str


class PenaltyOut(Schema):
    id: int
    bill_id: int
    bill_number: str
    account: str
    rule_id: int
    on: datetime.date
    days_late: int
    unpaid: Decimal
    base_amount: Decimal
    amount: Decimal
    reference: str


class ApplyIn(Schema):
    on: datetime.date | None = None


class ApplyOut(Schema):
    on: datetime.date
    levied: int
    total: Decimal


class CancelIn(Schema):
    reason: str


class CorrectedBillOut(Schema):
    id: int
    operator_id: int
    connection_id: int
    account: str
    cycle_code: str
    status: str
    number: str
    consumption: Decimal
    total: Decimal
    due_on: datetime.date
    replaces_id: int | None
    replaced_by_id: int | None
    cancel_reason: str
    moved_to_credit: Decimal


class FlaggedOut(Schema):
    bill: CorrectedBillOut
    adjustment_ids: list[int]
    cycles: list[str]


def _bill_out(bill: Bill) -> dict[str, Any]:
    cancellation = BillCancellation.objects.filter(bill=bill).first()
    replaces = BillCancellation.objects.filter(rebill=bill).first()
    return {
        **{field: getattr(bill, field) for field in CorrectedBillOut.model_fields if hasattr(bill, field)},
        "cycle_code": bill.cycle.code,
        "replaces_id": replaces.bill_id if replaces else None,
        "replaced_by_id": cancellation.rebill_id if cancellation else None,
        "cancel_reason": cancellation.reason if cancellation else "",
        "moved_to_credit": cancellation.moved_to_credit if cancellation else Decimal(0),
    }


def _penalty_out(penalty: Penalty) -> dict[str, Any]:
    return {
        **{field: getattr(penalty, field) for field in PenaltyOut.model_fields if hasattr(penalty, field)},
        "bill_number": penalty.bill.number,
        "account": penalty.bill.account,
    }


def _reader(request: HttpRequest) -> Any:
    access = require_api_roles(request, *BILLING_READ_ROLES)
    operator_of(access)
    return access


@router.get("/penalty-rules", response=list[RuleOut], summary="The operator's penalty rules")
def rule_list(request: HttpRequest) -> Any:
    return list(rules_of(access=_reader(request)))


@router.post("/penalty-rules", response={201: RuleOut}, summary="Add a penalty rule")
def rule_create(request: HttpRequest, payload: RuleIn) -> Status[PenaltyRule]:
    access = require_api_roles(request, *RULE_WRITE_ROLES)
    values = {key: value for key, value in payload.dict().items() if value is not None}
    rule = penalty_rule_save(operator=operator_of(access), acting_user=request.user, **values)
    return Status(201, rule)


@router.get("/penalty-rules/{penalty_rule_id}", response=RuleOut, summary="One penalty rule")
def rule_get(request: HttpRequest, penalty_rule_id: int) -> PenaltyRule:
    return rule_get_for_access(access=_reader(request), rule_id=penalty_rule_id)


@router.patch("/penalty-rules/{penalty_rule_id}", response=RuleOut, summary="Change a penalty rule")
def rule_change(request: HttpRequest, penalty_rule_id: int, payload: RulePatch) -> PenaltyRule:
    access = require_api_roles(request, *RULE_WRITE_ROLES)
    rule = rule_get_for_access(access=access, rule_id=penalty_rule_id)
    values = payload.dict(exclude_unset=True)
    return penalty_rule_save(operator=operator_of(access), acting_user=request.user, rule=rule, **values)


@router.get(
    "/penalties/preview", response=list[PenaltyDueOut], summary="What a penalty run would levy on a day (default today)"
)
def penalty_preview(request: HttpRequest, on: datetime.date | None = None) -> list[Any]:
    access = _reader(request)
    return penalties_preview(operator=operator_of(access), on=on or timezone.localdate(), limit=1000)


@router.post("/penalties/apply", response=ApplyOut, summary="Levy the penalties due on a day (once per bill and rule)")
def penalty_apply(request: HttpRequest, payload: ApplyIn) -> Any:
    access = require_api_roles(request, *PENALTY_RUN_ROLES)
    return penalties_apply(operator=operator_of(access), on=payload.on, acting_user=request.user)


@router.get("/penalties", response=list[PenaltyOut], summary="Penalties levied, the latest first")
def penalty_list(request: HttpRequest, bill_id: int | None = None) -> list[dict[str, Any]]:
    access = _reader(request)
    bill = own_bill(access=access, bill_id=bill_id) if bill_id else None
    return [_penalty_out(penalty) for penalty in penalties_of(access=access, bill=bill)[:500]]


@router.post(
    "/bills/{bill_id}/cancel",
    response=CorrectedBillOut,
    summary="Cancel an issued bill (operator admin); the same reason again returns the cancelled bill",
)
def bill_cancel_endpoint(request: HttpRequest, bill_id: int, payload: CancelIn) -> dict[str, Any]:
    access = require_api_roles(request, *CANCEL_ROLES)
    bill = own_bill(access=access, bill_id=bill_id)
    first = BillCancellation.objects.filter(bill=bill).first()
    if first is not None and first.reason == payload.reason.strip()[:500]:
        return _bill_out(bill)  # the same request again: its first result (another reason is a 409)
    bill_cancel(bill=bill, reason=payload.reason, acting_user=request.user)
    return _bill_out(own_bill(access=access, bill_id=bill_id))


@router.post(
    "/bills/{bill_id}/rebill",
    response={200: CorrectedBillOut, 201: CorrectedBillOut},
    summary="Issue a cancelled bill's rebill (201; sent again, 200 with the rebill first issued)",
)
def bill_rebill_endpoint(request: HttpRequest, bill_id: int) -> Status[dict[str, Any]]:
    access = require_api_roles(request, *REBILL_ROLES)
    bill = own_bill(access=access, bill_id=bill_id)
    first = BillCancellation.objects.filter(bill=bill, rebill__isnull=False).first()
    if first is not None and first.rebill_id is not None:
        return Status(200, _bill_out(own_bill(access=access, bill_id=first.rebill_id)))
    new = bill_rebill(bill=bill, acting_user=request.user)
    return Status(201, _bill_out(own_bill(access=access, bill_id=new.pk)))


@router.get("/bills-to-rebill", response=list[FlaggedOut], summary="Bills flagged for cancel and rebill")
def flagged_list(request: HttpRequest) -> list[dict[str, Any]]:
    access = _reader(request)
    return [
        {
            "bill": _bill_out(row["bill"]),
            "adjustment_ids": [adjustment.pk for adjustment in row["adjustments"]],
            "cycles": sorted({str(cycle) for adjustment in row["adjustments"] for cycle in adjustment.cycles}),
        }
        for row in bills_flagged_for_rebill(operator=operator_of(access))
    ]
