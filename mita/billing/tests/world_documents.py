"""The world of the bill documents' tests: operator's October 2026 billed and issued (world_billing), with arrears
on one account and credit on another before the run was approved, and the route R1 in a cluster."""

import datetime
from decimal import Decimal
from typing import Any

from mita.billing.models import Bill
from mita.billing.run import run_until_done
from mita.billing.services import billrun_approve, billrun_create
from mita.billing.tests.world_billing import billing_world
from mita.customers.models import Connection
from mita.ledger.services import charge_post
from mita.payments.services import payment_receive
from mita.registry.models import Cluster, ClusterAssignment

D = Decimal
ARREARS = D(1500)  # owed on R1-03 before October's bill
CREDIT = D(5000)  # paid in advance on R1-01


def old_charge(operator: Any, holder: str, amount: Decimal, reference: str) -> None:
    charge_post(
        operator=operator,
        holder=holder,
        head="water_sales",
        amount=amount,
        vat_rule="exempt",
        reference=reference,
        due_date=datetime.date(2026, 9, 30),
        acting_user=None,
    )


def pay(operator: Any, holder: str, amount: Decimal, key: str, *, on: datetime.date) -> Any:
    return payment_receive(
        operator=operator,
        channel="cash_office",
        amount=amount,
        account_reference=holder,
        idempotency_key=key,
        received_by=None,
        value_date=on,
    )


def issued_world(operator: Any, *, approve: bool = True) -> dict[str, Any]:
    """October 2026 computed (and, with `approve`, issued): bills by account in world["bills"]."""
    world = billing_world(operator, with_exceptions=False)
    p = operator.prefix
    cluster = Cluster.objects.create(code=f"CL-{p}", name=f"Hills of {p}")
    ClusterAssignment.objects.create(
        cluster=cluster, operator=operator, starts_on="2020-01-01", expires_on="2099-12-31"
    )
    Connection.objects.filter(operator=operator, route=world["routes"]["R1"]).update(cluster=cluster)
    world["cluster"] = cluster
    old_charge(operator, f"{p}-R1-03", ARREARS, "bill:september")
    old_charge(operator, f"{p}-R1-01", D(100), "bill:september-01")
    pay(operator, f"{p}-R1-01", D(100) + CREDIT, "advance-r1-01", on=datetime.date(2026, 9, 20))
    run = run_until_done(billrun_create(operator=operator, cycle=world["cycle"], acting_user=None, background=False))
    if approve:
        run = run_until_done(billrun_approve(run=run, acting_user=None, background=False))
    world["run"] = run
    world["bills"] = {bill.account: bill for bill in Bill.objects.filter(run=run).select_related("cycle")}
    return world
