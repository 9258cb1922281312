"""Reads of the ledger: balances, a holder's balance, and the check that cached balances match the transfers."""

import dataclasses
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet, Sum

from mita.ledger.models import Account, Balance, Charge, Transfer

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
    if operator is not None:
        balances = balances.filter(account__operator=operator)
    mismatches = []
    for balance in balances.order_by("account_id"):
        debit_total = debits.get(balance.account_id) or ZERO
        credit_total = credits.get(balance.account_id) or ZERO
        if balance.debits != debit_total or balance.credits != credit_total:
            mismatches.append(Mismatch(balance.account, balance.debits, balance.credits, debit_total, credit_total))
    return mismatches


def trial_balance(*, operator: Any) -> Decimal:
    """Debits minus credits over all the operator's accounts: always zero in a double-entry ledger."""
    totals = Balance.objects.filter(account__operator=operator).aggregate(debits=Sum("debits"), credits=Sum("credits"))
    return (totals["debits"] or ZERO) - (totals["credits"] or ZERO)


def holder_known(*, operator: Any, reference: str) -> str | None:
    """The customer account (holder) named by a reference, if the ledger has a receivable for it."""
    account = (
        Account.objects.filter(
            operator=operator, category=Account.Category.RECEIVABLE, holder__iexact=reference.strip()
        )
        .only("holder")
        .first()
    )
    return account.holder if account else None


def charges_of(*, operator: Any, holder: str) -> QuerySet[Charge]:
    """A customer account's charges, oldest due first."""
    return Charge.objects.filter(operator=operator, holder=holder).order_by("due_date", "pk")


def credit_from(*, operator: Any, holder: str, reference: str) -> Decimal:
    """How much the transfers of one reference put into a customer account's credit (net)."""
    code = f"credit:{holder}"
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
