"""What the cashier-session tests share: a charged customer account, cash taken, counts, and the cash accounts."""

import datetime
import uuid
from decimal import Decimal
from typing import Any

from mita.accounts.models import Membership
from mita.ledger.selectors import operator_account_balance
from mita.ledger.services import charge_post
from mita.payments.models import Payment
from mita.payments.services import payment_receive

HOLDER = "AAL-0001"


def charge(operator: Any, amount: str = "100000", holder: str = HOLDER, reference: str = "bill:1") -> Any:
    return charge_post(
        operator=operator,
        holder=holder,
        head="water_sales",
        amount=Decimal(amount),
        vat_rule="exempt",
        reference=reference,
        due_date=datetime.date(2026, 10, 31),
        acting_user=None,
    )


def take(
    operator: Any, user: Any, amount: str, *, channel: str = "cash_office", reference: str = HOLDER, key: str = ""
) -> Payment:
    """Cash (or another channel) taken by a user for the account."""
    return payment_receive(
        operator=operator,
        channel=channel,
        amount=Decimal(amount),
        account_reference=reference,
        idempotency_key=key or str(uuid.uuid4()),
        received_by=user,
    )


def cash_account(operator: Any, code: str) -> Decimal:
    """The balance of a ledger account by its code, e.g. "clearing:cash_office", "cash_over_short"."""
    return operator_account_balance(operator=operator, code=code)


def also(user: Any, role: str, operator: Any) -> Any:
    """Give a user a second role at the operator."""
    Membership.objects.create(user=user, role=role, operator=operator)
    return user
