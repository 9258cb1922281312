"""Reads for deposits, refunds and corrections: who may do what, the lookups (404 across operators), a customer
account's deposit and its charges with their state."""

import dataclasses
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, Exists, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from mita.accounts.roles import Role
from mita.core.access import Access
from mita.ledger.models import Charge
from mita.ledger.selectors import charges_of, holder_balance
from mita.ledger.services import DEPOSIT_HEAD
from mita.payments.models import ChargeCancellation, DepositRate, HolderDeposit, Refund
from mita.payments.selectors import PAYMENT_ROLES

# Everyone at the counter sees the schedule and an account's deposit; only the admin changes the schedule.
DEPOSIT_VIEW_ROLES = (*PAYMENT_ROLES, Role.CUSTOMER_CARE)
DEPOSIT_SCHEDULE_ROLES = (Role.OPERATOR_ADMIN,)
# Charging, adjusting and applying a deposit by hand is the treasury's (servicing calls the services directly).
DEPOSIT_ACTION_ROLES = (Role.TREASURER, Role.OPERATOR_ADMIN)
REFUND_VIEW_ROLES = (Role.CASHIER, Role.CUSTOMER_CARE, Role.TREASURER, Role.OPERATOR_ADMIN)
REFUND_DECISION_ROLES = (Role.TREASURER, Role.OPERATOR_ADMIN)
CHARGEBACK_ROLES = (Role.TREASURER, Role.OPERATOR_ADMIN)
CHARGE_CANCEL_ROLES = (Role.CASHIER, Role.TREASURER, Role.OPERATOR_ADMIN)


def _operator_of(access: Access) -> Any:
    if access.operator is None:
        raise Http404
    return access.operator


# The schedule ----------------------------------------------------------------------------------------------


def deposit_rates(*, access: Access) -> QuerySet[DepositRate]:
    return DepositRate.objects.filter(operator=_operator_of(access)).order_by("key")


def deposit_rate_get_for_access(*, access: Access, rate_id: int) -> DepositRate:
    rate = deposit_rates(access=access).filter(pk=rate_id).first()
    if rate is None:
        raise Http404
    return rate


# Charges ---------------------------------------------------------------------------------------------------


def charge_get_for_access(*, access: Access, charge_id: int) -> Charge:
    """One charge of the user's operator, or 404."""
    charge = Charge.objects.filter(operator=_operator_of(access), pk=charge_id).first()
    if charge is None:
        raise Http404
    return charge


def charges_with_state(*, operator: Any, holder: str) -> list[Any]:
    """Every charge of the account, oldest due first, with `paid`, `open_amount` and `cancelled`."""
    zero = Value(Decimal("0"), output_field=DecimalField(max_digits=16, decimal_places=2))
    charges = charges_of(operator=operator, holder=holder).annotate(
        paid=Coalesce(Sum("allocations__amount", filter=Q(allocations__voided=False)), zero),
        cancelled=Exists(ChargeCancellation.objects.filter(charge=OuterRef("pk"))),
    )
    listed = []
    for charge in charges:
        charge.open_amount = Decimal("0") if charge.cancelled else charge.total - charge.paid  # type: ignore[attr-defined]
        listed.append(charge)
    return listed


# A customer account's deposit --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DepositSummary:
    holder: str
    currency: str
    held: Decimal  # paid, held for the customer
    unpaid: Decimal  # still owed on deposit charges
    reserved: Decimal  # asked back in refunds not yet paid out or rejected
    key: str
    label: str
    applied_at: Any
    charges: list[Any]  # the deposit charges, with their state
    refunds: list[Refund]

    @property
    def level(self) -> Decimal:
        return self.held + self.unpaid


def deposit_summary(*, operator: Any, holder: str) -> DepositSummary:
    note = HolderDeposit.objects.filter(operator=operator, holder=holder).first()
    key = note.key if note else ""
    rate = DepositRate.objects.filter(operator=operator, key=key).first() if key else None
    charges = [charge for charge in charges_with_state(operator=operator, holder=holder) if charge.head == DEPOSIT_HEAD]
    refunds = list(Refund.objects.filter(operator=operator, holder=holder).order_by("-requested_at", "-pk")[:50])
    return DepositSummary(
        holder=holder,
        currency=operator.currency,
        held=holder_balance(operator=operator, holder=holder, purpose="deposits"),
        unpaid=sum((charge.open_amount for charge in charges), Decimal("0")),
        reserved=sum((r.amount for r in refunds if r.source == Refund.Source.DEPOSIT and r.is_pending), Decimal("0")),
        key=key,
        label=rate.label if rate else "",
        applied_at=note.applied_at if note else None,
        charges=charges,
        refunds=refunds,
    )


# Refunds ---------------------------------------------------------------------------------------------------


def refunds_visible_to(*, access: Access, status: str = "", holder: str = "") -> QuerySet[Refund]:
    refunds = Refund.objects.filter(operator=_operator_of(access)).select_related(
        "requested_by", "approved_by", "paid_by", "rejected_by"
    )
    if status:
        refunds = refunds.filter(status=status)
    if holder := holder.strip():
        refunds = refunds.filter(Q(holder__iexact=holder) | Q(number__iexact=holder))
    return refunds


def refund_get_for_access(*, access: Access, refund_id: int) -> Refund:
    refund = refunds_visible_to(access=access).filter(pk=refund_id).first()
    if refund is None:
        raise Http404
    return refund


def refunds_waiting_count(*, access: Access) -> int:
    """Refunds waiting for a supervisor: to approve, or approved and to pay out."""
    if access.operator is None:
        return 0
    return Refund.objects.filter(
        operator=access.operator, status__in=(Refund.Status.REQUESTED, Refund.Status.APPROVED)
    ).count()
