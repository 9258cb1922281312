"""API for M-Pesa STK pushes: prompt a customer's phone (idempotent by key), follow a push, ask Daraja now."""

import datetime
import re
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from mita.core.errors import DomainError
from mita.payments.models_mpesa import StkRequest
from mita.payments.mpesa import stk_push
from mita.payments.mpesa_query import stk_check
from mita.payments.selectors import PAYMENT_ROLES
from mita.payments.selectors_mpesa import stk_get_for_access, stk_requests_visible_to

router = Router(tags=["m-pesa"])

STK_ROLES = PAYMENT_ROLES
WHOLE_AMOUNT = re.compile(r"^\d{1,14}(\.0{1,2})?$")


class StkPushIn(Schema):
    account_reference: str
    amount: str  # a whole amount written as a string, e.g. "250": money never travels as a float
    phone: str
    idempotency_key: str = ""  # a UUID made by the client: sending the same push again prompts the customer once


class StkPushOut(Schema):
    id: int
    status: str
    reason: str  # why it did not end as a payment, in words for people ("" while pending or when paid)
    account_reference: str
    amount: Decimal
    currency: str
    phone: str
    checkout_request_id: str
    result_code: int | None
    result_desc: str
    mpesa_receipt_number: str
    payment_id: int | None
    receipt_number: str | None
    completed_via: str
    created_at: datetime.datetime
    completed_at: datetime.datetime | None

    @staticmethod
    def resolve_reason(stk: StkRequest) -> str:
        return stk.reason

    @staticmethod
    def resolve_mpesa_receipt_number(stk: StkRequest) -> str:
        return stk.receipt_number

    @staticmethod
    def resolve_receipt_number(stk: StkRequest) -> str | None:
        receipt = getattr(stk.payment, "receipt", None) if stk.payment_id else None
        return receipt.number if receipt else None


def _require(request: HttpRequest) -> None:
    if not request.access.has_role(*STK_ROLES):  # type: ignore[attr-defined]
        raise PermissionDenied


def _amount(text: str) -> Decimal:
    text = text.strip()
    if not WHOLE_AMOUNT.match(text) or Decimal(text) <= 0:
        message = _('Write the amount as a whole number in a string, e.g. "250": M-Pesa prompts take no cents.')
        raise DomainError(message, code="amount_invalid", fields={"amount": [message]})
    return Decimal(text)


@router.post(
    "/mpesa/stk-pushes",
    response={200: StkPushOut, 201: StkPushOut},
    summary="Prompt a customer's phone to pay by M-Pesa (201; the same idempotency key again: 200 with the first push)",
)
def stk_push_create(request: HttpRequest, payload: StkPushIn) -> Status[StkRequest]:
    """The push is pending until Safaricom reports it (or the poller's STK query finds out). Daraja refusing it is a
    400 (502 when Daraja cannot be reached), saved as failed; the same key with another body is a 409."""
    _require(request)
    access = request.access  # type: ignore[attr-defined]
    key = payload.idempotency_key.strip()
    replay = bool(key) and StkRequest.objects.filter(operator=access.operator, idempotency_key=key).exists()
    stk = stk_push(
        operator=access.operator,
        account_reference=payload.account_reference,
        amount=_amount(payload.amount),
        phone=payload.phone,
        acting_user=request.user,
        idempotency_key=key,
    )
    return Status(200 if replay else 201, stk_get_for_access(access=access, stk_id=stk.pk))


@router.get("/mpesa/stk-pushes", response=list[StkPushOut], summary="M-Pesa prompts, newest first")
@paginate(LimitOffsetPagination)
def stk_push_list(request: HttpRequest, status: str = "") -> QuerySet[StkRequest]:
    _require(request)
    pushes = stk_requests_visible_to(access=request.access)  # type: ignore[attr-defined]
    return pushes.filter(status=status) if status else pushes


@router.get("/mpesa/stk-pushes/{stk_id}", response=StkPushOut, summary="One M-Pesa prompt and how it stands")
def stk_push_get(request: HttpRequest, stk_id: int) -> StkRequest:
    _require(request)
    return stk_get_for_access(access=request.access, stk_id=stk_id)  # type: ignore[attr-defined]


@router.post(
    "/mpesa/stk-pushes/{stk_id}/check",
    response=StkPushOut,
    summary="Ask Daraja now how a pending M-Pesa prompt stands (STK Push Query)",
)
def stk_push_check(request: HttpRequest, stk_id: int) -> StkRequest:
    _require(request)
    access = request.access  # type: ignore[attr-defined]
    stk = stk_check(stk_id=stk_get_for_access(access=access, stk_id=stk_id).pk)
    return stk_get_for_access(access=access, stk_id=stk.pk)
