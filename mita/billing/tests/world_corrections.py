"""The corrections tests' world: operator A's October 2026 bills issued (billing_world without the exceptions), and
helpers to pay an account and to read what it owes."""

import uuid
from decimal import Decimal
from typing import Any

from mita.billing.models import Bill
from mita.billing.run import run_until_done
from mita.billing.services import billrun_approve, billrun_create
from mita.billing.tests.world_billing import billing_world


def issued_world(operator: Any, user: Any = None) -> dict[str, Any]:
    world = billing_world(operator, with_exceptions=False)
    run = billrun_create(operator=operator, cycle=world["cycle"], acting_user=user, background=False)
    run = run_until_done(run)
    run = run_until_done(billrun_approve(run=run, acting_user=user, background=False))
    world["run"] = run
    world["bills"] = {bill.account: bill for bill in Bill.objects.filter(run=run).select_related("cycle")}
    world["tap_bill"] = world["bills"][world["tap"].number]
    return world


def pay(operator: Any, account: str, amount: Decimal) -> Any:
    from mita.payments.services import payment_receive

    return payment_receive(
        operator=operator,
        channel="cash_office",
        amount=amount,
        account_reference=account,
        idempotency_key=str(uuid.uuid4()),
        received_by=None,
    )
