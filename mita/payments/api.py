"""API for payments: take one (idempotent by key), list and read them, the suspense queue, assign, account balance."""

import datetime
import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from mita.accounts.phones import normalize_phone
from mita.accounts.roles import Role
from mita.core.errors import DomainError
from mita.core.errors import PermissionDenied as RoleRefused
from mita.core.money import quantize
from mita.core.permissions import require_api_roles
from mita.payments.models import Allocation, Payment, PaymentSettings
from mita.payments.preferences import payment_settings_for, payment_settings_update
from mita.payments.selectors import (
    PAYMENT_ROLES,
    SUSPENSE_ROLES,
    account_summary,
    channels_for,
    holder_get_for_access,
    payment_get_for_access,
    payments_in_suspense,
    payments_visible_to,
)
from mita.payments.services import payment_assign, payment_receive

router = Router(tags=["payments"])

AMOUNT = re.compile(r"^\d{1,14}(\.\d{1,2})?$")


class PaymentIn(Schema):
    account_reference: str
    amount: str  # a decimal written as a string, e.g. "1200" or "1200.50": money never travels as a float
    channel: str
    idempotency_key: str
    payer_name: str = ""
    payer_phone: str = ""


class AllocationOut(Schema):
    charge_id: int
    charge_reference: str
    amount: Decimal
    voided: bool


class PaymentOut(Schema):
    id: int
    receipt_number: str | None
    amount: Decimal
    currency: str
    channel: str
    status: str
    account_reference: str
    holder: str
    payer_name: str
    payer_phone: str
    value_date: datetime.date
    received_at: datetime.datetime
    allocations: list[AllocationOut]

    @staticmethod
    def resolve_receipt_number(payment: Payment) -> str | None:
        receipt = getattr(payment, "receipt", None)
        return receipt.number if receipt else None

    @staticmethod
    def resolve_allocations(payment: Payment) -> list[dict[str, object]]:
        return [
            {
                "charge_id": allocation.charge_id,
                "charge_reference": allocation.charge.reference,
                "amount": allocation.amount,
                "voided": allocation.voided,
            }
            for allocation in payment.allocations.all()
        ]


class AssignIn(Schema):
    holder: str


class OpenChargeOut(Schema):
    id: int
    reference: str
    head: str
    due_date: datetime.date
    total: Decimal
    open_amount: Decimal


class BalanceOut(Schema):
    holder: str
    currency: str
    balance: Decimal
    credit: Decimal
    open_charges: list[OpenChargeOut]


_ALLOCATIONS = Prefetch("allocations", queryset=Allocation.objects.select_related("charge").order_by("pk"))


def _with_allocations(payments: QuerySet[Payment]) -> QuerySet[Payment]:
    return payments.prefetch_related(_ALLOCATIONS)


def _payment(request: HttpRequest, payment_id: int) -> Payment:
    """One payment of the user's operator with its allocations; another operator's is a 404."""
    payment = _with_allocations(payments_visible_to(access=request.access)).filter(pk=payment_id).first()  # type: ignore[attr-defined]
    if payment is None:
        raise Http404
    return payment


def _amount(text: str, currency: str) -> Decimal:
    """A positive decimal string in the currency's minor units: never rounded behind the payer's back."""
    text = text.strip()
    if not AMOUNT.match(text) or Decimal(text) <= 0:
        message = _('Write the amount as a positive decimal in a string, e.g. "1200" or "1200.50".')
        raise DomainError(message, code="amount_invalid", fields={"amount": [message]})
    amount = Decimal(text)
    if quantize(amount, currency) != amount:
        message = _("%(currency)s amounts have no smaller units than this: write %(rounded)s.") % {
            "currency": currency,
            "rounded": quantize(amount, currency),
        }
        raise DomainError(message, code="amount_invalid", fields={"amount": [message]})
    return amount


def _payer_phone(text: str) -> str:
    if not text.strip():
        return ""
    try:
        return normalize_phone(text)
    except ValidationError as error:
        raise DomainError(error.messages[0], code="phone_invalid", fields={"payer_phone": error.messages}) from None


@router.post(
    "/payments",
    response={200: PaymentOut, 201: PaymentOut},
    summary="Take a payment (201; the same idempotency key again: 200 with the first payment)",
)
def payment_create(request: HttpRequest, payload: PaymentIn) -> Status[Payment]:
    """Matched on the account reference, or held in suspense. The same key with another body is a 409."""
    require_api_roles(request, *PAYMENT_ROLES)
    access = request.access  # type: ignore[attr-defined]
    if payload.channel not in channels_for(access):
        message = _("Your role does not record payments of this channel.")
        raise RoleRefused(message, code="channel_not_allowed", fields={"channel": [message]})
    amount = _amount(payload.amount, access.operator.currency)
    payment = payment_receive(
        operator=access.operator,
        channel=payload.channel,
        amount=amount,
        account_reference=payload.account_reference,
        idempotency_key=payload.idempotency_key.strip(),
        received_by=request.user,
        payer_name=payload.payer_name.strip(),
        payer_phone=_payer_phone(payload.payer_phone),
    )
    if payment.is_replay:  # type: ignore[attr-defined]
        return Status(200, _payment(request, payment.pk))
    # A new payment answers from memory (its receipt is set on it), with its allocations in one query.
    prefetch_related_objects([payment], _ALLOCATIONS)
    return Status(201, payment)


@router.get("/payments", response=list[PaymentOut], summary="Payments, newest first")
@paginate(LimitOffsetPagination)
def payment_list(
    request: HttpRequest,
    status: str = "",
    channel: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    reference: str = "",
) -> QuerySet[Payment]:
    require_api_roles(request, *PAYMENT_ROLES)
    payments = payments_visible_to(
        access=request.access,  # type: ignore[attr-defined]
        status=status,
        channel=channel,
        date_from=date_from,
        date_to=date_to,
        reference=reference,
    )
    return _with_allocations(payments).order_by("-received_at", "-pk")


@router.get("/payments/suspense", response=list[PaymentOut], summary="Payments in suspense, oldest first")
@paginate(LimitOffsetPagination)
def suspense_list(request: HttpRequest) -> QuerySet[Payment]:
    require_api_roles(request, *SUSPENSE_ROLES)
    payments = payments_in_suspense(access=request.access)  # type: ignore[attr-defined]
    return _with_allocations(payments).order_by("received_at", "pk")


@router.get("/payments/{payment_id}", response=PaymentOut, summary="One payment with its receipt and allocations")
def payment_get(request: HttpRequest, payment_id: int) -> Payment:
    require_api_roles(request, *PAYMENT_ROLES)
    return _payment(request, payment_id)


@router.post("/payments/{payment_id}/assign", response=PaymentOut, summary="Assign a payment in suspense to an account")
def payment_assign_endpoint(request: HttpRequest, payment_id: int, payload: AssignIn) -> Payment:
    require_api_roles(request, *SUSPENSE_ROLES)
    access = request.access  # type: ignore[attr-defined]
    payment = payment_get_for_access(access=access, payment_id=payment_id)
    payment = payment_assign(payment=payment, holder_reference=payload.holder, acting_user=request.user)
    return _payment(request, payment.pk)


@router.get("/accounts/{holder}/balance", response=BalanceOut, summary="What a customer account owes, and its credit")
def account_balance(request: HttpRequest, holder: str) -> object:
    require_api_roles(request, *PAYMENT_ROLES)
    access = request.access  # type: ignore[attr-defined]
    return account_summary(operator=access.operator, holder=holder_get_for_access(access=access, holder=holder))


class PaymentSettingsIO(Schema):
    allocation_order: str
    head_order: list[str]
    advance_ex_vat: bool


@router.get("/payment-settings", response=PaymentSettingsIO, summary="The operator's payment rules")
def payment_settings_get(request: HttpRequest) -> PaymentSettings:
    require_api_roles(request, *PAYMENT_ROLES)
    return payment_settings_for(operator=request.access.operator)  # type: ignore[attr-defined]


@router.put("/payment-settings", response=PaymentSettingsIO, summary="Change the operator's payment rules")
def payment_settings_put(request: HttpRequest, payload: PaymentSettingsIO) -> PaymentSettings:
    require_api_roles(request, Role.OPERATOR_ADMIN)
    return payment_settings_update(
        operator=request.access.operator,  # type: ignore[attr-defined]
        allocation_order=payload.allocation_order,
        head_order=payload.head_order,
        advance_ex_vat=payload.advance_ex_vat,
        acting_user=request.user,
    )
