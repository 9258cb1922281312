"""Charges posted many at a time (a bill run's unit): what charge_post does for each, in a few set-based statements.

The same rows as charge_post with an explicit VAT: a Charge, a CHARGE transfer (receivable -> revenue head) and, when
there is VAT, a VAT transfer (receivable -> VAT payable), the cached balances moved in the same transaction, and
charge_posted sent for the charges of accounts holding credit (the only ones its receiver acts on). Balance rows are
updated in account order, as transfer_post locks them, so that concurrent posts never deadlock.
"""

import dataclasses
import datetime
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext as _

from mita.core.money import quantize
from mita.ledger.models import Account, Balance, BalanceShard, Charge, Transfer
from mita.ledger.selectors import holders_balances
from mita.ledger.services import REVENUE_HEADS, LedgerError, account_get, holder_accounts_ensure
from mita.ledger.signals import charge_posted


@dataclasses.dataclass(frozen=True)
class ChargeSpec:
    holder: str
    head: str
    net: Decimal
    vat: Decimal
    reference: str


def _check(operator: Any, charges: list[ChargeSpec]) -> list[ChargeSpec]:
    checked = []
    for spec in charges:
        if spec.head not in REVENUE_HEADS:
            raise LedgerError(_("Unknown revenue head %(head)s.") % {"head": spec.head}, code="head_unknown")
        net, vat = quantize(spec.net, operator.currency), quantize(spec.vat, operator.currency)
        if net <= 0 or vat < 0:
            raise LedgerError(_("A charge must be a positive amount."), code="amount_invalid")
        checked.append(dataclasses.replace(spec, net=net, vat=vat))
    return checked


def charges_post_many(
    *,
    operator: Any,
    charges: list[ChargeSpec],
    due_date: datetime.date,
    value_date: datetime.date,
    acting_user: Any,
) -> list[Charge]:
    """Post many charges with their own VAT at once; returns the charges in the order given."""
    charges = _check(operator, charges)
    if not charges:
        return []
    with transaction.atomic(savepoint=False):
        holders = sorted({spec.holder for spec in charges})
        holder_accounts_ensure(operator=operator, holders=holders, purpose="receivable")
        receivables = dict(
            Account.objects.filter(
                operator=operator, code__in=[f"receivable:{holder}" for holder in holders]
            ).values_list("holder", "pk")
        )
        revenue = {
            head: account_get(operator=operator, code=f"revenue:{head}").pk for head in {s.head for s in charges}
        }
        vat_payable = account_get(operator=operator, code="vat_payable").pk
        posted = Charge.objects.bulk_create(
            [
                Charge(
                    operator=operator,
                    holder=spec.holder,
                    head=spec.head,
                    net=spec.net,
                    vat=spec.vat,
                    total=spec.net + spec.vat,
                    currency=operator.currency,
                    reference=spec.reference,
                    due_date=due_date,
                    value_date=value_date,
                )
                for spec in charges
            ]
        )
        user = acting_user if getattr(acting_user, "pk", None) else None
        transfers = []
        for spec, charge in zip(charges, posted, strict=True):
            common = {
                "operator": operator,
                "debit_id": receivables[spec.holder],
                "currency": operator.currency,
                "reference": spec.reference,
                "value_date": value_date,
                "created_by": user,
                "memo": {"charge": charge.pk},
            }
            transfers.append(
                Transfer(credit_id=revenue[spec.head], amount=spec.net, kind=Transfer.Kind.CHARGE, **common)
            )
            if spec.vat:
                transfers.append(Transfer(credit_id=vat_payable, amount=spec.vat, kind=Transfer.Kind.VAT, **common))
        transfers = Transfer.objects.bulk_create(transfers)
        _balances_add(transfers)
        with_credit = {
            holder
            for holder, (_owed, credit) in holders_balances(operator=operator, holders=holders).items()
            if credit > 0
        }
        for charge in posted:
            if charge.holder in with_credit:
                charge_posted.send(sender=Charge, charge=charge, acting_user=acting_user)
    return posted


def _balances_add(transfers: list[Transfer]) -> None:
    """Add the transfers to the cached balances: a customer account's row, an operator-wide account's shard (by the
    transfer's id, as transfer_post does); one UPDATE per row touched, in account order."""
    holders = set(
        Account.objects.filter(pk__in={t.debit_id for t in transfers} | {t.credit_id for t in transfers})
        .exclude(holder="")
        .values_list("pk", flat=True)
    )
    moves: dict[tuple[int, int, str], Decimal] = defaultdict(Decimal)  # (account, shard or -1, side) -> amount
    for transfer in transfers:
        for account_id, side in ((transfer.debit_id, "debits"), (transfer.credit_id, "credits")):
            shard = -1 if account_id in holders else transfer.pk % BalanceShard.SHARDS
            moves[(account_id, shard, side)] += transfer.amount
    sharded = sorted({account_id for account_id, shard, _side in moves if shard >= 0})
    BalanceShard.objects.bulk_create(
        [
            BalanceShard(account_id=account_id, shard=number)
            for account_id in sharded
            for number in range(BalanceShard.SHARDS)
        ],
        ignore_conflicts=True,
    )
    with connection.cursor() as cursor:
        for (account_id, shard, side), amount in sorted(moves.items()):
            if shard < 0:
                cursor.execute(
                    f"UPDATE {Balance._meta.db_table} SET {side} = {side} + %s WHERE account_id = %s",  # noqa: S608
                    [amount, account_id],
                )
            else:
                cursor.execute(
                    f"UPDATE {BalanceShard._meta.db_table} SET {side} = {side} + %s "  # noqa: S608
                    "WHERE account_id = %s AND shard = %s",
                    [amount, account_id, shard],
                )
