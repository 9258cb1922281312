"""Reads of payments: who may take which channel, the lists and lookups (404 across operators), suspense, and a
customer account's balance, open charges and payment history."""

import dataclasses
import datetime
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from mita.accounts.roles import Role, Scope
from mita.accounts.selectors import memberships_in_workspace, users_in_workspace
from mita.core.access import Access
from mita.ledger.selectors import charges_of, holder_balance, holder_credit, holder_known
from mita.payments.models import Allocation, Channel, Payment
from mita.payments.services import SUPERVISOR_ROLES

PAYMENT_ROLES = (Role.CASHIER, Role.REVENUE_COLLECTOR, Role.TREASURER, Role.OPERATOR_ADMIN)
# Reconciling the suspense account is the treasury's work.
SUSPENSE_ROLES = (Role.TREASURER, Role.OPERATOR_ADMIN)
# The channels each role may record by hand; provider channels (MoMo, M-Pesa, online) arrive by integration,
# and the operator's admin may record any of them (e.g. a provider's payment reported late).
CHANNELS_BY_ROLE: dict[str, tuple[str, ...]] = {
    Role.CASHIER: (Channel.CASH_OFFICE,),
    Role.REVENUE_COLLECTOR: (Channel.CASH_FIELD,),
    Role.TREASURER: (Channel.BANK,),
    Role.OPERATOR_ADMIN: tuple(Channel.values),
}


def channels_for(access: Access) -> list[str]:
    """The channels the user's roles let them record, in the order of Channel."""
    allowed = {channel for role in access.roles for channel in CHANNELS_BY_ROLE.get(role, ())}
    return [channel for channel in Channel.values if channel in allowed]


def _operator_of(access: Access) -> Any:
    if access.operator is None:
        raise Http404
    return access.operator


def payments_visible_to(
    *,
    access: Access,
    status: str = "",
    channel: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    reference: str = "",
) -> QuerySet[Payment]:
    """The operator's payments, filtered: a reference matches the account reference, the account or the receipt."""
    payments = Payment.objects.filter(operator=_operator_of(access)).select_related("receipt", "received_by")
    if status:
        payments = payments.filter(status=status)
    if channel:
        payments = payments.filter(channel=channel)
    if date_from:
        payments = payments.filter(value_date__gte=date_from)
    if date_to:
        payments = payments.filter(value_date__lte=date_to)
    if reference := reference.strip():
        payments = payments.filter(
            Q(account_reference__icontains=reference)
            | Q(holder__icontains=reference)
            | Q(receipt__number__iexact=reference)
        )
    return payments


def payment_get_for_access(*, access: Access, payment_id: int) -> Payment:
    """One payment of the user's operator, or 404 (another operator's payment does not exist for them)."""
    payment = payments_visible_to(access=access).filter(pk=payment_id).first()
    if payment is None:
        raise Http404
    return payment


def payments_in_suspense(*, access: Access) -> QuerySet[Payment]:
    return payments_visible_to(access=access, status=Payment.Status.IN_SUSPENSE)


def suspense_count(*, access: Access) -> int:
    if access.operator is None:
        return 0
    return Payment.objects.filter(operator=access.operator, status=Payment.Status.IN_SUSPENSE).count()


def allocations_of(*, payment: Payment) -> QuerySet[Allocation]:
    return payment.allocations.select_related("charge").order_by("pk")


# Customer accounts ---------------------------------------------------------------------------------------


def holder_get_for_access(*, access: Access, holder: str) -> str:
    """The customer account as the ledger spells it, if it has a receivable at the user's operator; else 404."""
    known = holder_known(operator=_operator_of(access), reference=holder)
    if known is None:
        raise Http404
    return known


def charges_open(*, operator: Any, holder: str) -> list[Any]:
    """The account's charges not yet fully paid, oldest due first, each with `open_amount` (read only, no lock)."""
    zero = Value(Decimal("0"), output_field=DecimalField(max_digits=16, decimal_places=2))
    charges = (
        charges_of(operator=operator, holder=holder)
        .filter(cancellation__isnull=True)
        .annotate(allocated=Coalesce(Sum("allocations__amount", filter=Q(allocations__voided=False)), zero))
    )
    open_list = []
    for charge in charges:
        charge.open_amount = charge.total - charge.allocated  # type: ignore[attr-defined]
        if charge.open_amount > 0:  # type: ignore[attr-defined]
            open_list.append(charge)
    return open_list


@dataclasses.dataclass(frozen=True)
class AccountSummary:
    holder: str
    currency: str
    balance: Decimal  # what the account owes
    credit: Decimal  # paid in advance, used on the next charges
    open_charges: list[Any]


def account_summary(*, operator: Any, holder: str) -> AccountSummary:
    return AccountSummary(
        holder=holder,
        currency=operator.currency,
        balance=holder_balance(operator=operator, holder=holder),
        credit=holder_credit(operator=operator, holder=holder),
        open_charges=charges_open(operator=operator, holder=holder),
    )


def payments_of_holder(*, operator: Any, holder: str) -> QuerySet[Payment]:
    return (
        Payment.objects.filter(operator=operator, holder=holder)
        .select_related("receipt")
        .order_by("-received_at", "-pk")
    )


# Supervisors who approve a void ----------------------------------------------------------------------------


def supervisors_for(*, operator: Any, excluding: Any) -> QuerySet[Any]:
    """The operator's admins and treasurers who may approve a void, other than the person voiding."""
    return (
        users_in_workspace(scope=Scope.OPERATOR, organisation_id=operator.pk)
        .filter(
            is_active=True,
            memberships__operator_id=operator.pk,
            memberships__role__in=SUPERVISOR_ROLES,
            memberships__is_active=True,
        )
        .exclude(pk=excluding.pk)
        .distinct()
        .order_by("name", "pk")
    )


def roles_at_operator(*, operator: Any, user: Any) -> frozenset[str]:
    """The roles a user actively holds at the operator (what a supervisor's approval is worth)."""
    memberships = memberships_in_workspace(user=user, scope=Scope.OPERATOR, organisation_id=operator.pk)
    return frozenset(memberships.filter(is_active=True).values_list("role", flat=True))
