"""Security deposits: the operator's schedule, charging a deposit, adjusting it on a package change, and applying it
to the final bill on termination.

A deposit is charged like anything else (head "deposit", due like a bill, paid oldest first) but it is never revenue
and carries no VAT: the charge credits the liability deposits_billed, and whatever pays it moves on to the customer's
own liability account deposits:<holder> (ledger.services.deposit_hold). The deposit's level is what is held plus
what is still owed on deposit charges. A decrease goes to the customer's credit (used on open charges first, the rest
refundable through an approved refund); on termination the held deposit clears the open charges and the rest is credit.
"""

import dataclasses
import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.core.audit import audit_record
from mita.core.errors import Conflict, DomainError
from mita.core.money import quantize
from mita.ledger.models import Charge, Transfer
from mita.ledger.selectors import holder_balance
from mita.ledger.services import (
    DEPOSIT_HEAD,
    account_get,
    holder_account,
    holder_lock,
    idempotent,
    liability_charge_post,
    transfer_post,
)
from mita.payments.corrections import charge_cancel_posting
from mita.payments.models import DepositRate, HolderDeposit, Refund
from mita.payments.services import credit_apply, open_charges


class DepositError(DomainError):
    pass


# The schedule ------------------------------------------------------------------------------------------


def _positive_or_zero(amount: Any, currency: str, *, field: str = "amount") -> Decimal:
    if not isinstance(amount, Decimal) or amount < 0:
        raise DepositError(
            _("A deposit is an amount of zero or more."), code="amount_invalid", fields={field: [_("Zero or more.")]}
        )
    if quantize(amount, currency) != amount:
        message = _("%(currency)s amounts have no smaller units than this: write %(rounded)s.") % {
            "currency": currency,
            "rounded": quantize(amount, currency),
        }
        raise DepositError(message, code="amount_invalid", fields={field: [message]})
    return amount


@transaction.atomic
def deposit_rate_save(
    *, operator: Any, key: str, label: str, amount: Decimal, acting_user: Any, rate: DepositRate | None = None
) -> DepositRate:
    """Add a line to the operator's deposit schedule, or change one (its key stays unique)."""
    key = key.strip()
    if not key:
        raise DepositError(
            _("Name the connection type or package."), code="key_required", fields={"key": [_("Required.")]}
        )
    amount = _positive_or_zero(amount, operator.currency)
    clash = DepositRate.objects.filter(operator=operator, key__iexact=key)
    if rate is not None:
        clash = clash.exclude(pk=rate.pk)
    if clash.exists():
        raise Conflict(
            _("The schedule already has a deposit for %(key)s.") % {"key": key},
            code="key_taken",
            fields={"key": [_("Already in the schedule: change that line instead.")]},
        )
    before = {"key": rate.key, "label": rate.label, "amount": rate.amount} if rate else None
    if rate is None:
        rate = DepositRate(operator=operator)
    rate.key, rate.label, rate.amount = key, label.strip() or key, amount
    rate.save()
    audit_record(
        actor=acting_user,
        action="deposit_rate.saved",
        target=rate,
        before=before,
        after={"key": rate.key, "label": rate.label, "amount": rate.amount},
    )
    return rate


def deposit_amount_for(*, operator: Any, key: str) -> Decimal:
    """The schedule's deposit for a connection type or package code."""
    rate = DepositRate.objects.filter(operator=operator, key__iexact=key.strip()).first()
    if rate is None:
        raise DepositError(
            _("The deposit schedule has nothing for %(key)s.") % {"key": key},
            code="deposit_key_unknown",
            fields={"key": [_("Add it to the deposit schedule first, or give the amount.")]},
        )
    return rate.amount


def _target(*, operator: Any, key: str, amount: Decimal | None) -> tuple[str, Decimal]:
    """The schedule key and the deposit asked for: from the schedule by key, or an amount given (exactly one)."""
    key = key.strip()
    if bool(key) == (amount is not None):
        raise DepositError(
            _("Give either a connection type or package from the schedule, or an amount, not both."),
            code="key_or_amount",
            fields={"key": [_("A schedule line, or…")], "amount": [_("…an amount.")]},
        )
    if key:
        rate = DepositRate.objects.filter(operator=operator, key__iexact=key).first()
        if rate is None:
            deposit_amount_for(operator=operator, key=key)  # raises the clear error
        assert rate is not None
        return rate.key, rate.amount
    assert amount is not None
    return "", _positive_or_zero(amount, operator.currency)


def _holder_deposit_note(*, operator: Any, holder: str, key: str) -> None:
    """Remember which schedule line the account's deposit follows (kept when the amount was given by hand)."""
    note, _created = HolderDeposit.objects.get_or_create(operator=operator, holder=holder)
    if key:
        note.key = key
    note.applied_at = None
    note.save()


# A customer account's deposit -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DepositLevel:
    held: Decimal  # paid and held in deposits:<holder>
    unpaid: Decimal  # still owed on open deposit charges

    @property
    def level(self) -> Decimal:
        return self.held + self.unpaid


def deposit_level(*, operator: Any, holder: str) -> DepositLevel:
    """What the account holds as deposit, and what it still owes on deposit charges. Lock the holder to act on it."""
    deposits = [charge for charge in open_charges(operator=operator, holder=holder) if charge.head == DEPOSIT_HEAD]
    unpaid = sum((charge.open_amount for charge in deposits), Decimal("0"))  # type: ignore[attr-defined]
    return DepositLevel(held=holder_balance(operator=operator, holder=holder, purpose="deposits"), unpaid=unpaid)


def _charge(
    *, operator: Any, holder: str, amount: Decimal, reference: str, due_date: datetime.date, acting_user: Any
) -> Charge:
    return liability_charge_post(
        operator=operator,
        holder=holder,
        head=DEPOSIT_HEAD,
        amount=amount,
        credit=account_get(operator=operator, code="deposits_billed"),
        reference=reference,
        due_date=due_date,
        acting_user=acting_user,
    )


def _charge_replay(operator: Any, reference: str) -> Charge:
    return Charge.objects.filter(operator=operator, reference=reference, head=DEPOSIT_HEAD).latest("pk")


def deposit_charge(
    *,
    operator: Any,
    holder: str,
    reference: str,
    due_date: datetime.date,
    acting_user: Any,
    key: str = "",
    amount: Decimal | None = None,
    idempotency_key: str | None = None,
) -> Charge:
    """Charge a customer account its security deposit, by the schedule's key or an amount given.

    Owed like a bill; once paid it is held in deposits:<holder>. Credit the account already has pays it at once.
    """
    if not reference.strip():
        raise DepositError(
            _("Give the deposit charge a reference."), code="reference_required", fields={"reference": [_("Required.")]}
        )
    key, amount = _target(operator=operator, key=key, amount=amount)
    if amount <= 0:
        raise DepositError(
            _("There is no deposit to charge: the amount is zero."),
            code="nothing_to_charge",
            fields={"amount": [_("More than zero.")]},
        )
    body = {"holder": holder, "key": key, "amount": amount, "reference": reference, "due_date": due_date}

    def write() -> Charge:
        holder_lock(operator=operator, holder=holder)
        charge = _charge(
            operator=operator,
            holder=holder,
            amount=amount,
            reference=reference,
            due_date=due_date,
            acting_user=acting_user,
        )
        _holder_deposit_note(operator=operator, holder=holder, key=key)
        credit_apply(operator=operator, holder=holder, acting_user=acting_user)
        audit_record(
            actor=acting_user,
            action="deposit.charged",
            target=charge,
            operator=operator,
            after={"holder": holder, "key": key, "amount": amount, "reference": reference, "due_date": due_date},
        )
        return charge

    with transaction.atomic():
        return idempotent(
            operator=operator,
            key=idempotency_key,
            body=body,
            reference=reference,
            write=write,
            replay=lambda first: _charge_replay(operator, first),
        )


@dataclasses.dataclass(frozen=True)
class DepositChange:
    before: Decimal  # the level before
    after: Decimal  # the level asked for
    charged: Charge | None  # a top-up charge
    released: Decimal  # moved from the deposit to the customer's credit
    cancelled: list[Charge]  # unpaid deposit charges cancelled to make room for a lower deposit


def _release(
    *, operator: Any, holder: str, amount: Decimal, reference: str, acting_user: Any, memo: dict[str, Any]
) -> None:
    transfer_post(
        operator=operator,
        debit=holder_account(operator=operator, holder=holder, purpose="deposits"),
        credit=holder_account(operator=operator, holder=holder, purpose="credit"),
        amount=amount,
        kind=Transfer.Kind.DEPOSIT,
        reference=reference,
        value_date=timezone.localdate(),
        acting_user=acting_user,
        memo=memo,
    )


def _cancel_unpaid_deposits(*, operator: Any, holder: str, reason: str, acting_user: Any) -> list[Charge]:
    unpaid = [charge for charge in open_charges(operator=operator, holder=holder) if charge.head == DEPOSIT_HEAD]
    for charge in unpaid:
        charge_cancel_posting(
            charge=charge,
            reason=reason,
            acting_user=acting_user,
            approved_by=acting_user,
            unpaid_part_if_given_back=True,
        )
    return unpaid


def deposit_adjust(
    *,
    operator: Any,
    holder: str,
    reference: str,
    acting_user: Any,
    key: str = "",
    amount: Decimal | None = None,
    due_date: datetime.date | None = None,
    idempotency_key: str | None = None,
) -> DepositChange:
    """Bring the account's deposit to a new level on a package change (by the schedule's key or an amount).

    A higher level is a top-up charge for the difference. A lower one moves the difference from the held deposit
    to the customer's credit, which then pays open charges; what is left can be refunded (refunds.py). When part of
    the deposit is still owed, its unpaid charges are cancelled first (what was paid on them becomes credit) and the
    new level is charged or given back from what is held.
    """
    if not reference.strip():
        raise DepositError(
            _("Give the change a reference."), code="reference_required", fields={"reference": [_("Required.")]}
        )
    key, target = _target(operator=operator, key=key, amount=amount)
    due_date = due_date or timezone.localdate()
    body = {"holder": holder, "key": key, "amount": target, "reference": reference, "due_date": due_date}

    def write() -> DepositChange:
        holder_lock(operator=operator, holder=holder)
        now = deposit_level(operator=operator, holder=holder)
        before = now.level
        cancelled: list[Charge] = []
        if target < now.level and now.unpaid > 0:
            # Lower than the deposit owed: the unpaid deposit charges go (what was paid on them becomes credit), so
            # that a decrease is only ever given back from a deposit fully paid.
            cancelled = _cancel_unpaid_deposits(
                operator=operator,
                holder=holder,
                reason=_("Deposit changed: %(reference)s") % {"reference": reference},
                acting_user=acting_user,
            )
            now = deposit_level(operator=operator, holder=holder)
        charged = None
        released = Decimal("0")
        if target > now.level:
            charged = _charge(
                operator=operator,
                holder=holder,
                amount=target - now.level,
                reference=reference,
                due_date=due_date,
                acting_user=acting_user,
            )
        elif target < now.level:
            released = now.level - target
            _release(
                operator=operator,
                holder=holder,
                amount=released,
                reference=reference,
                acting_user=acting_user,
                memo={"deposit_decreased": True},
            )
        _holder_deposit_note(operator=operator, holder=holder, key=key)
        credit_apply(operator=operator, holder=holder, acting_user=acting_user)
        audit_record(
            actor=acting_user,
            action="deposit.adjusted",
            operator=operator,
            target=charged,
            before={"level": before},
            after={
                "holder": holder,
                "key": key,
                "level": target,
                "charged": charged.total if charged else None,
                "released_to_credit": released,
                "cancelled_charges": [charge.pk for charge in cancelled],
                "reference": reference,
            },
        )
        return DepositChange(before=before, after=target, charged=charged, released=released, cancelled=cancelled)

    def replay(first: str) -> DepositChange:
        level = deposit_level(operator=operator, holder=holder).level
        charge = Charge.objects.filter(operator=operator, reference=first, head=DEPOSIT_HEAD).last()
        return DepositChange(before=level, after=level, charged=charge, released=Decimal("0"), cancelled=[])

    with transaction.atomic():
        return idempotent(
            operator=operator, key=idempotency_key, body=body, reference=reference, write=write, replay=replay
        )


@dataclasses.dataclass(frozen=True)
class DepositApplication:
    held: Decimal  # the deposit that was held, now moved to the customer's credit
    applied: Decimal  # the credit that then cleared open charges
    credit_left: Decimal  # refundable
    cancelled: list[Charge]  # deposit charges never paid, cancelled


@transaction.atomic
def deposit_apply_to_final_bill(*, operator: Any, holder: str, acting_user: Any) -> DepositApplication:
    """On termination: the held deposit clears the account's open charges (the final bill), the rest is credit to
    refund. Unpaid deposit charges are cancelled (a deposit never paid secures nothing). Safe to repeat."""
    holder_lock(operator=operator, holder=holder)
    if Refund.objects.filter(
        operator=operator,
        holder=holder,
        source=Refund.Source.DEPOSIT,
        status__in=(Refund.Status.REQUESTED, Refund.Status.APPROVED),
    ).exists():
        raise Conflict(
            _("A refund of this deposit is waiting: pay it out or reject it before applying the deposit."),
            code="refund_pending",
        )
    cancelled = _cancel_unpaid_deposits(
        operator=operator, holder=holder, reason=_("Account terminated: deposit never paid"), acting_user=acting_user
    )
    held = holder_balance(operator=operator, holder=holder, purpose="deposits")
    if held > 0:
        _release(
            operator=operator,
            holder=holder,
            amount=held,
            reference=f"deposit-final:{holder}:{timezone.now():%Y%m%d%H%M%S%f}",
            acting_user=acting_user,
            memo={"final_bill": True},
        )
    applied = credit_apply(operator=operator, holder=holder, acting_user=acting_user)
    HolderDeposit.objects.update_or_create(operator=operator, holder=holder, defaults={"applied_at": timezone.now()})
    credit_left = holder_balance(operator=operator, holder=holder, purpose="credit")
    audit_record(
        actor=acting_user,
        action="deposit.applied",
        operator=operator,
        detail={
            "holder": holder,
            "held": held,
            "applied": applied,
            "credit_left": credit_left,
            "cancelled_charges": [charge.pk for charge in cancelled],
        },
    )
    return DepositApplication(held=held, applied=applied, credit_left=credit_left, cancelled=cancelled)
