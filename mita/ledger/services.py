"""Writes to the ledger: the chart of accounts, transfers and their reversal, charges, opening balances.

Every money-moving write takes an optional idempotency key: the same key again returns the first result,
the same key with another body is a 409, and concurrent duplicates produce exactly one effect.
"""

import copy
import datetime
import hashlib
import itertools
import json
import os
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.core.audit import audit_record
from mita.core.bulk import among, instance_create, instances_insert, maker
from mita.core.errors import Conflict, DomainError
from mita.core.money import quantize
from mita.core.prepared import sent_later, writes_are_joined
from mita.ledger.hooks import charge_book
from mita.ledger.models import Account, Balance, BalanceShard, Charge, IdempotencyRecord, Transfer
from mita.ledger.selectors import holder_balance
from mita.ledger.signals import charge_posted

T = TypeVar("T")


class LedgerError(DomainError):
    pass


# The chart every operator starts with: (code, name, kind, category).
STANDARD_CHART: list[tuple[str, str, str, str]] = [
    ("revenue:water_sales", "Water sales", Account.Kind.REVENUE, Account.Category.REVENUE),
    ("revenue:electricity_sales", "Electricity sales", Account.Kind.REVENUE, Account.Category.REVENUE),
    ("revenue:connection_fees", "Connection fees", Account.Kind.REVENUE, Account.Category.REVENUE),
    ("revenue:material_fees", "Material fees", Account.Kind.REVENUE, Account.Category.REVENUE),
    ("revenue:reconnection_fees", "Reconnection fees", Account.Kind.REVENUE, Account.Category.REVENUE),
    ("revenue:penalties", "Penalties", Account.Kind.REVENUE, Account.Category.REVENUE),
    ("revenue:other", "Other charges", Account.Kind.REVENUE, Account.Category.REVENUE),
    ("vat_payable", "VAT payable", Account.Kind.LIABILITY, Account.Category.VAT_PAYABLE),
    ("clearing:cash_office", "Cash at the office", Account.Kind.ASSET, Account.Category.CLEARING),
    ("clearing:cash_field", "Cash collected in the field", Account.Kind.ASSET, Account.Category.CLEARING),
    ("clearing:bank", "Bank deposits", Account.Kind.ASSET, Account.Category.CLEARING),
    ("clearing:momo", "MTN MoMo", Account.Kind.ASSET, Account.Category.CLEARING),
    ("clearing:mpesa", "M-Pesa", Account.Kind.ASSET, Account.Category.CLEARING),
    ("clearing:online", "Online payments", Account.Kind.ASSET, Account.Category.CLEARING),
    ("suspense", "Suspense (unmatched payments)", Account.Kind.LIABILITY, Account.Category.SUSPENSE),
    ("write_off", "Bad debts written off", Account.Kind.EXPENSE, Account.Category.WRITE_OFF),
    # Till variances at close (payments.cashier): short is a debit, over a credit. An expense with no category of its
    # own in the chart, so it is filed with the write-offs.
    ("cash_over_short", "Cash over and short at the tills", Account.Kind.EXPENSE, Account.Category.WRITE_OFF),
    ("opening_balances", "Opening balances brought in", Account.Kind.LIABILITY, Account.Category.OPENING),
    ("deposits_billed", "Deposits charged, not yet received", Account.Kind.LIABILITY, Account.Category.DEPOSITS),
    ("refunds_payable", "Refunds requested, not yet paid out", Account.Kind.LIABILITY, Account.Category.CREDIT),
]
REVENUE_HEADS = {code.removeprefix("revenue:") for code, *_rest in STANDARD_CHART if code.startswith("revenue:")}
HOLDER_ACCOUNTS = {
    "receivable": (Account.Kind.ASSET, Account.Category.RECEIVABLE, "Receivable"),
    "deposits": (Account.Kind.LIABILITY, Account.Category.DEPOSITS, "Deposit held"),
    "credit": (Account.Kind.LIABILITY, Account.Category.CREDIT, "Credit"),
    # The VAT part of an advance payment held apart (operators holding advances excluding VAT), until consumed.
    "advance_vat": (Account.Kind.LIABILITY, Account.Category.CREDIT, "VAT held on advance"),
}


def _account_create(*, operator: Any, code: str, name: str, kind: str, category: str, holder: str = "") -> Account:
    try:
        with transaction.atomic():
            account = Account.objects.create(
                operator=operator,
                code=code,
                name=name,
                kind=kind,
                category=category,
                holder=holder,
                currency=operator.currency,
            )
            Balance.objects.create(account=account)
            return account
    except IntegrityError:  # made at the same moment by another request
        return Account.objects.get(operator=operator, code=code)


@transaction.atomic
def chart_ensure(*, operator: Any) -> list[Account]:
    """The operator's standard accounts, made on first use."""
    codes = [code for code, _name, _kind, _category in STANDARD_CHART]
    existing = {account.code: account for account in Account.objects.filter(operator=operator, code__in=codes)}
    return [
        existing.get(code) or _account_create(operator=operator, code=code, name=name, kind=kind, category=category)
        for code, name, kind, category in STANDARD_CHART
    ]


# The operator-wide accounts of each chart, kept per process: a ledger account never changes once made (its code,
# kind, category, holder and currency are fixed; it is never deleted), so nothing ever makes an entry stale. Keyed on
# the operator's id and creation time (a test database may give a new operator an old id). Only an account known to
# be committed is remembered (read outside any transaction, or handed to account_remember() by a caller whose
# transaction has committed), so an account whose creation rolled back is never used again.
_CHART_CACHE: dict[tuple[Any, Any, str], Account] = {}


def _detached(account: Account) -> Account:
    """A copy of the account carrying no related objects, so that no caller shares state with another."""
    clone = copy.copy(account)
    clone._state.fields_cache = {}
    return clone


def account_remember(*, operator: Any, account: Account) -> None:
    """Keep an operator-wide account for the next account_get(); call only once the transaction that read it has
    committed (outside any transaction this does nothing but remember it)."""
    if account.holder or transaction.get_connection().in_atomic_block:
        return  # a customer's own accounts are many and read through holder_lock anyway
    _CHART_CACHE[(operator.pk, getattr(operator, "created_at", None), account.code)] = _detached(account)


def account_get(*, operator: Any, code: str) -> Account:
    if (cached := _CHART_CACHE.get((operator.pk, getattr(operator, "created_at", None), code))) is not None:
        return _detached(cached)
    account = Account.objects.filter(operator=operator, code=code).first()
    if account is None:
        chart_ensure(operator=operator)
        account = Account.objects.filter(operator=operator, code=code).first()
    if account is None:
        raise LedgerError(_("There is no ledger account %(code)s.") % {"code": code}, code="account_unknown")
    account_remember(operator=operator, account=account)
    return account


def holder_account(*, operator: Any, holder: str, purpose: str) -> Account:
    """A customer account's own receivable, deposit or credit account, made on first use."""
    if not holder or len(holder) > 64:
        raise LedgerError(_("A customer account reference is needed."), code="holder_required")
    kind, category, label = HOLDER_ACCOUNTS[purpose]
    code = f"{purpose}:{holder}"
    return Account.objects.filter(operator=operator, code=code).first() or _account_create(
        operator=operator, code=code, name=f"{label} {holder}", kind=kind, category=category, holder=holder
    )


def _fingerprint(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def idempotent(
    *,
    operator: Any,
    key: str | None,
    body: dict[str, Any],
    reference: str,
    write: Callable[[], T],
    replay: Callable[[str], T],
) -> T:
    """Run `write` once per key. A replay with the same body returns `replay(first reference)`; another body is 409.

    Call inside the write's transaction: the record and the effect commit together or not at all.
    """
    if not key:
        return write()
    fingerprint = _fingerprint(body)
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.create(operator=operator, key=key, fingerprint=fingerprint, reference=reference)
    except IntegrityError:
        first = IdempotencyRecord.objects.get(operator=operator, key=key)
        if first.fingerprint != fingerprint:
            raise Conflict(
                _("The key %(key)s was already used for a different request. Use a new key for a new request.")
                % {"key": key},
                code="idempotency_key_reused",
            ) from None
        return replay(first.reference)
    return write()


# Operator-wide accounts seen with their shard rows (shards are never deleted): only those take the one-round-trip path,
# so an account's first transfers make its shards before locking anything else, as they always did.
_SHARDS_SEEN: set[int] = set()


def _add_to_balances_in_one_round_trip(transfer: Transfer, accounts: dict[int, Account]) -> bool:
    """PostgreSQL with client-side binding (Django's default): the two updates sent as one query string, one round
    trip instead of two, run in the order written (so the rows are still locked in primary-key order); inside
    writes_joined (a payment's writes), each sent with the block's other writes instead, in the same order. Each
    statement's row count is checked: a shard found missing after all is made and updated then (the total stays
    right). False, having done nothing, where this is not done (SQLite; server-side binding; an account whose shards
    this process has not seen yet)."""
    connection = transaction.get_connection()
    if connection.vendor != "postgresql" or connection.settings_dict.get("OPTIONS", {}).get("server_side_binding"):
        return False
    if any(not account.holder and account_id not in _SHARDS_SEEN for account_id, account in accounts.items()):
        return False
    shard = _shard_next()
    statements: list[tuple[str, list[Any]]] = []
    order = sorted(accounts)
    for account_id in order:
        side = "debits" if account_id == transfer.debit_id else "credits"
        if accounts[account_id].holder:
            table, where, extra = Balance._meta.db_table, "account_id = %s", []
        else:
            table, where, extra = BalanceShard._meta.db_table, "account_id = %s AND shard = %s", [shard]
        statements.append(
            (f"UPDATE {table} SET {side} = {side} + %s WHERE {where}", [transfer.amount, account_id, *extra])  # noqa: S608 (our names)
        )

    def counted(account_id: int, count: int) -> None:
        if count == 1:
            return
        if accounts[account_id].holder:
            raise RuntimeError(f"No balance row for account {account_id}")  # made with the account; never expected
        side = "debits" if account_id == transfer.debit_id else "credits"
        BalanceShard.objects.bulk_create(
            [BalanceShard(account_id=account_id, shard=number) for number in range(BalanceShard.SHARDS)],
            ignore_conflicts=True,
        )
        BalanceShard.objects.filter(account_id=account_id, shard=shard).update(**{side: F(side) + transfer.amount})

    # Inside writes_joined: the updates wait for the block's other writes, their row counts checked as it ends.
    if writes_are_joined():
        for account_id, (sql, params) in zip(order, statements, strict=True):
            sent_later(sql, params, _with_rowcount(counted, account_id))
        return True
    with connection.cursor() as cursor:
        cursor.execute(
            "; ".join(sql for sql, _params in statements), [p for _sql, params in statements for p in params]
        )
        counts = [cursor.rowcount]
        while cursor.nextset():
            counts.append(cursor.rowcount)
    if len(counts) != len(order):
        raise RuntimeError("The balance updates did not all run")  # never expected: fail the transfer loudly
    for account_id, count in zip(order, counts, strict=True):
        counted(account_id, count)
    return True


def _with_rowcount(counted: Callable[[int, int], None], account_id: int) -> Callable[[Any], None]:
    """`counted(account_id, row count)` once a waiting update's answer is in (sent_later's `then`)."""
    return lambda cursor: counted(account_id, cursor.rowcount)


# Each transfer of this process takes the next shard in turn (next() on a count is atomic under the GIL), from a
# random start, made again in a forked child (as `random` reseeds itself there) so that sibling processes do not
# take the same shards in step.
def _shard_turn_start() -> None:
    global _SHARD_TURN
    _SHARD_TURN = itertools.count(random.randrange(BalanceShard.SHARDS))


_SHARD_TURN: "itertools.count[int]"
_shard_turn_start()
os.register_at_fork(after_in_child=_shard_turn_start)


def _shard_next() -> int:
    """The shard of the operator-wide accounts a transfer adds to: any, so long as concurrent transfers spread over
    them. The process's next one in turn: its concurrent payments never share one, and other processes start at
    another. (Not by the transfer's id: a transfer sent with writes_joined has none yet when its balances move.)"""
    return next(_SHARD_TURN) % BalanceShard.SHARDS


def _add_to_balances(transfer: Transfer) -> None:
    # Lock the two balance rows in primary-key order, so that concurrent transfers never deadlock. A customer's
    # own account has one row; an operator-wide account one of its shards (BalanceShard), the process's next in turn.
    accounts = {transfer.debit_id: transfer.debit, transfer.credit_id: transfer.credit}
    if _add_to_balances_in_one_round_trip(transfer, accounts):
        return
    shard = _shard_next()
    for account_id in sorted(accounts):
        side = "debits" if account_id == transfer.debit_id else "credits"
        change = {side: F(side) + transfer.amount}
        if accounts[account_id].holder:
            Balance.objects.filter(account_id=account_id).update(**change)
            continue
        if BalanceShard.objects.filter(account_id=account_id, shard=shard).update(**change):
            _SHARDS_SEEN.add(account_id)
        else:
            BalanceShard.objects.bulk_create(
                [BalanceShard(account_id=account_id, shard=number) for number in range(BalanceShard.SHARDS)],
                ignore_conflicts=True,
            )
            BalanceShard.objects.filter(account_id=account_id, shard=shard).update(**change)


def transfer_post(
    *,
    operator: Any,
    debit: Account,
    credit: Account,
    amount: Decimal,
    kind: str,
    reference: str,
    value_date: datetime.date,
    acting_user: Any,
    reverses: Transfer | None = None,
    memo: dict[str, Any] | None = None,
) -> Transfer:
    """Move an amount from one account to another of the same operator and currency; balances follow at once."""
    if not isinstance(amount, Decimal):
        raise TypeError("Ledger amounts are Decimals")
    amount = quantize(amount, operator.currency)
    problems = []
    if amount <= 0:
        problems.append(_("The amount must be more than zero."))
    if debit.pk == credit.pk:
        problems.append(_("A transfer needs two different accounts."))
    if {debit.operator_id, credit.operator_id} != {operator.pk}:
        problems.append(_("Both accounts must belong to the operator."))
    if {debit.currency, credit.currency} != {operator.currency}:
        problems.append(_("Both accounts must be in the operator's currency."))
    if problems:
        raise LedgerError(" ".join(problems), code="transfer_invalid")
    # Inside a caller's transaction no savepoint is needed: a failure here fails the caller's whole write.
    with transaction.atomic(savepoint=False):
        transfer = Transfer(
            operator=operator,
            debit=debit,
            credit=credit,
            amount=amount,
            currency=operator.currency,
            kind=kind,
            reference=reference,
            value_date=value_date,
            created_by=acting_user if getattr(acting_user, "pk", None) else None,
            reverses=reverses,
            memo=memo or {},
        )
        instance_create(transfer)  # as Transfer.objects.create, its INSERT built once (core.bulk)
        _add_to_balances(transfer)
    return transfer


@transaction.atomic
def transfers_reverse(
    *, operator: Any, reference: str, reason: str, acting_user: Any, value_date: datetime.date | None = None
) -> list[Transfer]:
    """Undo every transfer of a reference that is not yet reversed, by a transfer the other way."""
    if not reason.strip():
        raise LedgerError(
            _("Say why the transfers are reversed."),
            code="reason_required",
            fields={"reason": [_("A reason is required.")]},
        )
    originals = list(
        Transfer.objects.select_for_update(of=("self",))
        .filter(operator=operator, reference=reference, reverses__isnull=True, reversed_by__isnull=True)
        .select_related("debit", "credit")
        .order_by("pk")
    )
    if not originals:
        raise LedgerError(
            _("Nothing to reverse for %(reference)s.") % {"reference": reference}, code="nothing_to_reverse", status=404
        )
    try:
        reversals = [
            transfer_post(
                operator=operator,
                debit=original.credit,
                credit=original.debit,
                amount=original.amount,
                kind=Transfer.Kind.REVERSAL,
                reference=reference,
                value_date=value_date or original.value_date,
                acting_user=acting_user,
                reverses=original,
                memo={"reason": reason.strip()},
            )
            for original in originals
        ]
    except IntegrityError:  # a concurrent reversal got there first: the database lets a transfer be reversed once
        raise Conflict(
            _("%(reference)s was reversed by someone else at the same moment.") % {"reference": reference},
            code="already_reversed",
        ) from None
    audit_record(
        actor=acting_user,
        action="ledger.reversed",
        operator=operator,
        detail={"reference": reference, "reason": reason, "transfers": [t.pk for t in reversals]},
    )
    return reversals


# Charges -------------------------------------------------------------------------------------------------

VAT_RULES = ("standard", "zero", "exempt")


def vat_for(*, operator: Any, net: Decimal, rule: str) -> Decimal:
    """VAT on a net amount by rule; the standard rate is the operator's country's (settings.MITA_VAT_RATES)."""
    if rule not in VAT_RULES:
        raise LedgerError(_("Unknown VAT rule %(rule)s.") % {"rule": rule}, code="vat_rule_unknown")
    if rule != "standard":
        return Decimal("0")
    rate = Decimal(settings.MITA_VAT_RATES.get(operator.country_code, "0"))
    return quantize(net * rate, operator.currency)


def vat_included(*, operator: Any, gross: Decimal) -> Decimal:
    """The VAT inside a gross amount at the operator's standard rate: gross - net, net rounded once."""
    rate = Decimal(settings.MITA_VAT_RATES.get(operator.country_code, "0"))
    return gross - quantize(gross / (1 + rate), operator.currency)


def _charge_amount_check(amount: Any) -> None:
    if not isinstance(amount, Decimal) or amount <= 0:
        raise LedgerError(
            _("A charge must be a positive amount."), code="amount_invalid", fields={"amount": [_("More than zero.")]}
        )


def _charge_once(
    *, operator: Any, key: str | None, body: dict[str, Any], reference: str, write: Callable[[], Charge]
) -> Charge:
    """Post a charge once per idempotency key, in one transaction; a replay returns the charge first posted."""
    with transaction.atomic():
        return idempotent(
            operator=operator,
            key=key,
            body=body,
            reference=reference,
            write=write,
            replay=lambda first: Charge.objects.filter(operator=operator, reference=first).latest("pk"),
        )


def charge_post(
    *,
    operator: Any,
    holder: str,
    head: str,
    amount: Decimal,
    vat_rule: str,
    reference: str,
    due_date: datetime.date,
    acting_user: Any,
    value_date: datetime.date | None = None,
    idempotency_key: str | None = None,
    vat: Decimal | None = None,
) -> Charge:
    """Charge a customer account: the receivable is debited with net + VAT, the revenue head and VAT payable
    credited. Every module that bills anything posts through here.

    `vat` given (a bill priced by its tariff, which says its own VAT) is posted as it is instead of `vat_rule`'s.
    """
    if head not in REVENUE_HEADS:
        raise LedgerError(
            _("Unknown revenue head %(head)s.") % {"head": head},
            code="head_unknown",
            fields={"head": [_("Choose one of: %(heads)s.") % {"heads": ", ".join(sorted(REVENUE_HEADS))}]},
        )
    _charge_amount_check(amount)
    net = quantize(amount, operator.currency)
    value_date = value_date or due_date
    body = {
        "holder": holder,
        "head": head,
        "amount": net,
        "vat_rule": vat_rule,
        "reference": reference,
        "due_date": due_date,
        "value_date": value_date,
    }
    explicit_vat: Decimal | None = None
    if vat is not None:
        if not isinstance(vat, Decimal) or vat < 0:
            raise LedgerError(
                _("VAT must be an amount of zero or more."), code="vat_invalid", fields={"vat": [_("Zero or more.")]}
            )
        explicit_vat = body["vat"] = quantize(vat, operator.currency)

    def write() -> Charge:
        vat = explicit_vat if explicit_vat is not None else vat_for(operator=operator, net=net, rule=vat_rule)
        receivable = holder_account(operator=operator, holder=holder, purpose="receivable")
        charge = Charge.objects.create(
            operator=operator,
            holder=holder,
            head=head,
            net=net,
            vat=vat,
            total=net + vat,
            currency=operator.currency,
            reference=reference,
            due_date=due_date,
            value_date=value_date,
        )
        transfer_post(
            operator=operator,
            debit=receivable,
            credit=account_get(operator=operator, code=f"revenue:{head}"),
            amount=net,
            kind=Transfer.Kind.CHARGE,
            reference=reference,
            value_date=value_date,
            acting_user=acting_user,
            memo={"charge": charge.pk},
        )
        if vat:
            transfer_post(
                operator=operator,
                debit=receivable,
                credit=account_get(operator=operator, code="vat_payable"),
                amount=vat,
                kind=Transfer.Kind.VAT,
                reference=reference,
                value_date=value_date,
                acting_user=acting_user,
                memo={"charge": charge.pk},
            )
        charge_posted.send(sender=Charge, charge=charge, acting_user=acting_user)
        return charge

    return _charge_once(operator=operator, key=idempotency_key, body=body, reference=reference, write=write)


def opening_balance_post(
    *,
    operator: Any,
    holder: str,
    amount: Decimal,
    as_of: datetime.date,
    reference: str,
    acting_user: Any,
    idempotency_key: str | None = None,
) -> Charge:
    """Arrears brought in from an old register: owed as of that date, no VAT (it was charged back then)."""
    if not isinstance(amount, Decimal) or amount <= 0:
        raise LedgerError(
            _("Opening arrears must be a positive amount."),
            code="amount_invalid",
            fields={"amount": [_("More than zero.")]},
        )
    amount = quantize(amount, operator.currency)
    body = {"holder": holder, "amount": amount, "as_of": as_of, "reference": reference}

    def write() -> Charge:
        receivable = holder_account(operator=operator, holder=holder, purpose="receivable")
        charge = Charge.objects.create(
            operator=operator,
            holder=holder,
            head="opening_balance",
            net=amount,
            vat=Decimal("0"),
            total=amount,
            currency=operator.currency,
            reference=reference,
            due_date=as_of,
            value_date=as_of,
            is_opening_balance=True,
        )
        transfer_post(
            operator=operator,
            debit=receivable,
            credit=account_get(operator=operator, code="opening_balances"),
            amount=amount,
            kind=Transfer.Kind.OPENING_BALANCE,
            reference=reference,
            value_date=as_of,
            acting_user=acting_user,
            memo={"charge": charge.pk},
        )
        audit_record(
            actor=acting_user,
            action="ledger.opening_balance",
            operator=operator,
            detail={"holder": holder, "amount": amount, "as_of": as_of, "reference": reference},
        )
        charge_posted.send(sender=Charge, charge=charge, acting_user=acting_user)
        return charge

    return _charge_once(operator=operator, key=idempotency_key, body=body, reference=reference, write=write)


def holder_lock(*, operator: Any, holder: str) -> Account:
    """Lock a customer account's receivable until the end of the transaction: the one point where everything
    that allocates money to the account's charges queues, so that two payments never clear the same charge."""
    locked = (
        Balance.objects.select_for_update(of=("self",))
        .select_related("account")
        .filter(account__operator=operator, account__code=f"receivable:{holder}")
        .first()
    )
    if locked is not None:  # one query, the usual case
        return locked.account
    receivable = holder_account(operator=operator, holder=holder, purpose="receivable")
    Balance.objects.select_for_update().filter(account=receivable).first()
    return receivable


# Charges that earn nothing ---------------------------------------------------------------------------------
# A security deposit is owed and paid like any charge, but it is held for the customer, not earned: its charge
# credits a liability (deposits_billed), never revenue, and carries no VAT. Once paid, deposit_hold moves it to
# the customer's own deposit account. A charge-back's shortfall is owed the same way (docs/deposits-and-refunds.md).
DEPOSIT_HEAD = "deposit"
CHARGEBACK_HEAD = "chargeback"
NON_REVENUE_HEADS = frozenset({DEPOSIT_HEAD, CHARGEBACK_HEAD})


def liability_charge_post(
    *,
    operator: Any,
    holder: str,
    head: str,
    amount: Decimal,
    credit: Account,
    reference: str,
    due_date: datetime.date,
    acting_user: Any,
    value_date: datetime.date | None = None,
    idempotency_key: str | None = None,
) -> Charge:
    """Charge a customer account something that is no revenue: the receivable is debited, a liability credited;
    no VAT. Paid like any charge (oldest first)."""
    if head not in NON_REVENUE_HEADS:
        raise LedgerError(_("Unknown head %(head)s.") % {"head": head}, code="head_unknown")
    if credit.kind != Account.Kind.LIABILITY:
        raise LedgerError(_("A charge that earns nothing credits a liability."), code="transfer_invalid")
    _charge_amount_check(amount)
    amount = quantize(amount, operator.currency)
    value_date = value_date or due_date
    body = {
        "holder": holder,
        "head": head,
        "amount": amount,
        "credit": credit.code,
        "reference": reference,
        "due_date": due_date,
        "value_date": value_date,
    }

    def write() -> Charge:
        charge = Charge.objects.create(
            operator=operator,
            holder=holder,
            head=head,
            net=amount,
            vat=Decimal("0"),
            total=amount,
            currency=operator.currency,
            reference=reference,
            due_date=due_date,
            value_date=value_date,
        )
        transfer_post(
            operator=operator,
            debit=holder_account(operator=operator, holder=holder, purpose="receivable"),
            credit=credit,
            amount=amount,
            kind=Transfer.Kind.DEPOSIT if head == DEPOSIT_HEAD else Transfer.Kind.CHARGE,
            reference=reference,
            value_date=value_date,
            acting_user=acting_user,
            memo={"charge": charge.pk},
        )
        return charge

    return _charge_once(operator=operator, key=idempotency_key, body=body, reference=reference, write=write)


def deposit_hold(
    *, operator: Any, holder: str, amount: Decimal, reference: str, value_date: datetime.date, acting_user: Any
) -> Transfer:
    """A deposit charge was paid (or partly): hold that much in the customer's deposit account."""
    return transfer_post(
        operator=operator,
        debit=account_get(operator=operator, code="deposits_billed"),
        credit=holder_account(operator=operator, holder=holder, purpose="deposits"),
        amount=amount,
        kind=Transfer.Kind.DEPOSIT,
        reference=reference,
        value_date=value_date,
        acting_user=acting_user,
    )


@transaction.atomic
def charge_reverse(
    *, charge: Charge, reason: str, acting_user: Any, value_date: datetime.date | None = None
) -> list[Transfer]:
    """Undo one charge's own transfers (its net and VAT), leaving other charges of the same reference alone."""
    originals = list(
        Transfer.objects.select_for_update(of=("self",))
        .filter(
            operator_id=charge.operator_id,
            reference=charge.reference,
            memo__charge=charge.pk,
            reverses__isnull=True,
            reversed_by__isnull=True,
        )
        .select_related("debit", "credit")
        .order_by("pk")
    )
    if not originals:
        raise LedgerError(
            _("Nothing to reverse for %(reference)s.") % {"reference": charge.reference},
            code="nothing_to_reverse",
            status=404,
        )
    try:
        reversals = [
            transfer_post(
                operator=charge.operator,
                debit=original.credit,
                credit=original.debit,
                amount=original.amount,
                kind=Transfer.Kind.REVERSAL,
                reference=charge.reference,
                value_date=value_date or original.value_date,
                acting_user=acting_user,
                reverses=original,
                memo={"reason": reason.strip(), "charge": charge.pk},
            )
            for original in originals
        ]
    except IntegrityError:
        raise Conflict(
            _("%(reference)s was reversed by someone else at the same moment.") % {"reference": charge.reference},
            code="already_reversed",
        ) from None
    audit_record(
        actor=acting_user,
        action="ledger.charge_reversed",
        operator=charge.operator,
        detail={
            "charge": charge.pk,
            "reference": charge.reference,
            "reason": reason,
            "transfers": [t.pk for t in reversals],
        },
    )
    return reversals


# Arrears moving with a meter ---------------------------------------------------------------------------------
# A meter transfer to another customer takes the old account's arrears with it (issue 5): exactly what the old
# account owes moves to the new one, as one transfer between the two receivables. The old account's open charges
# are cleared by the move (the charge-clearing app records it: ledger.hooks) and the new account gets one charge,
# head arrears_transferred, due on the oldest due date moved. Credit and deposit stay with the old account.
ARREARS_HEAD = "arrears_transferred"


def arrears_move(
    *,
    operator: Any,
    from_holder: str,
    to_holder: str,
    reference: str,
    acting_user: Any,
    value_date: datetime.date | None = None,
) -> Charge | None:
    """Move exactly the open receivable of one customer account to another; returns the new account's charge
    (None when the old account owed nothing).

    Idempotent by reference: the same reference again posts nothing and returns the first result; the same
    reference with other accounts is a 409. Nothing else may clear charges of either account meanwhile (both
    accounts are locked, in a fixed order).
    """
    reference = (reference or "").strip()
    if not reference:
        raise LedgerError(
            _("Give the move a reference."), code="reference_required", fields={"reference": [_("Required.")]}
        )
    if not from_holder or not to_holder or from_holder.upper() == to_holder.upper():
        raise LedgerError(
            _("Arrears move from one customer account to another, different one."),
            code="same_account",
            fields={"to_holder": [_("Choose another customer account.")]},
        )
    value_date = value_date or timezone.localdate()
    body = {"from_holder": from_holder, "to_holder": to_holder, "reference": reference}

    def write() -> Charge | None:
        for holder in sorted({from_holder, to_holder}):  # a fixed order: two moves the other way never deadlock
            holder_lock(operator=operator, holder=holder)
        settled = charge_book().settle_for_move(
            operator=operator, holder=from_holder, reference=reference, acting_user=acting_user
        )
        amount = sum((part for _charge, part in settled), Decimal("0"))
        owed_left = holder_balance(operator=operator, holder=from_holder)
        if owed_left != amount:  # the receivable is exactly the open charges; anything else is a broken ledger
            raise LedgerError(
                _("%(holder)s owes %(owed)s but its open charges come to %(open)s: run `mita ledger verify`.")
                % {"holder": from_holder, "owed": owed_left, "open": amount},
                code="receivable_mismatch",
            )
        charge = None
        if amount > 0:
            charge = Charge.objects.create(
                operator=operator,
                holder=to_holder,
                head=ARREARS_HEAD,
                net=amount,
                vat=Decimal("0"),  # the VAT was charged on the old account's charges
                total=amount,
                currency=operator.currency,
                reference=reference,
                due_date=min(moved.due_date for moved, _part in settled),
                value_date=value_date,
            )
            transfer_post(
                operator=operator,
                debit=holder_account(operator=operator, holder=to_holder, purpose="receivable"),
                credit=holder_account(operator=operator, holder=from_holder, purpose="receivable"),
                amount=amount,
                kind=Transfer.Kind.TRANSFER,
                reference=reference,
                value_date=value_date,
                acting_user=acting_user,
                # not "charge": charge_reverse must never undo a move (a move is corrected by a move back)
                memo={"arrears_charge": charge.pk, "arrears_from": from_holder, "arrears_to": to_holder},
            )
        audit_record(
            actor=acting_user,
            action="ledger.arrears_moved",
            operator=operator,
            detail={
                "from": from_holder,
                "to": to_holder,
                "amount": amount,
                "reference": reference,
                "charges": {str(moved.pk): part for moved, part in settled},
            },
        )
        if charge is not None:
            charge_posted.send(sender=Charge, charge=charge, acting_user=acting_user)
        return charge

    def replay(first: str) -> Charge | None:
        return Charge.objects.filter(operator=operator, reference=first, head=ARREARS_HEAD).order_by("pk").last()

    with transaction.atomic():
        return idempotent(
            operator=operator,
            key=f"arrears-move:{reference}",
            body=body,
            reference=reference,
            write=write,
            replay=replay,
        )


def holder_accounts_ensure(*, operator: Any, holders: list[str], purpose: str) -> dict[str, int]:
    """holder_account for many customer accounts at once (a bulk import, a bill run's unit): one read, two bulk
    inserts; returns each holder's account id."""
    kind, category, label = HOLDER_ACCOUNTS[purpose]
    if any(not holder or len(holder) > 64 for holder in holders):
        raise LedgerError(_("A customer account reference is needed."), code="holder_required")
    codes = {f"{purpose}:{holder}": holder for holder in holders}
    accounts_of_operator = Account.objects.filter(operator=operator).order_by().values_list("holder", "pk")
    found = dict(row for queryset in among(accounts_of_operator, "code", codes) for row in queryset)
    account = maker(Account, operator_id=operator.pk, kind=kind, category=category, currency=operator.currency)
    accounts = [
        account(code=code, name=f"{label} {holder}", holder=holder)
        for code, holder in codes.items()
        if holder not in found
    ]
    instances_insert(accounts)
    balance = maker(Balance)
    instances_insert([balance(account_id=made.pk) for made in accounts])
    return found | {made.holder: made.pk for made in accounts}
