"""Charges posted many at a time (a bill run's unit): what charge_post does for each, in a few set-based statements.

The same rows as charge_post with an explicit VAT: a Charge, a CHARGE transfer (receivable -> revenue head) and, when
there is VAT, a VAT transfer (receivable -> VAT payable), the cached balances moved in the same transaction, and
charge_posted sent for the charges of accounts holding credit (the only ones its receiver acts on). Balance rows are
updated in account order, as transfer_post locks them, so that concurrent posts never deadlock.
"""

import dataclasses
import datetime
import random
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext as _

from mita.core.bulk import instances_insert, maker
from mita.core.money import quantize
from mita.ledger.models import Balance, BalanceShard, Charge, Transfer
from mita.ledger.selectors import holders_balances
from mita.ledger.services import REVENUE_HEADS, LedgerError, account_get, holder_accounts_ensure
from mita.ledger.signals import charge_posted

ZERO = Decimal(0)


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
    balances: dict[str, tuple[Decimal, Decimal]] | None = None,
) -> list[Charge]:
    """Post many charges with their own VAT at once; returns the charges in the order given. `balances`: the holders'
    holders_balances when the caller has just read them (in this transaction), else they are read here."""
    charges = _check(operator, charges)
    if not charges:
        return []
    with transaction.atomic(savepoint=False):
        holders = sorted({spec.holder for spec in charges})
        receivables = holder_accounts_ensure(operator=operator, holders=holders, purpose="receivable")
        revenue = {
            head: account_get(operator=operator, code=f"revenue:{head}").pk for head in {s.head for s in charges}
        }
        vat_payable = account_get(operator=operator, code="vat_payable").pk
        # Credit is not moved by charges: read before posting, it says whose charges the credit receiver clears.
        if balances is None:
            balances = holders_balances(operator=operator, holders=holders)
        with_credit = {holder for holder, (_owed, credit) in balances.items() if credit > 0}
        common = {"operator_id": operator.pk, "currency": operator.currency, "value_date": value_date}
        charge = maker(Charge, due_date=due_date, **common)
        posted = [
            charge(
                holder=spec.holder,
                head=spec.head,
                net=spec.net,
                vat=spec.vat,
                total=spec.net + spec.vat,
                reference=spec.reference,
            )
            for spec in charges
        ]
        instances_insert(posted, keys_together=True)
        made_by = acting_user.pk if getattr(acting_user, "pk", None) else None
        transfer = maker(Transfer, created_by_id=made_by, **common)
        transfers = []
        for spec, posting in zip(charges, posted, strict=True):
            debit, memo = receivables[spec.holder], {"charge": posting.pk}
            transfers.append(
                transfer(
                    debit_id=debit,
                    credit_id=revenue[spec.head],
                    amount=spec.net,
                    kind=Transfer.Kind.CHARGE,
                    reference=spec.reference,
                    memo=memo,
                )
            )
            if spec.vat:
                transfers.append(
                    transfer(
                        debit_id=debit,
                        credit_id=vat_payable,
                        amount=spec.vat,
                        kind=Transfer.Kind.VAT,
                        reference=spec.reference,
                        memo=memo,
                    )
                )
        instances_insert(transfers, keys_together=True)
        _balances_add(transfers, holder_accounts=set(receivables.values()))
        for posting in posted:
            if posting.holder in with_credit:
                charge_posted.send(sender=Charge, charge=posting, acting_user=acting_user)
    return posted


def _balances_add(transfers: list[Transfer], *, holder_accounts: set[int]) -> None:
    """Add the transfers to the cached balances: a customer account's row, an operator-wide account's shard; the rows
    locked in account order, as transfer_post locks them, then moved in one statement.

    All the transfers of one call go to one shard of each operator-wide account, drawn at random: a bill run's unit
    then locks one shard of the revenue and VAT accounts, not all of them, so that units issued side by side by
    several workers seldom wait for each other's commit (any shard is right: an account's totals are the sum of its
    shards). Not the first transfer's id modulo the shards, as transfer_post chooses: a run's units take the same
    number of ids each, often a multiple of the shards, so every unit chose the same shard and waited for the last."""
    if not transfers:
        return
    shard = random.randrange(BalanceShard.SHARDS)  # spreading locks, not a secret
    moves: dict[tuple[int, int], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])  # (account, shard or -1)
    for transfer in transfers:
        debit, credit = transfer.debit_id, transfer.credit_id
        moves[(debit, -1 if debit in holder_accounts else shard)][0] += transfer.amount
        moves[(credit, -1 if credit in holder_accounts else shard)][1] += transfer.amount
    rows = sorted((account_id, shard, debits, credits) for (account_id, shard), (debits, credits) in moves.items())
    with connection.cursor() as cursor:
        batch: list[tuple[int, Decimal, Decimal]] = []  # customers' rows next to each other in account order
        for account_id, shard, debits, credits in rows:
            if shard < 0:
                batch.append((account_id, debits, credits))
                continue
            _balances_move(cursor, batch)
            batch = []
            update = (
                f"UPDATE {BalanceShard._meta.db_table} SET debits = debits + %s, credits = credits + %s "  # noqa: S608
                "WHERE account_id = %s AND shard = %s"
            )
            cursor.execute(update, [debits, credits, account_id, shard])
            if cursor.rowcount == 0:  # the account's first transfers: its shards are made (once), then updated
                BalanceShard.objects.bulk_create(
                    [BalanceShard(account_id=account_id, shard=number) for number in range(BalanceShard.SHARDS)],
                    ignore_conflicts=True,
                )
                cursor.execute(update, [debits, credits, account_id, shard])
        _balances_move(cursor, batch)


def _balances_move(cursor: Any, rows: list[tuple[int, Decimal, Decimal]]) -> None:
    """Move customers' balance rows (account, debits, credits; in account order) in one statement: on PostgreSQL the
    rows locked in that order first (an UPDATE ... FROM locks in the order it finds them)."""
    if not rows:
        return
    table = Balance._meta.db_table
    if connection.vendor != "postgresql":
        cursor.executemany(
            f"UPDATE {table} SET debits = debits + %s, credits = credits + %s WHERE account_id = %s",  # noqa: S608
            [(debits, credits, account_id) for account_id, debits, credits in rows],
        )
        return
    ids, debits, credits = (list(column) for column in zip(*rows, strict=True))
    cursor.execute(
        f"SELECT 1 FROM {table} WHERE account_id = ANY(%s::bigint[]) ORDER BY account_id FOR UPDATE",  # noqa: S608
        [ids],
    )
    cursor.execute(
        f"UPDATE {table} AS b SET debits = b.debits + m.debits, credits = b.credits + m.credits "  # noqa: S608
        "FROM unnest(%s::bigint[], %s::numeric[], %s::numeric[]) AS m(account_id, debits, credits) "
        "WHERE b.account_id = m.account_id",
        [ids, debits, credits],
    )
