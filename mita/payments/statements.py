"""A customer account's statement for a period: the opening balance, every movement in date order with a running
balance, and the closing balance. Read from the ledger's transfers by value date, so it always agrees with it.

The balance is what the account owes: its receivable minus its credit (a negative balance is credit in the
customer's favour). Deposits held are not part of it.
"""

import dataclasses
import datetime
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mita.core.errors import DomainError
from mita.core.money import CURRENCY_EXPONENTS, quantize
from mita.ledger.models import Account, Charge, Transfer
from mita.payments.contacts import account_contact
from mita.payments.models import Channel, Payment

ZERO = Decimal("0")
MAX_PERIOD_YEARS = 5
# Heads as a customer reads them; a head another module adds later shows as its code until it is named here.
HEAD_LABELS = {
    "water_sales": gettext_lazy("Water"),
    "electricity_sales": gettext_lazy("Electricity"),
    "connection_fees": gettext_lazy("Connection fee"),
    "material_fees": gettext_lazy("Materials"),
    "reconnection_fees": gettext_lazy("Reconnection fee"),
    "penalties": gettext_lazy("Penalty"),
    "other": gettext_lazy("Other charge"),
    "opening_balance": gettext_lazy("Arrears brought forward"),
}


def money(amount: Decimal, currency: str) -> str:
    """An amount in the currency's minor units, grouped as the active language writes numbers."""
    digits = CURRENCY_EXPONENTS.get(currency, 2)
    return f"{formats.number_format(amount, decimal_pos=digits, force_grouping=True)} {currency}"


def head_label(head: str) -> str:
    label = HEAD_LABELS.get(head)
    return str(label) if label else head.replace("_", " ").capitalize()


class StatementError(DomainError):
    pass


@dataclasses.dataclass(frozen=True)
class StatementLine:
    date: datetime.date
    kind: str  # charge, payment, reversal, credit_used, or the ledger's kind of transfer (refund, write_off ...)
    description: str
    reference: str  # the charge's reference, the payment's receipt number, or the ledger reference
    receipt_number: str
    debit: Decimal  # raises what the account owes
    credit: Decimal  # lowers it
    credit_used: Decimal  # credit moved onto charges: changes nothing the account owes overall
    balance: Decimal  # after this line


@dataclasses.dataclass(frozen=True)
class Statement:
    holder: str
    name: str  # the account holder's name, when the customers app knows it
    currency: str
    start: datetime.date | None  # None: from the account's first movement
    end: datetime.date | None  # None: up to its last
    opening_balance: Decimal
    lines: list[StatementLine]
    closing_balance: Decimal

    @property
    def total_debit(self) -> Decimal:
        return quantize(sum((line.debit for line in self.lines), ZERO), self.currency)

    @property
    def total_credit(self) -> Decimal:
        return quantize(sum((line.credit for line in self.lines), ZERO), self.currency)


# The period ----------------------------------------------------------------------------------------------


def _years_after(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def default_period(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The last twelve months: from the first day of the month eleven months ago to today."""
    month = today.year * 12 + today.month - 1 - 11
    return datetime.date(month // 12, month % 12 + 1, 1), today


def period_check(*, start: datetime.date, end: datetime.date) -> None:
    """A statement runs from a day to the same or a later day, at most five years on."""
    if end < start:
        message = _("The end date %(end)s is before the start date %(start)s.") % {"end": end, "start": start}
        raise StatementError(message, code="period_reversed", fields={"end": [_("On or after the start date.")]})
    if end > _years_after(start, MAX_PERIOD_YEARS):
        message = _("A statement covers at most %(years)d years: choose a later start date or an earlier end date.") % {
            "years": MAX_PERIOD_YEARS
        }
        raise StatementError(
            message,
            code="period_too_long",
            fields={"end": [_("At most %(years)d years after the start date.") % {"years": MAX_PERIOD_YEARS}]},
        )


def period_parse(*, start: str, end: str, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The period from two ISO dates as typed (either may be empty: the last twelve months), checked."""
    default_start, default_end = default_period(today)
    days: dict[str, datetime.date] = {}
    fields: dict[str, list[str]] = {}
    for name, text, default in (("start", start, default_start), ("end", end, default_end)):
        text = (text or "").strip()
        if not text:
            days[name] = default
            continue
        try:
            days[name] = datetime.date.fromisoformat(text)
        except ValueError:
            fields[name] = [_("“%(text)s” is not a date: write it as YYYY-MM-DD, e.g. 2026-01-31.") % {"text": text}]
    if fields:
        raise StatementError(
            " ".join(message for messages in fields.values() for message in messages),
            code="date_invalid",
            fields=fields,
        )
    period_check(start=days["start"], end=days["end"])
    return days["start"], days["end"]


# Balances from the transfers -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Accounts:
    receivable: int
    credit: int  # -1 while the account has never had credit

    @property
    def ids(self) -> list[int]:
        return [self.receivable, self.credit]


def _accounts(*, operator: Any, holder: str) -> _Accounts | None:
    codes = dict(
        Account.objects.filter(operator=operator, code__in=[f"receivable:{holder}", f"credit:{holder}"]).values_list(
            "code", "pk"
        )
    )
    if f"receivable:{holder}" not in codes:
        return None
    return _Accounts(receivable=codes[f"receivable:{holder}"], credit=codes.get(f"credit:{holder}", -1))


def _effect(transfer: Transfer, accounts: _Accounts) -> Decimal:
    """How much a transfer raises (positive) or lowers (negative) what the account owes."""
    effect = ZERO
    if transfer.debit_id == accounts.receivable:
        effect += transfer.amount
    if transfer.credit_id == accounts.receivable:
        effect -= transfer.amount
    if transfer.credit_id == accounts.credit:
        effect -= transfer.amount
    if transfer.debit_id == accounts.credit:
        effect += transfer.amount
    return effect


def _net(transfers: Any, accounts: _Accounts) -> Decimal:
    zero = Value(ZERO, output_field=DecimalField(max_digits=16, decimal_places=2))

    def total(**match: int) -> Coalesce:
        return Coalesce(Sum("amount", filter=Q(**match)), zero)

    sums = transfers.aggregate(
        receivable_debits=total(debit_id=accounts.receivable),
        receivable_credits=total(credit_id=accounts.receivable),
        credit_debits=total(debit_id=accounts.credit),
        credit_credits=total(credit_id=accounts.credit),
    )
    receivable = sums["receivable_debits"] - sums["receivable_credits"]
    credit = sums["credit_credits"] - sums["credit_debits"]
    return Decimal(receivable - credit)


def _holder_transfers(*, operator: Any, accounts: _Accounts) -> Any:
    return Transfer.objects.filter(operator=operator).filter(
        Q(debit_id__in=accounts.ids) | Q(credit_id__in=accounts.ids)
    )


def holder_net_balance(
    *, operator: Any, holder: str, before: datetime.date | None = None, through_transfer: int | None = None
) -> Decimal:
    """What the account owes net of its credit: from transfers valued before a day, or up to one transfer."""
    accounts = _accounts(operator=operator, holder=holder)
    if accounts is None:
        return ZERO
    transfers = _holder_transfers(operator=operator, accounts=accounts)
    if before is not None:
        transfers = transfers.filter(value_date__lt=before)
    if through_transfer is not None:
        transfers = transfers.filter(pk__lte=through_transfer)
    return _net(transfers, accounts)


def balance_after_payment(*, payment: Payment) -> Decimal | None:
    """What the account owed right after the payment was applied (None while it is in suspense).

    Counted up to the payment's own last transfer, so a reprint shows the same figure as the original.
    """
    if not payment.holder:
        return None
    accounts = _accounts(operator=payment.operator, holder=payment.holder)
    if accounts is None:
        return None
    last = (
        _holder_transfers(operator=payment.operator, accounts=accounts)
        .filter(reference=payment.ledger_reference, reverses__isnull=True)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if last is None:
        return None
    return holder_net_balance(operator=payment.operator, holder=payment.holder, through_transfer=last)


# The statement -------------------------------------------------------------------------------------------


def _group(kind: str) -> str:
    if kind in (Transfer.Kind.CHARGE, Transfer.Kind.VAT, Transfer.Kind.OPENING_BALANCE):
        return "charge"
    if kind == Transfer.Kind.ALLOCATION:
        return "credit_used"
    return kind


def _payment_id(reference: str) -> int | None:
    prefix, _sep, number = reference.partition(":")
    return int(number) if prefix == "payment" and number.isdigit() else None


def statement(*, operator: Any, holder: str, start: datetime.date | None, end: datetime.date | None) -> Statement:
    """The account's statement for a period (either end open); lines are grouped per reference and day."""
    accounts = _accounts(operator=operator, holder=holder)
    contact = account_contact(operator=operator, holder=holder)
    name = contact.name if contact else ""
    if accounts is None:
        zero = quantize(ZERO, operator.currency)
        return Statement(holder, name, operator.currency, start, end, zero, [], zero)

    def exact(amount: Decimal) -> Decimal:
        # Sums come back from the database at its scale (1500.00, 600); written in the currency's units, they
        # read the same in every line and on either database. The values are exact already: nothing is rounded.
        return quantize(amount, operator.currency)

    opening = exact(holder_net_balance(operator=operator, holder=holder, before=start) if start else ZERO)
    transfers = _holder_transfers(operator=operator, accounts=accounts)
    if start:
        transfers = transfers.filter(value_date__gte=start)
    if end:
        transfers = transfers.filter(value_date__lte=end)
    groups: dict[tuple[datetime.date, str, str], list[Transfer]] = {}
    for transfer in transfers.order_by("value_date", "pk"):
        groups.setdefault((transfer.value_date, transfer.reference, _group(transfer.kind)), []).append(transfer)

    payment_ids = {pid for (_day, reference, _kind) in groups if (pid := _payment_id(reference)) is not None}
    payments = {
        payment.pk: payment
        for payment in Payment.objects.filter(operator=operator, pk__in=payment_ids).select_related("receipt")
    }
    charge_references = {reference for (_day, reference, kind) in groups if kind in ("charge", "reversal")}
    charges = {
        charge.reference: charge
        for charge in Charge.objects.filter(operator=operator, holder=holder, reference__in=charge_references)
    }

    lines = []
    balance = opening
    for (day, reference, kind), members in groups.items():
        effect = sum((_effect(transfer, accounts) for transfer in members), ZERO)
        moved = sum((transfer.amount for transfer in members), ZERO)
        balance += effect
        payment = payments.get(pid) if (pid := _payment_id(reference)) is not None else None
        receipt = getattr(payment, "receipt", None) if payment else None
        description, shown_reference = _describe(
            kind=kind, reference=reference, members=members, payment=payment, charge=charges.get(reference)
        )
        lines.append(
            StatementLine(
                date=day,
                kind=kind,
                description=description,
                reference=receipt.number if receipt else shown_reference,
                receipt_number=receipt.number if receipt else "",
                debit=exact(effect if effect > 0 else ZERO),
                credit=exact(-effect if effect < 0 else ZERO),
                credit_used=exact(moved if kind == "credit_used" else ZERO),
                balance=exact(balance),
            )
        )
    return Statement(holder, name, operator.currency, start, end, opening, lines, exact(balance))


def _describe(
    *, kind: str, reference: str, members: list[Transfer], payment: Payment | None, charge: Charge | None
) -> tuple[str, str]:
    """The line's words and the reference a customer recognises."""
    if kind == "charge":
        if charge is not None:
            return head_label(charge.head), charge.reference
        return _("Charge"), reference
    if kind == "payment":
        if payment is not None:
            return _("Payment (%(channel)s)") % {"channel": Channel(payment.channel).label}, reference
        return _("Payment"), reference
    if kind == "credit_used":
        return _("Credit used on charges"), ""
    if kind == Transfer.Kind.REVERSAL:
        reason = next((str(t.memo.get("reason", "")) for t in members if t.memo.get("reason")), "")
        if payment is not None and payment.status == Payment.Status.REVERSED:
            what = _("Payment reversed by the provider")
        elif payment is not None:
            what = _("Payment voided")
        elif charge is not None:
            what = _("%(head)s cancelled") % {"head": head_label(charge.head)}
        else:
            what = _("Reversal")
        return (f"{what}: {reason}" if reason else what), (charge.reference if charge else reference)
    return str(Transfer.Kind(kind).label) if kind in Transfer.Kind.values else kind, reference
