"""Corrections after the day: a provider's charge-back of a payment, and cancelling a charge. Both by reversing
transfers, both audited (docs/deposits-and-refunds.md says which postings and why)."""

import datetime
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.core.audit import audit_record
from mita.core.errors import Conflict, DomainError, PermissionDenied
from mita.ledger.models import Charge, Transfer
from mita.ledger.selectors import holder_balance, holder_from
from mita.ledger.services import (
    ARREARS_HEAD,
    CHARGEBACK_HEAD,
    DEPOSIT_HEAD,
    account_get,
    charge_reverse,
    deposit_hold,
    holder_account,
    holder_lock,
    idempotent,
    liability_charge_post,
    transfer_post,
    transfers_reverse,
)
from mita.payments.models import Allocation, Channel, ChargeCancellation, Payment
from mita.payments.selectors import roles_at_operator
from mita.payments.services import SUPERVISOR_ROLES, credit_apply, open_charges

# Payments a provider can take back; cash is voided the same day, a bank deposit corrected by a supervisor.
CHARGEBACK_CHANNELS = (Channel.MOMO, Channel.MPESA, Channel.ONLINE)
# Who may start a charge cancellation; a cashier's needs a supervisor's approval.
CANCEL_ROLES = ("cashier", *SUPERVISOR_ROLES)


class CorrectionError(DomainError):
    pass


def _reason(reason: str, what: str) -> str:
    if not reason.strip():
        raise CorrectionError(what, code="reason_required", fields={"reason": [_("A reason is required.")]})
    return reason.strip()


def is_supervisor(*, operator: Any, user: Any) -> bool:
    return bool(getattr(user, "pk", None)) and bool(
        roles_at_operator(operator=operator, user=user) & set(SUPERVISOR_ROLES)
    )


# Charge-backs --------------------------------------------------------------------------------------------


def _chargeback_kept_deposits(payment: Payment, shortfall: Decimal) -> list[tuple[Charge, Decimal]]:
    """The deposit charges this payment paid whose deposit is already gone (applied or refunded), latest first,
    up to the shortfall: they stay paid, and the customer owes the charge-back instead."""
    kept: list[tuple[Charge, Decimal]] = []
    allocations = payment.allocations.filter(voided=False, charge__head=DEPOSIT_HEAD).select_related("charge")
    for allocation in allocations.order_by("-pk"):
        if shortfall <= 0:
            break
        take = min(allocation.amount, shortfall)
        kept.append((allocation.charge, take))
        shortfall -= take
    return kept


def payment_reverse(*, payment: Payment, reason: str, provider_reference: str, acting_user: Any) -> Payment:
    """The provider took a payment back (a charge-back, or a payment it later failed): reverse it.

    Idempotent on the provider's reversal id: the same id again returns the reversed payment; an id already used
    for another payment is a 409. When the payment's credit or deposit has been used since, the reversal still
    happens and the customer owes the used part as a new "chargeback" charge.
    """
    reason = _reason(reason, _("Say why the provider reversed the payment."))
    reversal_id = provider_reference.strip()
    if not reversal_id:
        raise CorrectionError(
            _("Give the provider's reference of the reversal."),
            code="provider_reference_required",
            fields={"provider_reference": [_("Required.")]},
        )
    if not is_supervisor(operator=payment.operator, user=acting_user):
        raise PermissionDenied(_("A treasurer or operator admin records a charge-back."), code="supervisor_required")
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status == Payment.Status.REVERSED:
            if payment.memo.get("reversal", {}).get("provider_reference") == reversal_id:
                return payment  # the same charge-back reported again
            raise Conflict(_("This payment was already reversed by the provider."), code="already_reversed")
        if payment.status not in (Payment.Status.COMPLETED, Payment.Status.IN_SUSPENSE):
            raise Conflict(
                _("This payment is %(status)s: there is nothing to reverse.")
                % {"status": payment.get_status_display().lower()},
                code="not_reversible",
            )
        if payment.channel not in CHARGEBACK_CHANNELS:
            raise CorrectionError(
                _("Only MoMo, M-Pesa and online payments are charged back; void a cash payment instead."),
                code="channel_not_reversible",
            )

        def write() -> Payment:
            return _payment_reverse(payment=payment, reason=reason, reversal_id=reversal_id, acting_user=acting_user)

        return idempotent(
            operator=payment.operator,
            key=f"payment-reversal:{reversal_id}",
            body={"payment": payment.pk},
            reference=payment.ledger_reference,
            write=write,
            replay=lambda _first: payment,
        )


def _payment_reverse(*, payment: Payment, reason: str, reversal_id: str, acting_user: Any) -> Payment:
    operator = payment.operator
    holder = payment.holder
    today = timezone.localdate()
    shortfall = vat_short = Decimal("0")
    kept: list[tuple[Charge, Decimal]] = []
    if holder:
        holder_lock(operator=operator, holder=holder)
        reference = payment.ledger_reference
        credit_in = holder_from(operator=operator, holder=holder, reference=reference, purpose="credit")
        deposit_in = holder_from(operator=operator, holder=holder, reference=reference, purpose="deposits")
        credit_short = max(Decimal("0"), credit_in - holder_balance(operator=operator, holder=holder, purpose="credit"))
        deposit_short = max(
            Decimal("0"), deposit_in - holder_balance(operator=operator, holder=holder, purpose="deposits")
        )
        kept = _chargeback_kept_deposits(payment, deposit_short)
        shortfall = credit_short + deposit_short
        # The VAT held apart on an advance (operators holding advances without VAT) is the customer's credit too.
        vat_in = holder_from(operator=operator, holder=holder, reference=reference, purpose="advance_vat")
        vat_short = max(Decimal("0"), vat_in - holder_balance(operator=operator, holder=holder, purpose="advance_vat"))
    transfers_reverse(
        operator=operator, reference=payment.ledger_reference, reason=reason, acting_user=acting_user, value_date=today
    )
    payment.allocations.filter(voided=False).update(voided=True)
    chargeback = None
    if shortfall > 0:
        # What the payment paid for is used up: the customer owes it again, as a charge of its own credited to their
        # credit, which first keeps the used deposits paid; the reversal then takes the payment's credit back.
        credit_account = holder_account(operator=operator, holder=holder, purpose="credit")
        chargeback = liability_charge_post(
            operator=operator,
            holder=holder,
            head=CHARGEBACK_HEAD,
            amount=shortfall,
            credit=credit_account,
            reference=f"chargeback:{payment.pk}",
            due_date=today,
            acting_user=acting_user,
        )
        receivable = holder_account(operator=operator, holder=holder, purpose="receivable")
        for charge, amount in kept:
            Allocation.objects.create(operator=operator, payment=None, charge=charge, amount=amount, from_credit=True)
            transfer_post(
                operator=operator,
                debit=credit_account,
                credit=receivable,
                amount=amount,
                kind=Transfer.Kind.ALLOCATION,
                reference=chargeback.reference,
                value_date=today,
                acting_user=acting_user,
            )
            deposit_hold(
                operator=operator,
                holder=holder,
                amount=amount,
                reference=chargeback.reference,
                value_date=today,
                acting_user=acting_user,
            )
    if holder and vat_short > 0:
        vat_chargeback = liability_charge_post(
            operator=operator,
            holder=holder,
            head=CHARGEBACK_HEAD,
            amount=vat_short,
            credit=holder_account(operator=operator, holder=holder, purpose="advance_vat"),
            reference=f"chargeback:{payment.pk}:vat",
            due_date=today,
            acting_user=acting_user,
        )
        shortfall += vat_chargeback.total
    payment.status = Payment.Status.REVERSED
    payment.memo = {
        **payment.memo,
        "reversal": {
            "provider_reference": reversal_id,
            "reason": reason,
            "by": getattr(acting_user, "pk", None),
            "chargeback_charge": chargeback.pk if chargeback else None,
        },
    }
    payment.save(update_fields=["status", "memo"])
    if holder:
        credit_apply(operator=operator, holder=holder, acting_user=acting_user)
    audit_record(
        actor=acting_user,
        action="payment.reversed",
        target=payment,
        detail={
            "reason": reason,
            "provider_reference": reversal_id,
            "owed_again": shortfall,
            "chargeback_charge": chargeback.pk if chargeback else None,
        },
    )
    return payment


# Charge cancellation -------------------------------------------------------------------------------------


def charge_cancel(*, charge: Charge, reason: str, acting_user: Any, approved_by: Any) -> ChargeCancellation:
    """Cancel a charge: reverse its transfers, move what was paid towards it to the customer's credit, and use that
    credit on the account's other open charges. A supervisor approves (a supervisor starting it approves it)."""
    reason = _reason(reason, _("Say why the charge is cancelled."))
    operator = charge.operator
    if not (
        getattr(acting_user, "pk", None) and roles_at_operator(operator=operator, user=acting_user) & set(CANCEL_ROLES)
    ):
        raise PermissionDenied(_("Your role does not cancel charges."), code="role_refused")
    if approved_by is None or not is_supervisor(operator=operator, user=approved_by):
        raise PermissionDenied(
            _("A supervisor (operator admin or treasurer) must approve the cancellation."), code="approval_required"
        )
    return charge_cancel_posting(charge=charge, reason=reason, acting_user=acting_user, approved_by=approved_by)


def _paid_on_other_open_deposits(charge: Charge) -> Decimal:
    """What is paid on the account's other deposit charges not yet fully paid: the held deposit must keep covering it."""
    return sum(
        (
            other.allocated  # type: ignore[attr-defined]
            for other in open_charges(operator=charge.operator, holder=charge.holder)
            if other.head == DEPOSIT_HEAD and other.pk != charge.pk
        ),
        Decimal("0"),
    )


@transaction.atomic
def charge_cancel_posting(
    *,
    charge: Charge,
    reason: str,
    acting_user: Any,
    approved_by: Any,
    value_date: datetime.date | None = None,
    unpaid_part_if_given_back: bool = False,
) -> ChargeCancellation:
    """The postings of a cancellation, for callers that checked who may (charge_cancel, deposit adjustments).

    A deposit charge whose paid part is no longer held (the deposit was lowered, applied or refunded since, and a
    charge-back kept it paid) cannot be cancelled whole: its paid part would become credit a second time. With
    `unpaid_part_if_given_back` (a deposit lowered, an account terminated, its arrears moved with a meter) only its
    unpaid part is cancelled then.
    """
    operator = charge.operator
    holder = charge.holder
    value_date = value_date or timezone.localdate()
    holder_lock(operator=operator, holder=holder)
    if ChargeCancellation.objects.filter(charge=charge).exists():
        raise Conflict(_("This charge is already cancelled."), code="already_cancelled")
    if charge.head == CHARGEBACK_HEAD:
        raise Conflict(
            _("A charge-back is owed because the provider took a payment back; it cannot be cancelled."),
            code="chargeback_not_cancellable",
        )
    live = list(
        Allocation.objects.select_for_update(of=("self",)).filter(charge=charge, voided=False).select_related("payment")
    )
    if charge.head == ARREARS_HEAD or any(a.payment_id is None and not a.from_credit for a in live):
        # An arrears move (a meter transfer, ledger.arrears_move) is corrected by moving the arrears back, never by
        # cancelling either side: that would forgive the same debt on one account and leave it on the other.
        raise Conflict(
            _("These arrears moved with a meter transfer: correct a wrong transfer by moving the arrears back."),
            code="charge_moved",
        )
    # What was paid, by the reference that paid it: a payment's part goes back with that payment if it is ever
    # voided or charged back; a part paid from credit returns to credit for good.
    paid_by: dict[str, Decimal] = defaultdict(Decimal)
    for allocation in live:
        reference = allocation.payment.ledger_reference if allocation.payment else f"charge-cancel:{charge.pk}"
        paid_by[reference] += allocation.amount
    paid = sum(paid_by.values(), Decimal("0"))
    if charge.head == DEPOSIT_HEAD and paid + _paid_on_other_open_deposits(charge) > holder_balance(
        operator=operator, holder=holder, purpose="deposits"
    ):
        # Part of the deposit was applied, refunded or lowered since: what is held no longer covers this charge.
        if unpaid_part_if_given_back:
            return _deposit_unpaid_part_cancel(
                charge=charge,
                paid=paid,
                reason=reason,
                acting_user=acting_user,
                approved_by=approved_by,
                value_date=value_date,
            )
        raise Conflict(
            _("This deposit has already been applied or refunded, so its charge cannot be cancelled."),
            code="deposit_already_used",
        )
    receivable = holder_account(operator=operator, holder=holder, purpose="receivable")
    credit = holder_account(operator=operator, holder=holder, purpose="credit")
    for reference, amount in paid_by.items():
        if charge.head == DEPOSIT_HEAD:  # the deposit paid is no longer held: it is no deposit any more
            transfer_post(
                operator=operator,
                debit=holder_account(operator=operator, holder=holder, purpose="deposits"),
                credit=account_get(operator=operator, code="deposits_billed"),
                amount=amount,
                kind=Transfer.Kind.DEPOSIT,
                reference=reference,
                value_date=value_date,
                acting_user=acting_user,
                memo={"charge_cancelled": charge.pk},
            )
    charge_reverse(charge=charge, reason=reason, acting_user=acting_user, value_date=value_date)
    Allocation.objects.filter(pk__in=[allocation.pk for allocation in live]).update(voided=True)
    for reference, amount in paid_by.items():
        transfer_post(
            operator=operator,
            debit=receivable,
            credit=credit,
            amount=amount,
            kind=Transfer.Kind.TRANSFER,
            reference=reference,
            value_date=value_date,
            acting_user=acting_user,
            memo={"charge_cancelled": charge.pk},
        )
    cancellation = _cancellation_create(
        charge=charge, reason=reason, acting_user=acting_user, approved_by=approved_by, moved_to_credit=paid
    )
    applied = credit_apply(operator=operator, holder=holder, acting_user=acting_user, value_date=value_date)
    _cancellation_audit(cancellation, acting_user=acting_user, moved_to_credit=paid, credit_applied=applied)
    return cancellation


def _cancellation_create(
    *, charge: Charge, reason: str, acting_user: Any, approved_by: Any, moved_to_credit: Decimal
) -> ChargeCancellation:
    return ChargeCancellation.objects.create(
        operator=charge.operator,
        charge=charge,
        reason=reason,
        moved_to_credit=moved_to_credit,
        cancelled_by=acting_user if getattr(acting_user, "pk", None) else None,
        approved_by=approved_by if getattr(approved_by, "pk", None) else None,
    )


def _cancellation_audit(cancellation: ChargeCancellation, *, acting_user: Any, **detail: Any) -> None:
    charge = cancellation.charge
    audit_record(
        actor=acting_user,
        action="charge.cancelled",
        operator=charge.operator,
        target=cancellation,
        detail={
            "charge": charge.pk,
            "reference": charge.reference,
            "head": charge.head,
            "total": charge.total,
            "reason": cancellation.reason,
            "approved_by": cancellation.approved_by_id,
            **detail,
        },
    )


def _deposit_unpaid_part_cancel(
    *, charge: Charge, paid: Decimal, reason: str, acting_user: Any, approved_by: Any, value_date: datetime.date
) -> ChargeCancellation:
    """Cancel what is still owed on a deposit charge and leave its paid part paid: that deposit was given back
    already (as credit, a refund or on a final bill), so it is neither held again nor given back twice."""
    operator = charge.operator
    unpaid = charge.total - paid
    if unpaid > 0:
        transfer_post(
            operator=operator,
            debit=account_get(operator=operator, code="deposits_billed"),
            credit=holder_account(operator=operator, holder=charge.holder, purpose="receivable"),
            amount=unpaid,
            kind=Transfer.Kind.REVERSAL,
            reference=charge.reference,
            value_date=value_date,
            acting_user=acting_user,
            memo={"reason": reason.strip(), "unpaid_part_of": charge.pk},
        )
    cancellation = _cancellation_create(
        charge=charge, reason=reason, acting_user=acting_user, approved_by=approved_by, moved_to_credit=Decimal("0")
    )
    _cancellation_audit(cancellation, acting_user=acting_user, unpaid_part_only=unpaid, kept_paid=paid)
    return cancellation
