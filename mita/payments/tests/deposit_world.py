"""The small world the deposit, refund and correction tests share: charges, payments, balances, people."""

import datetime
import uuid
from decimal import Decimal

from django.db.models import Sum

from mita.ledger.models import Transfer
from mita.ledger.selectors import holder_balance
from mita.ledger.services import account_get, charge_post
from mita.payments.deposits import deposit_charge
from mita.payments.refunds import refund_request
from mita.payments.services import payment_receive

HOLDER = "AAL-0001"
DUE = datetime.date(2026, 10, 31)


def bill(operator, amount, reference="bill:1", holder=HOLDER, due=DUE, vat_rule="exempt"):
    return charge_post(
        operator=operator,
        holder=holder,
        head="water_sales",
        amount=Decimal(amount),
        vat_rule=vat_rule,
        reference=reference,
        due_date=due,
        acting_user=None,
    )


def pay(operator, amount, holder=HOLDER, channel="cash_office", key=None, user=None):
    return payment_receive(
        operator=operator,
        channel=channel,
        amount=Decimal(amount),
        account_reference=holder,
        idempotency_key=key or str(uuid.uuid4()),
        received_by=user,
        provider_reference=f"P-{uuid.uuid4().hex[:8]}" if channel in ("momo", "mpesa", "online") else "",
    )


def deposit(operator, amount, holder=HOLDER, reference="deposit:1", user=None, due=DUE):
    return deposit_charge(
        operator=operator, holder=holder, amount=Decimal(amount), reference=reference, due_date=due, acting_user=user
    )


def request_refund(operator, user, amount, holder=HOLDER, source="credit", key=None, **fields):
    return refund_request(
        operator=operator,
        holder=holder,
        amount=Decimal(amount),
        source=source,
        reason=fields.pop("reason", "account closed"),
        payee_name=fields.pop("payee_name", "Jeanne Uwase"),
        method=fields.pop("method", "cash"),
        acting_user=user,
        idempotency_key=key or str(uuid.uuid4()),
        **fields,
    )


def balances(operator, holder=HOLDER):
    """(owes, credit, deposit held) of a customer account."""
    return tuple(
        holder_balance(operator=operator, holder=holder, purpose=p) for p in ("receivable", "credit", "deposits")
    )


def money(*values):
    return tuple(Decimal(str(v)) for v in values)


def ledger_amount(operator, code):
    """An account's balance on its normal side, summed from its transfers (however its totals are cached)."""
    account = account_get(operator=operator, code=code)
    debits = Transfer.objects.filter(debit=account).aggregate(t=Sum("amount"))["t"] or Decimal("0")
    credits = Transfer.objects.filter(credit=account).aggregate(t=Sum("amount"))["t"] or Decimal("0")
    return debits - credits if account.debit_normal else credits - debits
