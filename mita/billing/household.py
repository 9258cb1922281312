"""The household view of a connection, as village water committees keep it: one financial year, a card per month
(paid, unpaid, unbilled), the year's totals and what the account owes now (docs/billing-documents.md).

Reads only: bills from billing, open charges and balances through payments' and the ledger's selectors, payments and
their receipts through payments' selectors; a fixed number of queries whatever the number of months or payments.
"""

import dataclasses
import datetime
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from mita.billing.models import Bill, BillingCycle
from mita.payments.models import Payment
from mita.payments.selectors import account_summary, payments_of_holder

ZERO = Decimal("0")

# The month a financial year starts in, by the operator's country: April in India (1 April - 31 March), July in
# the East African Community (1 July - 30 June). Settings.MITA_FINANCIAL_YEAR_START_MONTHS ({"RW": 7, ...}) adds
# countries or overrides these; any other country starts in FINANCIAL_YEAR_DEFAULT_START (July).
FINANCIAL_YEAR_START_MONTHS = {"IN": 4, "RW": 7, "KE": 7, "UG": 7, "TZ": 7, "BI": 7, "SS": 7}
FINANCIAL_YEAR_DEFAULT_START = 7


class MonthStatus:
    PAID = "paid"
    UNPAID = "unpaid"
    UNBILLED = "unbilled"
    NOT_DUE = "not_due"  # the month has not ended: nothing to bill yet
    BEFORE = "before"  # before the connection was made


STATUS_LABELS = {
    MonthStatus.PAID: _("Paid"),
    MonthStatus.UNPAID: _("Unpaid"),
    MonthStatus.UNBILLED: _("Not billed"),
    MonthStatus.NOT_DUE: _("Not yet due"),
    MonthStatus.BEFORE: _("Before the connection"),
}


def financial_year_start_month(operator: Any) -> int:
    months = {**FINANCIAL_YEAR_START_MONTHS, **getattr(settings, "MITA_FINANCIAL_YEAR_START_MONTHS", {})}
    return int(months.get((operator.country_code or "").upper(), FINANCIAL_YEAR_DEFAULT_START))


def financial_year_of(day: datetime.date, start_month: int) -> int:
    """The financial year a day falls in, named by the calendar year it starts in."""
    return day.year if day.month >= start_month else day.year - 1


def _months(year: int, start_month: int) -> list[datetime.date]:
    """The first days of the twelve months of the financial year starting in `year`."""
    firsts = []
    for offset in range(12):
        month = start_month - 1 + offset
        firsts.append(datetime.date(year + month // 12, month % 12 + 1, 1))
    return firsts


def _month_end(first: datetime.date) -> datetime.date:
    following = datetime.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return following - datetime.timedelta(days=1)


@dataclasses.dataclass(frozen=True)
class MonthCard:
    month: str  # "2026-10"
    label: str  # "October 2026" in the active language
    status: str
    status_label: str
    bill_id: int | None
    bill_number: str
    cycle_code: str
    cycle_id: int | None  # the cycle that bills this month at the connection's frequency, if the calendar has it
    bill_total: Decimal | None
    open_amount: Decimal  # still owed on the bill
    consumption: Decimal | None  # the bill's (a bill of several months shows on each of its months)
    due_on: datetime.date | None
    draft_bill_id: int | None  # a draft waiting for its run's approval
    receipt_payment_id: int | None  # the latest payment that cleared part of the bill
    receipt_number: str


@dataclasses.dataclass(frozen=True)
class Household:
    connection: Any
    year: int
    label: str  # "2026-27", or "2026" when the year starts in January
    start: datetime.date
    end: datetime.date
    currency: str
    paid: Decimal  # payments received in the year
    billed: Decimal  # the year's issued bills
    consumed: Decimal  # units on the year's issued bills
    months_billed: int
    months_paid: int
    months_unbilled: int
    months_unpaid: int
    open_on_year: Decimal  # still owed on the year's bills
    balance: Decimal  # what the account owes now, every year together
    credit: Decimal  # the account's credit now
    cards: list[MonthCard]

    @property
    def net_due(self) -> Decimal:
        """What the account owes now less its credit (negative: in credit)."""
        return self.balance - self.credit


def _bills(connection: Any, start: datetime.date, end: datetime.date) -> list[Bill]:
    return list(
        Bill.objects.filter(operator_id=connection.operator_id, connection_id=connection.pk)
        .exclude(status=Bill.Status.CANCELLED)
        .filter(cycle__end__gte=start, cycle__start__lte=end)
        .select_related("cycle")
        .order_by("cycle__start", "pk")
    )


def _cycles_by_month(connection: Any, start: datetime.date, end: datetime.date) -> dict[str, BillingCycle]:
    """The operator's cycles at the connection's frequency over the year, by each month they bill."""
    cycles = BillingCycle.objects.filter(
        operator_id=connection.operator_id, frequency=connection.billing_cycle, end__gte=start, start__lte=end
    ).order_by("start")
    return {month: cycle for cycle in cycles for month in cycle.months}


def _receipts(operator: Any, holder: str, since: datetime.date) -> tuple[dict[str, Payment], list[Payment]]:
    """(the latest completed payment that cleared part of each charge reference, the completed payments with a value
    date from `since`): three queries, the payments with their receipts, allocations and charges."""
    payments = list(
        payments_of_holder(operator=operator, holder=holder)
        .filter(status=Payment.Status.COMPLETED, value_date__gte=since)
        .prefetch_related("allocations__charge")
    )
    latest: dict[str, Payment] = {}
    for payment in reversed(payments):  # oldest first, so the latest payment of a reference wins
        for allocation in payment.allocations.all():
            if not allocation.voided:
                latest[allocation.charge.reference] = payment
    return latest, payments


def household(*, connection: Any, year: int | None = None, today: datetime.date | None = None) -> Household:
    """The connection's financial year `year` (default: the current one) as month cards and totals."""
    operator = connection.operator
    today = today or timezone.localdate()
    start_month = financial_year_start_month(operator)
    year = year if year is not None else financial_year_of(today, start_month)
    firsts = _months(year, start_month)
    start, end = firsts[0], _month_end(firsts[-1])
    holder = connection.number

    bills = _bills(connection, start, end)
    issued = [bill for bill in bills if bill.status == Bill.Status.ISSUED]
    drafts = {month: bill for bill in bills if bill.status == Bill.Status.DRAFT for month in bill.cycle.months}
    by_month = {month: bill for bill in issued for month in bill.cycle.months}
    cycles = _cycles_by_month(connection, start, end)
    summary = account_summary(operator=operator, holder=holder)
    open_by_reference: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for charge in summary.open_charges:
        open_by_reference[charge.reference] += charge.open_amount
    latest_payment, payments = _receipts(operator, holder, start)
    paid = sum((payment.amount for payment in payments if payment.value_date <= end), ZERO)
    connected_on = min([timezone.localdate(connection.created_at)] + [bill.cycle.start for bill in bills])

    cards = []
    counts = {MonthStatus.PAID: 0, MonthStatus.UNPAID: 0, MonthStatus.UNBILLED: 0}
    for first in firsts:
        month = f"{first.year:04d}-{first.month:02d}"
        bill = by_month.get(month)
        cycle = cycles.get(month)
        draft = drafts.get(month)
        reference = f"bill:{bill.number}" if bill else ""
        open_amount = open_by_reference.get(reference, ZERO) if bill else ZERO
        if bill is not None:
            status = MonthStatus.UNPAID if open_amount > 0 else MonthStatus.PAID
        elif _month_end(first) < connected_on.replace(day=1):
            status = MonthStatus.BEFORE
        elif (cycle.bill_on > today) if cycle else (_month_end(first) >= today):
            status = MonthStatus.NOT_DUE
        else:
            status = MonthStatus.UNBILLED
        if status in counts:
            counts[status] += 1
        receipt = latest_payment.get(reference) if bill else None
        cards.append(
            MonthCard(
                month=month,
                label=formats.date_format(first, "F Y"),
                status=status,
                status_label=str(STATUS_LABELS[status]),
                bill_id=bill.pk if bill else None,
                bill_number=bill.number if bill else "",
                cycle_code=(bill.cycle.code if bill else cycle.code if cycle else ""),
                cycle_id=(bill.cycle_id if bill else cycle.pk if cycle else None),
                bill_total=bill.total if bill else None,
                open_amount=open_amount,
                consumption=bill.consumption if bill else None,
                due_on=bill.due_on if bill else None,
                draft_bill_id=draft.pk if draft and not bill else None,
                receipt_payment_id=receipt.pk if receipt else None,
                receipt_number=(receipt.receipt.number or "") if receipt and hasattr(receipt, "receipt") else "",
            )
        )
    year_bills = [bill for bill in issued if start <= bill.cycle.start <= end]
    return Household(
        connection=connection,
        year=year,
        label=str(year) if start_month == 1 else f"{year}-{(year + 1) % 100:02d}",
        start=start,
        end=end,
        currency=operator.currency,
        paid=paid,
        billed=sum((bill.total for bill in year_bills), ZERO),
        consumed=sum((bill.consumption for bill in year_bills), ZERO),
        months_billed=counts[MonthStatus.PAID] + counts[MonthStatus.UNPAID],
        months_paid=counts[MonthStatus.PAID],
        months_unbilled=counts[MonthStatus.UNBILLED],
        months_unpaid=counts[MonthStatus.UNPAID],
        open_on_year=sum((open_by_reference.get(f"bill:{bill.number}", ZERO) for bill in year_bills), ZERO),
        balance=summary.balance,
        credit=summary.credit,
        cards=cards,
    )


def household_years(*, connection: Any, around: int, span: int = 3) -> list[int]:
    """The years the page offers: `span` years before `around` up to the current one (at least `around`)."""
    start_month = financial_year_start_month(connection.operator)
    current = financial_year_of(timezone.localdate(), start_month)
    return list(range(min(around, current) - span, max(around, current) + 1))
