"""API for deposits (schedule, an account's deposit: charge, adjust, apply), refunds (request, approve, reject, pay
out), charge-backs and charge cancellations. Amounts travel as decimal strings, never floats."""

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from mita.core.permissions import request_access, require_api_roles
from mita.payments.api import AMOUNT, PaymentOut, _amount, _payment
from mita.payments.corrections import charge_cancel, payment_reverse
from mita.payments.deposits import deposit_adjust, deposit_apply_to_final_bill, deposit_charge, deposit_rate_save
from mita.payments.models import Refund
from mita.payments.refunds import refund_approve, refund_pay_out, refund_reject, refund_request
from mita.payments.selectors import holder_get_for_access, payment_get_for_access
from mita.payments.selectors_deposits import (
    CHARGEBACK_ROLES,
    DEPOSIT_ACTION_ROLES,
    DEPOSIT_SCHEDULE_ROLES,
    DEPOSIT_VIEW_ROLES,
    REFUND_DECISION_ROLES,
    REFUND_VIEW_ROLES,
    charge_get_for_access,
    deposit_rate_get_for_access,
    deposit_rates,
    deposit_summary,
    refund_get_for_access,
    refunds_visible_to,
)
from mita.payments.services import SUPERVISOR_ROLES

router = Router(tags=["deposits and refunds"])


def _amount_or_zero(text: str, currency: str) -> Decimal:
    """A decimal string of zero or more (a deposit may be zero; a payment or refund never is)."""
    if AMOUNT.match(text.strip()) and Decimal(text.strip()) == 0:
        return Decimal("0")
    return _amount(text, currency)


def _optional_amount(text: str | None, currency: str) -> Decimal | None:
    if text is None or not text.strip():
        return None
    return _amount_or_zero(text, currency)


# The schedule ----------------------------------------------------------------------------------------------


class DepositRateIn(Schema):
    key: str
    label: str = ""
    amount: str  # a decimal string, e.g. "5000"


class DepositRateOut(Schema):
    id: int
    key: str
    label: str
    amount: Decimal


@router.get("/deposits/rates", response=list[DepositRateOut], summary="The deposit schedule")
def deposit_rate_list(request: HttpRequest) -> QuerySet[Any]:
    require_api_roles(request, *DEPOSIT_VIEW_ROLES)
    return deposit_rates(access=request_access(request))


@router.post("/deposits/rates", response={201: DepositRateOut}, summary="Add a line to the deposit schedule")
def deposit_rate_create(request: HttpRequest, payload: DepositRateIn) -> Status[Any]:
    require_api_roles(request, *DEPOSIT_SCHEDULE_ROLES)
    operator = request_access(request).operator
    rate = deposit_rate_save(
        operator=operator,
        key=payload.key,
        label=payload.label,
        amount=_amount_or_zero(payload.amount, operator.currency),
        acting_user=request.user,
    )
    return Status(201, rate)


@router.put("/deposits/rates/{rate_id}", response=DepositRateOut, summary="Change a line of the deposit schedule")
def deposit_rate_update(request: HttpRequest, rate_id: int, payload: DepositRateIn) -> Any:
    require_api_roles(request, *DEPOSIT_SCHEDULE_ROLES)
    access = request_access(request)
    rate = deposit_rate_get_for_access(access=access, rate_id=rate_id)
    return deposit_rate_save(
        operator=access.operator,
        key=payload.key,
        label=payload.label,
        amount=_amount_or_zero(payload.amount, access.operator.currency),
        acting_user=request.user,
        rate=rate,
    )


# A customer account's deposit ------------------------------------------------------------------------------


class DepositChargeOut(Schema):
    id: int
    reference: str
    due_date: datetime.date
    total: Decimal
    paid: Decimal
    open_amount: Decimal
    cancelled: bool


class RefundOut(Schema):
    id: int
    number: str
    holder: str
    source: str
    amount: Decimal
    currency: str
    status: str
    reason: str
    payee_name: str
    payee_phone: str
    method: str
    network: str
    bank_name: str
    bank_account: str
    requested_by_id: int
    requested_at: datetime.datetime
    approved_by_id: int | None
    approved_at: datetime.datetime | None
    rejected_by_id: int | None
    rejected_at: datetime.datetime | None
    rejection_reason: str
    paid_by_id: int | None
    paid_at: datetime.datetime | None
    payout_reference: str
    payout_date: datetime.date | None


class DepositOut(Schema):
    holder: str
    currency: str
    held: Decimal
    unpaid: Decimal
    level: Decimal
    reserved: Decimal
    key: str
    applied_at: datetime.datetime | None
    charges: list[DepositChargeOut]


class DepositChargeIn(Schema):
    key: str = ""  # a line of the schedule, or…
    amount: str | None = None  # …an amount as a decimal string
    reference: str
    due_date: datetime.date
    idempotency_key: str


class DepositAdjustIn(Schema):
    key: str = ""
    amount: str | None = None
    reference: str
    idempotency_key: str | None = None


class DepositChangeOut(Schema):
    before: Decimal
    after: Decimal
    charged_id: int | None
    released: Decimal
    cancelled_ids: list[int]
    deposit: DepositOut


class DepositApplicationOut(Schema):
    held: Decimal
    applied: Decimal
    credit_left: Decimal
    cancelled_ids: list[int]
    deposit: DepositOut


def _deposit(request: HttpRequest, holder: str) -> Any:
    return deposit_summary(operator=request_access(request).operator, holder=holder)


@router.get("/accounts/{holder}/deposit", response=DepositOut, summary="A customer account's deposit")
def holder_deposit_get(request: HttpRequest, holder: str) -> Any:
    require_api_roles(request, *DEPOSIT_VIEW_ROLES)
    return _deposit(request, holder_get_for_access(access=request_access(request), holder=holder))


@router.post(
    "/accounts/{holder}/deposit/charge",
    response={201: DepositOut},
    summary="Charge a security deposit (by the schedule's key or an amount; idempotent by key)",
)
def holder_deposit_charge(request: HttpRequest, holder: str, payload: DepositChargeIn) -> Status[Any]:
    require_api_roles(request, *DEPOSIT_ACTION_ROLES)
    access = request_access(request)
    holder = holder_get_for_access(access=access, holder=holder)
    deposit_charge(
        operator=access.operator,
        holder=holder,
        key=payload.key,
        amount=_optional_amount(payload.amount, access.operator.currency),
        reference=payload.reference,
        due_date=payload.due_date,
        acting_user=request.user,
        idempotency_key=payload.idempotency_key.strip() or None,
    )
    return Status(201, _deposit(request, holder))


@router.post(
    "/accounts/{holder}/deposit/adjust",
    response=DepositChangeOut,
    summary="Bring the deposit to a new level on a package change (top-up charge, or the difference to credit)",
)
def holder_deposit_adjust(request: HttpRequest, holder: str, payload: DepositAdjustIn) -> dict[str, Any]:
    require_api_roles(request, *DEPOSIT_ACTION_ROLES)
    access = request_access(request)
    holder = holder_get_for_access(access=access, holder=holder)
    change = deposit_adjust(
        operator=access.operator,
        holder=holder,
        key=payload.key,
        amount=_optional_amount(payload.amount, access.operator.currency),
        reference=payload.reference,
        acting_user=request.user,
        idempotency_key=(payload.idempotency_key or "").strip() or None,
    )
    return {
        "before": change.before,
        "after": change.after,
        "charged_id": change.charged.pk if change.charged else None,
        "released": change.released,
        "cancelled_ids": [charge.pk for charge in change.cancelled],
        "deposit": _deposit(request, holder),
    }


@router.post(
    "/accounts/{holder}/deposit/apply",
    response=DepositApplicationOut,
    summary="On termination: the held deposit pays the open charges, the rest becomes credit to refund",
)
def holder_deposit_apply(request: HttpRequest, holder: str) -> dict[str, Any]:
    require_api_roles(request, *DEPOSIT_ACTION_ROLES)
    access = request_access(request)
    holder = holder_get_for_access(access=access, holder=holder)
    application = deposit_apply_to_final_bill(operator=access.operator, holder=holder, acting_user=request.user)
    return {
        "held": application.held,
        "applied": application.applied,
        "credit_left": application.credit_left,
        "cancelled_ids": [charge.pk for charge in application.cancelled],
        "deposit": _deposit(request, holder),
    }


# Refunds ---------------------------------------------------------------------------------------------------


class RefundIn(Schema):
    holder: str
    amount: str
    source: str = "credit"  # credit | deposit
    reason: str
    payee_name: str
    method: str  # cash | bank | mobile_money
    payee_phone: str = ""
    network: str = ""  # momo | mpesa, for mobile money
    bank_name: str = ""
    bank_account: str = ""
    idempotency_key: str


class RejectIn(Schema):
    reason: str


class PayoutIn(Schema):
    payout_reference: str = ""
    payout_date: datetime.date | None = None


@router.get("/refunds", response=list[RefundOut], summary="Refunds, newest first")
@paginate(LimitOffsetPagination)
def refund_list(request: HttpRequest, status: str = "", holder: str = "") -> QuerySet[Refund]:
    require_api_roles(request, *REFUND_VIEW_ROLES)
    return refunds_visible_to(access=request_access(request), status=status, holder=holder).order_by(
        "-requested_at", "-pk"
    )


@router.post(
    "/refunds",
    response={200: RefundOut, 201: RefundOut},
    summary="Request a refund; the amount is reserved at once (the same idempotency key again: 200, the first)",
)
def refund_create(request: HttpRequest, payload: RefundIn) -> Status[Refund]:
    require_api_roles(request, *REFUND_VIEW_ROLES)
    operator = request_access(request).operator
    key = payload.idempotency_key.strip()
    replay = bool(key) and Refund.objects.filter(operator=operator, idempotency_key=key).exists()
    refund = refund_request(
        operator=operator,
        holder=payload.holder,
        amount=_amount(payload.amount, operator.currency),
        source=payload.source,
        reason=payload.reason,
        payee_name=payload.payee_name,
        method=payload.method,
        payee_phone=payload.payee_phone,
        network=payload.network,
        bank_name=payload.bank_name,
        bank_account=payload.bank_account,
        acting_user=request.user,
        idempotency_key=key,
    )
    return Status(200 if replay else 201, refund)


@router.get("/refunds/{refund_id}", response=RefundOut, summary="One refund")
def refund_get(request: HttpRequest, refund_id: int) -> Refund:
    require_api_roles(request, *REFUND_VIEW_ROLES)
    return refund_get_for_access(access=request_access(request), refund_id=refund_id)


@router.post(
    "/refunds/{refund_id}/approve", response=RefundOut, summary="Approve (a supervisor other than the requester)"
)
def refund_approve_endpoint(request: HttpRequest, refund_id: int) -> Refund:
    require_api_roles(request, *REFUND_DECISION_ROLES)
    refund = refund_get_for_access(access=request_access(request), refund_id=refund_id)
    return refund_approve(refund=refund, acting_user=request.user)


@router.post("/refunds/{refund_id}/reject", response=RefundOut, summary="Reject with a reason (before payout)")
def refund_reject_endpoint(request: HttpRequest, refund_id: int, payload: RejectIn) -> Refund:
    require_api_roles(request, *REFUND_DECISION_ROLES)
    refund = refund_get_for_access(access=request_access(request), refund_id=refund_id)
    return refund_reject(refund=refund, reason=payload.reason, acting_user=request.user)


@router.post("/refunds/{refund_id}/payout", response=RefundOut, summary="Record the payout of an approved refund")
def refund_payout_endpoint(request: HttpRequest, refund_id: int, payload: PayoutIn) -> Refund:
    require_api_roles(request, *REFUND_DECISION_ROLES)
    refund = refund_get_for_access(access=request_access(request), refund_id=refund_id)
    return refund_pay_out(
        refund=refund,
        payout_reference=payload.payout_reference,
        payout_date=payload.payout_date,
        acting_user=request.user,
    )


# Corrections -----------------------------------------------------------------------------------------------


class ChargebackIn(Schema):
    provider_reference: str  # the provider's id of the reversal: the same id again returns the reversed payment
    reason: str


class ChargeCancelIn(Schema):
    reason: str


class ChargeCancellationOut(Schema):
    charge_id: int
    reference: str
    reason: str
    moved_to_credit: Decimal
    cancelled_by_id: int | None
    approved_by_id: int | None
    created_at: datetime.datetime

    @staticmethod
    def resolve_reference(cancellation: Any) -> str:
        return str(cancellation.charge.reference)


@router.post(
    "/payments/{payment_id}/chargeback",
    response=PaymentOut,
    summary="Record a provider's charge-back or reversal of a MoMo, M-Pesa or online payment (idempotent by its id)",
)
def payment_chargeback(request: HttpRequest, payment_id: int, payload: ChargebackIn) -> Any:
    require_api_roles(request, *CHARGEBACK_ROLES)
    payment = payment_get_for_access(access=request_access(request), payment_id=payment_id)
    payment_reverse(
        payment=payment, reason=payload.reason, provider_reference=payload.provider_reference, acting_user=request.user
    )
    return _payment(request, payment.pk)


@router.post(
    "/charges/{charge_id}/cancel",
    response={201: ChargeCancellationOut},
    summary="Cancel a charge (a supervisor; what was paid on it becomes credit that pays the other charges)",
)
def charge_cancel_endpoint(request: HttpRequest, charge_id: int, payload: ChargeCancelIn) -> Status[Any]:
    # Over the API a supervisor cancels on their own authority; a cashier's cancellation needs a supervisor's
    # password on the cashier's device, which only the page offers.
    require_api_roles(request, *SUPERVISOR_ROLES)
    charge = charge_get_for_access(access=request_access(request), charge_id=charge_id)
    cancellation = charge_cancel(
        charge=charge, reason=payload.reason, acting_user=request.user, approved_by=request.user
    )
    return Status(201, cancellation)
