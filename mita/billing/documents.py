"""A bill as printed: everything a bill document shows, gathered in a few queries (no query per line) for the PDF
layouts (billing/pdf_bill.py), the page and the API (docs/billing-documents.md)."""

import dataclasses
import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from mita.billing.models import Bill
from mita.metering.models import Installation
from mita.payments.online import payment_link_for, payment_link_url
from mita.payments.services import PaymentError

ZERO = Decimal("0")


@dataclasses.dataclass(frozen=True)
class BillDocumentLine:
    label: str
    quantity: Decimal
    rate: Decimal
    amount: Decimal


@dataclasses.dataclass(frozen=True)
class BillDocument:
    operator: Any
    bill_id: int
    number: str  # "" for a draft: only issued bills have a number
    status: str
    customer_name: str
    customer_phone: str
    account: str  # the connection's number, the reference to pay with
    address: str  # the customer's house, street, village
    cycle_code: str
    period_start: datetime.date
    period_end: datetime.date
    issued_on: datetime.date | None
    due_on: datetime.date
    metered: bool
    meter_serials: list[str]  # the meters on the connection during the cycle (two after a swap)
    previous_index: Decimal | None
    current_index: Decimal | None
    consumption: Decimal
    unit: str  # m3, kWh ... as the tariff says
    tariff_name: str
    lines: list[BillDocumentLine]
    net: Decimal
    vat: Decimal
    round_off: Decimal
    total: Decimal  # this bill
    arrears: Decimal  # owed on the account when the bill was issued, before it
    credit: Decimal  # the customer's credit then, used on this bill by the ledger
    currency: str
    payment_url: str  # "" when the operator takes no online payments (or the bill is not payable)

    @property
    def draft(self) -> bool:
        return self.status == Bill.Status.DRAFT

    @property
    def cancelled(self) -> bool:
        return self.status == Bill.Status.CANCELLED

    @property
    def total_due(self) -> Decimal:
        """This bill plus the arrears, less the credit: what the customer pays by the due date (never below 0)."""
        return max(self.total + self.arrears - self.credit, ZERO)

    @property
    def credit_left(self) -> Decimal:
        """The credit still left after this bill, when the credit was more than the bill and the arrears."""
        return max(self.credit - self.total - self.arrears, ZERO)

    def how_to_pay(self) -> str:
        """What the document says instead of a payment link: pay with the account number as the reference."""
        return _(
            "Pay at the office of %(operator)s or by mobile money, giving your account number %(account)s as the "
            "reference."
        ) % {"operator": self.operator.name, "account": self.account}


def _meter_serials(bill: Bill) -> list[str]:
    """The serials of the meters installed on the connection at any time in the bill's cycle, oldest first."""
    installations = (
        Installation.objects.filter(
            operator_id=bill.operator_id, connection_id=bill.connection_id, installed_on__lte=bill.cycle.end
        )
        .filter(Q(removed_on__isnull=True) | Q(removed_on__gte=bill.cycle.start))
        .order_by("installed_on", "pk")
        .values_list("meter__serial", flat=True)
    )
    return list(dict.fromkeys(installations))


def _payment_url(bill: Bill, acting_user: Any) -> str:
    """The account's payment link (reused: the bill's SMS made it), only for an issued bill that is still owed."""
    if bill.status != Bill.Status.ISSUED:
        return ""
    try:
        link = payment_link_for(operator=bill.operator, holder=bill.account, acting_user=acting_user)
    except PaymentError:  # the account has no receivable yet (a zero bill posts nothing): nothing to pay online
        return ""
    return payment_link_url(link=link) if link else ""


def _address(customer: Any) -> str:
    parts = [getattr(customer, name, "") for name in ("house", "street", "village")]
    return ", ".join(part for part in parts if part)


def bill_document(*, bill: Bill, acting_user: Any = None, with_link: bool = True) -> BillDocument:
    """The bill as its documents show it. `bill` comes from bill_get_for_access (operator, cycle, connection,
    customer and tariff loaded; the lines are kept on the bill); the meters and the payment link are a query each.
    Without `with_link` (a regulator reading it: they write nothing of the operator's), the document says how to pay
    instead."""
    lines = [
        BillDocumentLine(label=line.label, quantity=line.quantity, rate=line.rate, amount=line.amount)
        for line in bill.line_items
    ]
    version = bill.tariff_version
    definition = version.definition if version is not None and isinstance(version.definition, dict) else {}
    customer = bill.connection.customer
    return BillDocument(
        operator=bill.operator,
        bill_id=bill.pk,
        number=bill.number if bill.status != Bill.Status.DRAFT else "",
        status=bill.status,
        customer_name=customer.name,
        customer_phone=customer.phone or "",
        account=bill.account,
        address=_address(customer),
        cycle_code=bill.cycle.code,
        period_start=bill.cycle.start,
        period_end=bill.cycle.end,
        issued_on=bill.issued_at.date() if bill.issued_at else None,
        due_on=bill.due_on,
        metered=bill.metered,
        meter_serials=_meter_serials(bill) if bill.metered else [],
        previous_index=bill.previous_index,
        current_index=bill.current_index,
        consumption=bill.consumption,
        unit=str(definition.get("unit") or ""),
        tariff_name=version.tariff.name if version is not None else "",
        lines=lines,
        net=bill.net,
        vat=bill.vat,
        round_off=bill.round_off,
        total=bill.total,
        arrears=bill.arrears,
        credit=bill.credit,
        currency=bill.currency,
        payment_url=_payment_url(bill, acting_user) if with_link else "",
    )
