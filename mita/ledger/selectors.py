"""Reads of the ledger: balances, a holder's balance, and the check that cached balances match the transfers."""

import dataclasses
from decimal import Decimal
from typing import Any

from django.db.models import F, QuerySet, Sum

from mita.core.bulk import among
from mita.ledger.hooks import open_charges
from mita.ledger.models import Account, Balance, BalanceShard, Charge, Transfer

ZERO = Decimal("0")


def holder_balance(*, operator: Any, holder: str, purpose: str = "receivable") -> Decimal:
    """What a customer account owes (receivable), holds as deposit, or has as credit."""
    balance = (
        Balance.objects.filter(account__operator=operator, account__code=f"{purpose}:{holder}")
        .select_related("account")
        .first()
    )
    return balance.amount if balance else ZERO


@dataclasses.dataclass(frozen=True)
class Mismatch:
    account: Account
    cached_debits: Decimal
    cached_credits: Decimal
    debits: Decimal
    credits: Decimal

    def __str__(self) -> str:
        return (
            f"{self.account.operator_id}/{self.account.code}: cached {self.cached_debits} Dr {self.cached_credits} Cr, "
            f"transfers give {self.debits} Dr {self.credits} Cr"
        )


def ledger_verify(*, operator: Any = None) -> list[Mismatch]:
    """Recompute every balance from the transfers and list the accounts whose cached balance differs."""
    transfers = Transfer.objects.all() if operator is None else Transfer.objects.filter(operator=operator)
    debits = dict(transfers.values("debit_id").annotate(total=Sum("amount")).values_list("debit_id", "total"))
    credits = dict(transfers.values("credit_id").annotate(total=Sum("amount")).values_list("credit_id", "total"))
    balances = Balance.objects.select_related("account")
    shards = BalanceShard.objects.all()
    if operator is not None:
        balances = balances.filter(account__operator=operator)
        shards = shards.filter(account__operator=operator)
    sharded = {
        row["account_id"]: (row["debits"], row["credits"])
        for row in shards.values("account_id").annotate(debits=Sum("debits"), credits=Sum("credits"))
    }
    mismatches = []
    for balance in balances.order_by("account_id"):
        shard_debits, shard_credits = sharded.get(balance.account_id, (ZERO, ZERO))
        cached_debits, cached_credits = balance.debits + shard_debits, balance.credits + shard_credits
        debit_total = debits.get(balance.account_id) or ZERO
        credit_total = credits.get(balance.account_id) or ZERO
        if cached_debits != debit_total or cached_credits != credit_total:
            mismatches.append(Mismatch(balance.account, cached_debits, cached_credits, debit_total, credit_total))
    return mismatches


def account_balance(account: Account) -> Decimal:
    """An account's balance on its normal side, from its cached totals (its row and, if any, its shards)."""
    totals = BalanceShard.objects.filter(account=account).aggregate(debits=Sum("debits"), credits=Sum("credits"))
    balance = Balance.objects.get(account=account)
    debits = balance.debits + (totals["debits"] or ZERO)
    credits = balance.credits + (totals["credits"] or ZERO)
    return debits - credits if account.debit_normal else credits - debits


def operator_account_balance(*, operator: Any, code: str) -> Decimal:
    """The balance of one of the operator's accounts by code (e.g. clearing:cash_office); zero if never used."""
    account = Account.objects.filter(operator=operator, code=code).first()
    return account_balance(account) if account else ZERO


def trial_balance(*, operator: Any) -> Decimal:
    """Debits minus credits over all the operator's accounts: always zero in a double-entry ledger."""
    total = ZERO
    for rows in (Balance.objects, BalanceShard.objects):
        sums = rows.filter(account__operator=operator).aggregate(debits=Sum("debits"), credits=Sum("credits"))
        total += (sums["debits"] or ZERO) - (sums["credits"] or ZERO)
    return total


def holder_known(*, operator: Any, reference: str) -> str | None:
    """The customer account (holder) named by a reference, whatever its case, if the ledger has a receivable for it.

    The exact code first (the unique index), then the case-blind match (the index on UPPER(holder)).
    """
    reference = reference.strip()
    receivables = Account.objects.filter(operator=operator, category=Account.Category.RECEIVABLE).order_by()
    holder = receivables.filter(code=f"receivable:{reference}").values_list("holder", flat=True).first()
    if holder is None:
        holder = receivables.filter(holder__iexact=reference).values_list("holder", flat=True).first()
    return holder


def charges_of(*, operator: Any, holder: str) -> QuerySet[Charge]:
    """A customer account's charges, oldest due first."""
    return Charge.objects.filter(operator=operator, holder=holder).order_by("due_date", "pk")


def holders_balances(*, operator: Any, holders: list[str]) -> dict[str, tuple[Decimal, Decimal]]:
    """(owed, credit) of many customer accounts in two queries (on SQLite each by chunks of 900 values), as holder_balance and
    holder_credit give them one by one (a bill run shows them on every bill it issues); accounts never opened are left
    out (nothing, both zero)."""
    codes = {f"{purpose}:{holder}": (purpose, holder) for holder in holders for purpose in _BALANCE_PURPOSES}
    found: dict[str, list[Decimal]] = {}
    # The accounts by holder, then their balances by id: two look-ups by index. Joined in one query, PostgreSQL read
    # every balance row of the database to hash them (176 ms a unit of 2,000 accounts at a million customers). By
    # holder rather than by code: a code not found costs a probe each, and most customers have no credit account
    # (6,000 codes a unit took 131 ms; their 2,000 holders a third of that). Other purposes are left out here. The
    # operator is compared as `operator_id + 0`, which no index serves: SQLite otherwise took account_holder_upper
    # (it leads with the operator) and read every account of the operator for each chunk of holders.
    accounts = (
        Account.objects.annotate(operator_plus=F("operator_id") + 0)
        .filter(operator_plus=getattr(operator, "pk", operator))
        .order_by()
        .values_list("id", "code")
    )
    code_of = {
        account_id: code
        for queryset in among(accounts, "holder", holders)
        for account_id, code in queryset
        if code in codes
    }
    balances = Balance.objects.order_by().values_list("account_id", "debits", "credits")
    rows = (row for queryset in among(balances, "account_id", code_of) for row in queryset)
    for account_id, debits, credits in rows:
        purpose, holder = codes[code_of[account_id]]
        owed_credit = found.setdefault(holder, [ZERO, ZERO])
        if purpose == "receivable":  # an asset: debit-normal
            owed_credit[0] += debits - credits
        else:  # credit and VAT held on advances: liabilities, credit-normal
            owed_credit[1] += credits - debits
    return {holder: (values[0], values[1]) for holder, values in found.items()}


_BALANCE_PURPOSES = ("receivable", "credit", "advance_vat")


def holder_credit(*, operator: Any, holder: str) -> Decimal:
    """A customer account's credit: its credit account plus the VAT held apart on advances (operators that hold
    advances excluding VAT), both the customer's money."""
    balances = Balance.objects.filter(
        account__operator=operator, account__code__in=[f"credit:{holder}", f"advance_vat:{holder}"]
    ).aggregate(debits=Sum("debits"), credits=Sum("credits"))
    # Both are liabilities (credit-normal): one query, as it runs for every charge posted.
    return (balances["credits"] or ZERO) - (balances["debits"] or ZERO)


def credit_from(*, operator: Any, holder: str, reference: str, purpose: str = "credit") -> Decimal:
    """How much the transfers of one reference put into a customer account's credit (net), or its held VAT."""
    code = f"{purpose}:{holder}"
    transfers = Transfer.objects.filter(operator=operator, reference=reference)
    into = transfers.filter(credit__code=code).aggregate(total=Sum("amount"))["total"] or ZERO
    out_of = transfers.filter(debit__code=code).aggregate(total=Sum("amount"))["total"] or ZERO
    return into - out_of


def holder_from(*, operator: Any, holder: str, reference: str, purpose: str) -> Decimal:
    """How much the transfers of one reference put into a customer account's deposit or credit account (net)."""
    code = f"{purpose}:{holder}"
    transfers = Transfer.objects.filter(operator=operator, reference=reference)
    into = transfers.filter(credit__code=code).aggregate(total=Sum("amount"))["total"] or ZERO
    out_of = transfers.filter(debit__code=code).aggregate(total=Sum("amount"))["total"] or ZERO
    return into - out_of


def charge_outstanding(*, operator: Any, holder: str, reference: str) -> Decimal:
    """What is still owed on a customer account's charges of one reference (a fee, a bill): zero once paid.

    Cancelled charges owe nothing. Raises nothing for an unknown reference: nothing is owed on it.
    """
    charges = [charge for charge in open_charges(operator=operator, holder=holder) if charge.reference == reference]
    return sum((charge.open_amount for charge in charges), ZERO)  # type: ignore[attr-defined]
