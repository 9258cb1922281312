"""The payments panels of the customer 360 page: debt across the customer's accounts, recent payments,
miscellaneous charges (with the form to post one) and the billing-history chart; registered from
PaymentsConfig.ready() through mita.customers.panels."""

import dataclasses
import datetime
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, F, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mita.core.access import Access
from mita.core.money import CURRENCY_EXPONENTS, quantize
from mita.customers.models import Customer
from mita.customers.panels import Panel, register_count_label, register_panel, register_panel_data
from mita.customers.selectors import CUSTOMER_READ_ROLES, connections_visible_to
from mita.ledger.models import Balance, Charge
from mita.payments.forms_panels import MiscChargeForm, head_label
from mita.payments.misc_charges import MISC_CHARGE_ROLES, charges_not_from_bills
from mita.payments.models import Payment
from mita.payments.models_deposits import ChargeCancellation

ZERO = Decimal("0")
READ = frozenset(CUSTOMER_READ_ROLES)
RECENT_PAYMENTS = 10
CHART_MONTHS = 12
# The chart's drawing area in SVG user units: bars up to BAR_AREA high, two bars per month.
CHART_WIDTH, CHART_HEIGHT, BAR_AREA, BAR_WIDTH, MONTH_WIDTH = 480, 170, 130, 14, 40


def _money_format(currency: str) -> str:
    """The floatformat argument that writes the currency's minor units, grouped by the reader's locale."""
    return f"{CURRENCY_EXPONENTS.get(currency, 2)}g"


def _money(amount: Decimal, currency: str) -> str:
    """An amount for the API: a decimal string in the currency's minor units."""
    return str(quantize(amount, currency))


def _holders(access: Access, customer: Customer) -> list[str]:
    """The customer's accounts in the ledger: the numbers of the connections they hold now."""
    return list(
        connections_visible_to(access=access, customer=customer).order_by("number").values_list("number", flat=True)
    )


# Debt across the customer's accounts -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class AccountDebt:
    holder: str
    owed: Decimal  # the receivable's balance: what the account owes
    credit: Decimal  # paid in advance (credit and VAT held on advances), used on the next charges


@dataclasses.dataclass(frozen=True)
class CustomerDebt:
    currency: str
    accounts: list[AccountDebt]

    @property
    def owed(self) -> Decimal:
        return sum((account.owed for account in self.accounts), ZERO)

    @property
    def credit(self) -> Decimal:
        return sum((account.credit for account in self.accounts), ZERO)


def customer_debt(*, operator: Any, holders: list[str]) -> CustomerDebt:
    """Each account's debt and credit from the ledger's cached balances, in one query whatever the number of
    accounts (an account never charged has no balance row yet and owes nothing). ledger.selectors reads one
    account at a time (holder_balance); calling it per account and purpose would be 3 queries per connection."""
    purposes = ("receivable", "credit", "advance_vat")
    rows = Balance.objects.filter(
        account__operator=operator,
        account__code__in=[f"{purpose}:{holder}" for holder in holders for purpose in purposes],
    ).values_list("account__code", "debits", "credits")
    owed: dict[str, Decimal] = {}
    credit: dict[str, Decimal] = {}
    for code, debits, credits in rows:
        purpose, holder = code.split(":", 1)
        if purpose == "receivable":  # an asset: debits grow it
            owed[holder] = owed.get(holder, ZERO) + debits - credits
        else:  # liabilities: credits grow them
            credit[holder] = credit.get(holder, ZERO) + credits - debits
    return CustomerDebt(
        currency=operator.currency,
        accounts=[
            AccountDebt(holder=holder, owed=owed.get(holder, ZERO), credit=credit.get(holder, ZERO))
            for holder in holders
        ],
    )


def unpaid_charges_count(*, operator: Any, holders: list[str]) -> int:
    """How many of the accounts' charges are not fully paid (cancelled ones are not owed)."""
    zero = Value(ZERO, output_field=DecimalField(max_digits=16, decimal_places=2))
    return (
        Charge.objects.filter(operator=operator, holder__in=holders)
        .exclude(pk__in=ChargeCancellation.objects.filter(operator=operator).values("charge_id"))
        .annotate(paid=Coalesce(Sum("allocations__amount", filter=Q(allocations__voided=False)), zero))
        .filter(total__gt=F("paid"))
        .count()
    )


def _debt(access: Access, customer: Customer) -> dict[str, Any]:
    operator = access.operator
    return {
        "debt": customer_debt(operator=operator, holders=_holders(access, customer)),
        "money_format": _money_format(operator.currency),
    }


def _debt_counts(access: Access, customer: Customer) -> dict[str, int]:
    return {"unpaid_charges": unpaid_charges_count(operator=access.operator, holders=_holders(access, customer))}


def _debt_data(access: Access, customer: Customer) -> dict[str, Any]:
    debt = customer_debt(operator=access.operator, holders=_holders(access, customer))
    return {
        "currency": debt.currency,
        "owed": _money(debt.owed, debt.currency),
        "credit": _money(debt.credit, debt.currency),
        "accounts": [
            {
                "connection": account.holder,
                "owed": _money(account.owed, debt.currency),
                "credit": _money(account.credit, debt.currency),
            }
            for account in debt.accounts
        ],
    }


# Recent payments ------------------------------------------------------------------------------------------


def recent_payments(*, operator: Any, holders: list[str], limit: int = RECENT_PAYMENTS) -> list[Payment]:
    """The newest payments on any of the accounts, whatever their status (a voided one says so)."""
    return list(
        Payment.objects.filter(operator=operator, holder__in=holders)
        .select_related("receipt")
        .order_by("-received_at", "-pk")[:limit]
    )


def _payments(access: Access, customer: Customer) -> dict[str, Any]:
    holders = _holders(access, customer)
    return {
        "payments": recent_payments(operator=access.operator, holders=holders),
        "holders": holders,
        "shown": RECENT_PAYMENTS,
        "money_format": _money_format(access.operator.currency),
    }


def _payments_data(access: Access, customer: Customer) -> dict[str, Any]:
    return {
        "payments": [
            {
                "id": payment.pk,
                "connection": payment.holder,
                "amount": _money(payment.amount, payment.currency),
                "currency": payment.currency,
                "channel": payment.channel,
                "status": payment.status,
                "value_date": payment.value_date.isoformat(),
                "receipt": getattr(getattr(payment, "receipt", None), "number", None),
            }
            for payment in recent_payments(operator=access.operator, holders=_holders(access, customer))
        ]
    }


# Miscellaneous charges --------------------------------------------------------------------------------------


def charges_context(access: Access, customer: Customer, form: MiscChargeForm | None = None) -> dict[str, Any]:
    """The panel: the charges not from bills, and the form (a form sent back with its errors is shown as sent)."""
    connections = connections_visible_to(access=access, customer=customer).order_by("number")
    holders = [connection.number for connection in connections]
    charges = charges_not_from_bills(operator=access.operator, holders=holders)
    for charge in charges:
        charge.head_label = head_label(charge.head)
    return {
        "charges": charges,
        "form": form or MiscChargeForm(connections=connections),
        "can_post": access.has_role(*MISC_CHARGE_ROLES) and bool(holders),
        "currency": access.operator.currency,
        "money_format": _money_format(access.operator.currency),
    }


def _charges(access: Access, customer: Customer) -> dict[str, Any]:
    return charges_context(access, customer)


def _charges_data(access: Access, customer: Customer) -> dict[str, Any]:
    return {
        "charges": [
            {
                "id": charge.pk,
                "connection": charge.holder,
                "reference": charge.reference,
                "head": charge.head,
                "net": _money(charge.net, charge.currency),
                "vat": _money(charge.vat, charge.currency),
                "total": _money(charge.total, charge.currency),
                "open": _money(charge.open_amount, charge.currency),
                "cancelled": charge.cancelled,
                "reason": charge.reason,
                "due_date": charge.due_date.isoformat(),
                "value_date": charge.value_date.isoformat(),
            }
            for charge in charges_not_from_bills(operator=access.operator, holders=_holders(access, customer))
        ]
    }


# Billing-history chart -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ChartMonth:
    month: datetime.date  # its first day
    charged: Decimal
    paid: Decimal
    charged_height: int  # bar heights in SVG units, 0..BAR_AREA
    paid_height: int
    x: int  # where the month's pair of bars starts

    @property
    def charged_y(self) -> int:
        return BAR_AREA - self.charged_height

    @property
    def paid_y(self) -> int:
        return BAR_AREA - self.paid_height

    @property
    def paid_x(self) -> int:
        return self.x + BAR_WIDTH + 2

    @property
    def label_x(self) -> int:
        return self.x + BAR_WIDTH + 1


def _months_back(today: datetime.date, count: int) -> list[datetime.date]:
    """The first days of the `count` months ending with today's, oldest first."""
    year, month = today.year, today.month
    firsts = []
    for _step in range(count):
        firsts.append(datetime.date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return firsts[::-1]


def _month_key(value: Any) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def _height(amount: Decimal, top: Decimal) -> int:
    """A bar's height: pixels are not money, but the division stays in Decimal so no float creeps in."""
    if top <= 0 or amount <= 0:
        return 0
    return max(1, int((amount * BAR_AREA / top).to_integral_value()))


def billing_history(*, operator: Any, holders: list[str], today: datetime.date | None = None) -> list[ChartMonth]:
    """Charged (cancelled charges left out) and paid (completed payments) per month over the last 12 months,
    by value date: two grouped queries."""
    months = _months_back(today or timezone.localdate(), CHART_MONTHS)
    start = months[0]
    charged = {
        _month_key(row["month"]): row["total"]
        for row in Charge.objects.filter(operator=operator, holder__in=holders, value_date__gte=start)
        .exclude(pk__in=ChargeCancellation.objects.filter(operator=operator).values("charge_id"))
        .annotate(month=TruncMonth("value_date"))
        .values("month")
        .annotate(total=Sum("total"))
        .order_by()
    }
    paid = {
        _month_key(row["month"]): row["total"]
        for row in Payment.objects.filter(
            operator=operator, holder__in=holders, status=Payment.Status.COMPLETED, value_date__gte=start
        )
        .annotate(month=TruncMonth("value_date"))
        .values("month")
        .annotate(total=Sum("amount"))
        .order_by()
    }
    top = max([*charged.values(), *paid.values(), ZERO])
    return [
        ChartMonth(
            month=month,
            charged=charged.get(month, ZERO),
            paid=paid.get(month, ZERO),
            charged_height=_height(charged.get(month, ZERO), top),
            paid_height=_height(paid.get(month, ZERO), top),
            x=index * MONTH_WIDTH + 4,
        )
        for index, month in enumerate(months)
    ]


def _chart(access: Access, customer: Customer) -> dict[str, Any]:
    months = billing_history(operator=access.operator, holders=_holders(access, customer))
    return {
        "months": months,
        "has_activity": any(month.charged or month.paid for month in months),
        "currency": access.operator.currency,
        "money_format": _money_format(access.operator.currency),
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "bar_width": BAR_WIDTH,
        "baseline": BAR_AREA,
        "label_y": BAR_AREA + 16,
        "legend_y": BAR_AREA + 34,
    }


def _chart_data(access: Access, customer: Customer) -> dict[str, Any]:
    currency = access.operator.currency
    return {
        "currency": currency,
        "months": [
            {
                "month": month.month.strftime("%Y-%m"),
                "charged": _money(month.charged, currency),
                "paid": _money(month.paid, currency),
            }
            for month in billing_history(operator=access.operator, holders=_holders(access, customer))
        ],
    }


def register() -> None:
    register_count_label("unpaid_charges", _("Unpaid charges"))
    register_panel(
        Panel(
            key="payments.debt",
            title=_("Debt across the accounts"),
            template="payments/panels/debt.html",
            context=_debt,
            roles=READ,
            order=15,
            counts=_debt_counts,
        )
    )
    register_panel(
        Panel(
            key="payments.recent",
            title=_("Payments"),
            template="payments/panels/recent.html",
            context=_payments,
            roles=READ,
            order=40,
        )
    )
    register_panel(
        Panel(
            key="payments.charges",
            title=_("Miscellaneous charges"),
            template="payments/panels/charges.html",
            context=_charges,
            roles=READ,  # all read the list; the form shows to MISC_CHARGE_ROLES
            order=50,
        )
    )
    register_panel(
        Panel(
            key="payments.chart",
            title=_("Billing history"),
            template="payments/panels/chart.html",
            context=_chart,
            roles=READ,
            order=60,
            lazy=True,
        )
    )
    register_panel_data("payments.debt", _debt_data)
    register_panel_data("payments.recent", _payments_data)
    register_panel_data("payments.charges", _charges_data)
    register_panel_data("payments.chart", _chart_data)
