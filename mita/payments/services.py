"""Taking payments: idempotent by key, matched to a customer account or held in suspense, allocated to the oldest
charges first, the rest kept as credit, a gapless receipt each; voids and suspense assignment by reversal."""

import dataclasses
import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import DecimalField, F, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.core.audit import audit_record
from mita.core.bulk import id_read, instance_create, instance_of
from mita.core.errors import Conflict, DomainError, PermissionDenied
from mita.core.money import quantize
from mita.core.prepared import Read, prepared_cursor, reads_together, writes_joined
from mita.ledger.models import Account, Balance, Charge, Transfer
from mita.ledger.selectors import charges_of, credit_from, holder_balance, holder_from, holder_known
from mita.ledger.services import (
    DEPOSIT_HEAD,
    account_get,
    account_remember,
    deposit_hold,
    holder_account,
    holder_lock,
    transfer_post,
    transfers_reverse,
    vat_included,
)
from mita.payments.cashier import till_check_voidable, till_for_payment
from mita.payments.confirmations import payment_confirmation_queue
from mita.payments.models import Allocation, Channel, ChargeCancellation, Payment, PaymentSettings, Receipt
from mita.payments.numbering import receipt_number_give
from mita.payments.preferences import allocation_key, payment_settings_for
from mita.payments.signals import charges_settled


class PaymentError(DomainError):
    pass


SUPERVISOR_ROLES = ("operator_admin", "treasurer")


def _clearing(operator: Any, channel: str) -> Account:
    return account_get(operator=operator, code=f"clearing:{channel}")


def open_charges(*, operator: Any, holder: str, rules: PaymentSettings | None = None) -> list[Charge]:
    """The customer account's charges not yet fully paid, in the order payments clear them (the operator's
    settings: oldest due first by default), each with `open_amount`.

    One query, whatever the account's history. Call after holder_lock() when allocating, so that concurrent
    payments see each other's allocations.
    """
    if connection.vendor == "postgresql":
        open_list = reads_together(_open_charges_read(operator=operator, holder=holder))[0]
    else:
        zero = Value(Decimal("0"), output_field=DecimalField(max_digits=16, decimal_places=2))
        charges = (
            charges_of(operator=operator, holder=holder)
            .annotate(allocated=Coalesce(Sum("allocations__amount", filter=Q(allocations__voided=False)), zero))
            .filter(total__gt=F("allocated"), cancellation__isnull=True)
        )
        open_list = []
        for charge in charges:
            charge.open_amount = charge.total - charge.allocated  # type: ignore[attr-defined]
            open_list.append(charge)
    return _in_clearing_order(open_list, operator=operator, rules=rules)


def _in_clearing_order(open_list: list[Charge], *, operator: Any, rules: PaymentSettings | None) -> list[Charge]:
    if len(open_list) < 2:  # nothing to order: the operator's settings are not even read
        return open_list
    return sorted(open_list, key=allocation_key(rules or payment_settings_for(operator=operator)))


# The query open_charges' ORM path builds, written once: on PostgreSQL, where the driver gives back Decimals and
# dates as they are, a payment then spends no time building SQL for its busiest read (about a fifth of its CPU).
_CHARGE_ATTNAMES = [field.attname for field in Charge._meta.concrete_fields]
_OPEN_CHARGES_SQL = """
SELECT {columns}, COALESCE(SUM(allocation.amount) FILTER (WHERE NOT allocation.voided), 0) AS allocated
FROM {charge} AS charge
LEFT OUTER JOIN {allocation} AS allocation ON charge.id = allocation.charge_id
LEFT OUTER JOIN {cancellation} AS cancellation ON charge.id = cancellation.charge_id
WHERE charge.holder = %s AND charge.operator_id = %s AND cancellation.id IS NULL
GROUP BY charge.id
HAVING charge.total > COALESCE(SUM(allocation.amount) FILTER (WHERE NOT allocation.voided), 0)
ORDER BY charge.due_date ASC, charge.id ASC
""".format(
    columns=", ".join(f"charge.{field.column}" for field in Charge._meta.concrete_fields),
    charge=Charge._meta.db_table,
    allocation=Allocation._meta.db_table,
    cancellation=ChargeCancellation._meta.db_table,
)


def _open_charges_read(*, operator: Any, holder: str) -> Read:
    """open_charges' query on PostgreSQL (in the order of the SQL: due date, then id), for reads_together."""
    return Read(_OPEN_CHARGES_SQL, [holder, getattr(operator, "pk", operator)], answer=_charges_of_rows)


def _charges_of_rows(rows: list[tuple[Any, ...]]) -> list[Charge]:
    open_list: list[Charge] = []
    for *values, allocated in rows:
        charge = instance_of(Charge, dict(zip(_CHARGE_ATTNAMES, values, strict=True)), db=connection.alias)
        charge.allocated = allocated
        charge.open_amount = charge.total - allocated
        open_list.append(charge)
    return open_list


def _remember_allocations(payment: Payment, allocations: list[Allocation]) -> None:
    """Keep a new payment's allocations on it as if prefetched, so that answering with them reads nothing again.
    Their amounts are written as the database gives them back (to the column's places: 1500 reads as 1500.00)."""
    places = Decimal(1).scaleb(-Allocation._meta.get_field("amount").decimal_places)
    for allocation in allocations:
        allocation.amount = allocation.amount.quantize(places)
    queryset = payment.allocations.all()
    queryset._result_cache = allocations
    queryset._prefetch_done = True  # type: ignore[attr-defined]
    payment._prefetched_objects_cache = {  # type: ignore[attr-defined]
        **getattr(payment, "_prefetched_objects_cache", {}),
        "allocations": queryset,
    }


def _receivable_lock(*, operator: Any, reference: str) -> Account | None:
    """The customer account an account reference names, its receivable locked as holder_lock() locks it, or None.

    One query in the usual case (the reference is the holder, as written); else the case-blind match, then the lock.
    Elsewhere than PostgreSQL: there _payment_start reads it with the rest (_receivable_lock_read).
    """
    reference = reference.strip()
    balance = (
        Balance.objects.select_for_update(of=("self",))
        .select_related("account")
        .filter(
            account__operator=operator,
            account__category=Account.Category.RECEIVABLE,
            account__code=f"receivable:{reference}",
        )
        .first()
    )
    if balance is not None:
        return balance.account
    return _receivable_lock_case_blind(operator=operator, reference=reference)


def _receivable_lock_case_blind(*, operator: Any, reference: str) -> Account | None:
    """_receivable_lock where the reference is not the holder as written."""
    holder = holder_known(operator=operator, reference=reference)
    return holder_lock(operator=operator, holder=holder) if holder else None


# _receivable_lock's ORM query, written once for PostgreSQL (see _OPEN_CHARGES_SQL): _receivable_lock_read.
_ACCOUNT_ATTNAMES = [field.attname for field in Account._meta.concrete_fields]
_RECEIVABLE_LOCK_SQL = """
SELECT {columns} FROM {balance} AS balance INNER JOIN {account} AS account ON balance.account_id = account.id
WHERE account.category = %s AND account.code = %s AND account.operator_id = %s
ORDER BY balance.account_id ASC LIMIT 1 FOR UPDATE OF balance
""".format(
    columns=", ".join(f"account.{field.column}" for field in Account._meta.concrete_fields),
    balance=Balance._meta.db_table,
    account=Account._meta.db_table,
)


def _receivable_lock_read(*, operator: Any, reference: str) -> Read:
    """_receivable_lock's usual case on PostgreSQL (the reference is the holder as written), for reads_together: the
    receivable's account, its balance locked, or None."""
    return Read(
        _RECEIVABLE_LOCK_SQL,
        [Account.Category.RECEIVABLE.value, f"receivable:{reference}", operator.pk],
        answer=_account_of_rows,
    )


def _account_of_rows(rows: list[tuple[Any, ...]]) -> Account | None:
    if not rows:
        return None
    account: Account = instance_of(Account, dict(zip(_ACCOUNT_ATTNAMES, rows[0], strict=True)), db=connection.alias)
    return account


@dataclasses.dataclass
class _Start:
    """What a payment reads before it writes (payment_receive)."""

    till_id: int | None
    receivable: Account | None  # the account's receivable, its balance locked; None: to suspense
    charges: list[Charge] | None  # the account's open charges, read after the lock; None: not read yet
    payment_id: int | None  # the payment's id, taken from the sequence; None: the INSERT takes one


def _payment_start(*, operator: Any, channel: str, received_by: Any, reference: str) -> _Start:
    """The payment's till and the account's receivable, locked in that order (as a till's close and every ledger
    write lock them). On PostgreSQL in one round trip with the account's open charges and the payment's id, when the
    reference is the holder as written (the usual case): the charges are read after the lock, so they show what a
    payment that held it before allocated."""
    till = till_for_payment(operator=operator, channel=channel, received_by=received_by)
    if connection.vendor != "postgresql":
        till_id = reads_together(till)[0]
        return _Start(till_id, _receivable_lock(operator=operator, reference=reference), None, None)
    reference = reference.strip()
    till_id, receivable, charges, payment_id = reads_together(
        till,
        _receivable_lock_read(operator=operator, reference=reference),
        _open_charges_read(operator=operator, holder=reference),
        id_read(Payment),
    )
    if receivable is None:  # another spelling of a holder, or no account: the charges read were not this account's
        receivable, charges = _receivable_lock_case_blind(operator=operator, reference=reference), None
    elif receivable.holder != reference:  # (a receivable's code names its holder: not seen, but not assumed)
        charges = None
    else:
        charges = _in_clearing_order(charges, operator=operator, rules=None)
    return _Start(till_id, receivable, charges, payment_id)


def _settle(
    *,
    operator: Any,
    holder: str,
    amount: Decimal,
    source: Account,
    reference: str,
    value_date: datetime.date,
    acting_user: Any,
    payment: Payment | None,
    rules: PaymentSettings | None,
    receivable: Account | None = None,
    charges: list[Charge] | None = None,
) -> Decimal:
    """Clear open charges in the operator's order from `source` (a clearing, suspense or credit account); returns
    the rest. `receivable`: the account's receivable when the caller has already locked it (holder_lock);
    `charges`: its open charges in that order, when the caller has read them since."""
    if receivable is None:
        receivable = holder_lock(operator=operator, holder=holder)
    if charges is None:
        charges = open_charges(operator=operator, holder=holder, rules=rules)
    remaining = amount
    deposit_paid = Decimal("0")
    settled: list[int] = []
    heads: set[str] = set()
    allocations: list[Allocation] = []
    for charge in charges:
        if remaining <= 0:
            break
        take = min(charge.open_amount, remaining)  # type: ignore[attr-defined]
        settled.append(charge.pk)
        heads.add(charge.head)
        allocations.append(
            Allocation(operator=operator, payment=payment, charge=charge, amount=take, from_credit=payment is None)
        )
        remaining -= take
        if charge.head == DEPOSIT_HEAD:
            deposit_paid += take
    if len(allocations) == 1:  # the usual case: its INSERT built once (core.bulk)
        instance_create(allocations[0])
    elif allocations:  # one statement however many charges the payment clears
        Allocation.objects.bulk_create(allocations)
    if payment is not None:
        _remember_allocations(payment, allocations)
    applied = amount - remaining
    if settled:
        charges_settled.send(sender=Allocation, operator=operator, holder=holder, charge_ids=settled, heads=heads)
    kind = Transfer.Kind.PAYMENT if payment is not None else Transfer.Kind.ALLOCATION
    if applied > 0:
        transfer_post(
            operator=operator,
            debit=source,
            credit=receivable,
            amount=applied,
            kind=kind,
            reference=reference,
            value_date=value_date,
            acting_user=acting_user,
        )
    if deposit_paid > 0:  # a deposit paid is held for the customer, not earned (payments/deposits.py)
        deposit_hold(
            operator=operator,
            holder=holder,
            amount=deposit_paid,
            reference=reference,
            value_date=value_date,
            acting_user=acting_user,
        )
    return remaining


def _take(
    *,
    payment: Payment,
    holder: str,
    source: Account,
    acting_user: Any,
    receivable: Account | None = None,
    charges: list[Charge] | None = None,
) -> None:
    """Apply a payment to the account: charges first, the rest as the customer's credit. `receivable`: the account's
    receivable, when the caller has locked it already; `charges`: its open charges, when read since (_settle)."""
    operator = payment.operator
    rest = _settle(
        operator=operator,
        holder=holder,
        amount=payment.amount,
        source=source,
        reference=payment.ledger_reference,
        value_date=payment.value_date,
        acting_user=acting_user,
        payment=payment,
        rules=None,  # read only when there is something to order
        receivable=receivable,
        charges=charges,
    )
    if rest <= 0:
        return
    rules = payment_settings_for(operator=operator)
    # An advance: held as credit; where the operator holds advances excluding VAT, the VAT part is held apart
    # until the bill that consumes the advance is issued (that bill's charge recognises its own VAT).
    held_vat = vat_included(operator=operator, gross=rest) if rules.advance_ex_vat else Decimal("0")
    for purpose, part in (("credit", rest - held_vat), ("advance_vat", held_vat)):
        if part > 0:
            transfer_post(
                operator=operator,
                debit=source,
                credit=holder_account(operator=operator, holder=holder, purpose=purpose),
                amount=part,
                kind=Transfer.Kind.PAYMENT,
                reference=payment.ledger_reference,
                value_date=payment.value_date,
                acting_user=acting_user,
                memo={"overpayment": True, "advance_ex_vat": rules.advance_ex_vat},
            )


_PAYMENT_BY_KEY_SQL = f"SELECT id FROM {Payment._meta.db_table} WHERE operator_id = %s AND idempotency_key = %s"  # noqa: S608


def _payment_by_key(*, operator: Any, key: str) -> Payment | None:
    """The operator's payment taken with this idempotency key, if any. The key is unique per operator: a new payment
    (the usual case) costs one short statement, written once rather than built by the ORM each time."""
    with prepared_cursor() as cursor:
        cursor.execute(_PAYMENT_BY_KEY_SQL, [operator.pk, key])
        row = cursor.fetchone()
    return Payment.objects.filter(pk=row[0]).first() if row else None


def _same_payment(
    payment: Payment, *, channel: str, amount: Decimal, account_reference: str, provider_reference: str
) -> bool:
    return (payment.channel, payment.amount, payment.account_reference.strip().lower(), payment.provider_reference) == (
        channel,
        amount,
        account_reference.strip().lower(),
        provider_reference,
    )


def payment_receive(
    *,
    operator: Any,
    channel: str,
    amount: Decimal,
    account_reference: str,
    idempotency_key: str,
    received_by: Any,
    value_date: datetime.date | None = None,
    provider_reference: str = "",
    payer_phone: str = "",
    payer_name: str = "",
    memo: dict[str, Any] | None = None,
) -> Payment:
    """Record a payment once per key: matched on the account reference (never the phone), or held in suspense.

    A replay returns the first payment (with `is_replay` set); the same key with another amount, channel or
    reference is a 409.
    """
    if channel not in Channel.values:
        raise PaymentError(
            _("Unknown payment channel %(channel)s.") % {"channel": channel},
            code="channel_unknown",
            fields={"channel": [_("Choose one of: %(channels)s.") % {"channels": ", ".join(Channel.values)}]},
        )
    if not isinstance(amount, Decimal) or amount <= 0:
        raise PaymentError(
            _("A payment must be a positive amount."), code="amount_invalid", fields={"amount": [_("More than zero.")]}
        )
    if not idempotency_key.strip():
        raise PaymentError(
            _("Every payment needs an idempotency key."),
            code="idempotency_key_required",
            fields={"idempotency_key": [_("Required.")]},
        )
    if not account_reference.strip():
        raise PaymentError(
            _("Say which customer account is paying."),
            code="account_reference_required",
            fields={"account_reference": [_("Required.")]},
        )
    amount = quantize(amount, operator.currency)
    key = idempotency_key.strip()
    same: dict[str, Any] = {
        "channel": channel,
        "amount": amount,
        "account_reference": account_reference,
        "provider_reference": provider_reference,
    }

    def replay(first: Payment) -> Payment:
        if not _same_payment(first, **same):
            raise Conflict(
                _(
                    "The key %(key)s was already used for another payment (%(amount)s %(currency)s for %(account)s). "
                    "Send a new key for a new payment."
                )
                % {"key": key, "amount": first.amount, "currency": first.currency, "account": first.account_reference},
                code="idempotency_key_reused",
            )
        first.is_replay = True  # type: ignore[attr-defined]
        return first

    # No look-up of the key first: a new payment (the usual case) would pay a round trip for nothing. A key used
    # before fails the payment's INSERT on the (operator, key) constraint, which rolls back the locks taken so far;
    # the first payment is then read and answered as a replay.
    try:
        with transaction.atomic():
            start = _payment_start(
                operator=operator, channel=channel, received_by=received_by, reference=account_reference
            )
            receivable = start.receivable
            holder = receivable.holder if receivable is not None else ""
            payment = Payment(
                pk=start.payment_id,
                operator=operator,
                channel=channel,
                amount=amount,
                currency=operator.currency,
                account_reference=account_reference.strip(),
                holder=holder,
                status=Payment.Status.COMPLETED if holder else Payment.Status.IN_SUSPENSE,
                idempotency_key=key,
                provider_reference=provider_reference,
                payer_phone=payer_phone,
                payer_name=payer_name,
                value_date=value_date or timezone.localdate(),
                received_by=received_by if getattr(received_by, "pk", None) else None,
                memo=memo or {},
                till_id=start.till_id,
            )
            clearing = _clearing(operator, channel)
            # From here the payment only writes: the payment, its allocations, transfers, balances, receipt and audit
            # go to the database together, one round trip (core.prepared.writes_joined), their ids set as it ends.
            with writes_joined():
                instance_create(payment)  # as Payment.objects.create, its INSERT built once (core.bulk)
                if holder:
                    _take(
                        payment=payment,
                        holder=holder,
                        source=clearing,
                        acting_user=received_by,
                        receivable=receivable,
                        charges=start.charges,
                    )
                else:
                    _remember_allocations(payment, [])
                    transfer_post(
                        operator=operator,
                        debit=clearing,
                        credit=account_get(operator=operator, code="suspense"),
                        amount=amount,
                        kind=Transfer.Kind.PAYMENT,
                        reference=payment.ledger_reference,
                        value_date=payment.value_date,
                        acting_user=received_by,
                        memo={"account_reference": account_reference},
                    )
                instance_create(Receipt(operator=operator, payment=payment))  # numbered once the payment commits
                audit_record(
                    actor=received_by,
                    action="payment.received",
                    target=payment,
                    after={"amount": amount, "channel": channel, "holder": holder or None, "key": key},
                )
    except IntegrityError:
        # A concurrent request with the same key committed first: answer as a replay of it.
        first = _payment_by_key(operator=operator, key=key)
        if first is None:
            raise
        return replay(first)
    account_remember(operator=operator, account=clearing)  # committed: the next payment need not read it again
    receipt_number_give(payment.receipt)
    payment_confirmation_queue(payment=payment)  # with its receipt number, once the payment has committed
    payment.is_replay = False  # type: ignore[attr-defined]
    return payment


@transaction.atomic
def payment_assign(*, payment: Payment, holder_reference: str, acting_user: Any) -> Payment:
    """Take a payment out of suspense onto the right customer account (the reconciliation queue)."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status != Payment.Status.IN_SUSPENSE:
        raise Conflict(_("This payment is not in suspense."), code="not_in_suspense")
    holder = holder_known(operator=payment.operator, reference=holder_reference)
    if holder is None:
        raise PaymentError(
            _("No customer account %(reference)s.") % {"reference": holder_reference},
            code="account_unknown",
            fields={"holder": [_("No such customer account.")]},
        )
    _take(
        payment=payment,
        holder=holder,
        source=account_get(operator=payment.operator, code="suspense"),
        acting_user=acting_user,
    )
    payment.holder = holder
    payment.status = Payment.Status.COMPLETED
    payment.save(update_fields=["holder", "status"])
    payment_confirmation_queue(payment=payment)
    audit_record(
        actor=acting_user,
        action="payment.assigned",
        target=payment,
        after={"holder": holder, "account_reference": payment.account_reference},
    )
    return payment


@transaction.atomic
def payment_void(
    *, payment: Payment, reason: str, approved_by: Any, acting_user: Any, approver_roles: frozenset[str]
) -> Payment:
    """A cashier voids a payment taken today, with a reason and a supervisor's approval; by reversing transfers."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status not in (Payment.Status.COMPLETED, Payment.Status.IN_SUSPENSE):
        raise Conflict(
            _("This payment is already %(status)s.") % {"status": payment.get_status_display().lower()},
            code="not_voidable",
        )
    till_check_voidable(payment=payment)
    if timezone.localtime(payment.received_at).date() != timezone.localdate():
        raise PaymentError(
            _("Only a payment taken today can be voided; ask for a correction instead."), code="void_not_same_day"
        )
    if not reason.strip():
        raise PaymentError(
            _("Say why the payment is voided."), code="reason_required", fields={"reason": [_("A reason is required.")]}
        )
    if (
        approved_by is None
        or approved_by.pk == getattr(acting_user, "pk", None)
        or not (approver_roles & set(SUPERVISOR_ROLES))
    ):
        raise PermissionDenied(
            _("A supervisor (operator admin or treasurer) other than you must approve the void."),
            code="approval_required",
        )
    if payment.holder:
        # An overpayment became credit; once that credit has paid other charges, voiding would make it negative.
        holder_lock(operator=payment.operator, holder=payment.holder)
        if any(
            credit_from(operator=payment.operator, holder=payment.holder, reference=payment.ledger_reference, purpose=p)
            > holder_balance(operator=payment.operator, holder=payment.holder, purpose=p)
            for p in ("credit", "advance_vat")
        ):
            raise Conflict(
                _(
                    "Part of this payment was kept as credit and has since paid other charges, so it cannot be "
                    "voided. Ask an administrator for a correction."
                ),
                code="credit_already_used",
            )
        held = holder_from(
            operator=payment.operator, holder=payment.holder, reference=payment.ledger_reference, purpose="deposits"
        )
        if held > holder_balance(operator=payment.operator, holder=payment.holder, purpose="deposits"):
            raise Conflict(
                _(
                    "This payment paid a deposit that has since been applied or refunded, so it cannot be voided. "
                    "Ask an administrator for a correction."
                ),
                code="deposit_already_used",
            )
    transfers_reverse(
        operator=payment.operator, reference=payment.ledger_reference, reason=reason, acting_user=acting_user
    )
    payment.allocations.update(voided=True)
    payment.status = Payment.Status.VOIDED
    payment.memo = {**payment.memo, "void": {"reason": reason, "approved_by": approved_by.pk}}
    payment.save(update_fields=["status", "memo"])
    audit_record(
        actor=acting_user,
        action="payment.voided",
        target=payment,
        detail={"reason": reason, "approved_by": approved_by.pk},
    )
    return payment


def credit_split(*, operator: Any, credit: Decimal, held_vat: Decimal, amount: Decimal) -> list[tuple[str, Decimal]]:
    """Which of a customer's credit accounts an amount of their credit comes from: an advance held excluding VAT is
    used in proportion, the ex-VAT credit and its held VAT together (the VAT part rounded once)."""
    available = credit + held_vat
    from_vat = quantize(amount * held_vat / available, operator.currency) if held_vat > 0 else Decimal("0")
    return [(purpose, part) for purpose, part in (("credit", amount - from_vat), ("advance_vat", from_vat)) if part > 0]


@transaction.atomic
def credit_apply(*, operator: Any, holder: str, acting_user: Any, value_date: datetime.date | None = None) -> Decimal:
    """Use a customer's credit on their open charges (after new charges are posted); returns what was applied."""
    holder_lock(operator=operator, holder=holder)  # before reading the credit: a concurrent call must see ours
    credit = holder_balance(operator=operator, holder=holder, purpose="credit")
    held_vat = holder_balance(operator=operator, holder=holder, purpose="advance_vat")
    available = credit + held_vat
    if available <= 0:
        return Decimal("0")
    rules = payment_settings_for(operator=operator)
    charges = open_charges(operator=operator, holder=holder, rules=rules)
    owed = sum((charge.open_amount for charge in charges), Decimal("0"))  # type: ignore[attr-defined]
    use = min(available, owed)
    if use <= 0:
        return Decimal("0")
    reference = f"credit:{holder}:{timezone.now():%Y%m%d%H%M%S%f}"
    rest = Decimal("0")
    for purpose, part in credit_split(operator=operator, credit=credit, held_vat=held_vat, amount=use):
        rest += _settle(
            operator=operator,
            holder=holder,
            amount=part,
            source=holder_account(operator=operator, holder=holder, purpose=purpose),
            reference=reference,
            value_date=value_date or timezone.localdate(),
            acting_user=acting_user,
            payment=None,
            rules=rules,
        )
    return use - rest
