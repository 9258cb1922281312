"""Operator A's world for the connection request types: the servicing world plus a billing officer, a treasurer,
a reconnection fee, a deposit schedule, and customers with active connections."""

import datetime
from decimal import Decimal
from typing import Any

from mita.accounts.roles import Role
from mita.customers.lifecycle import connection_status_change
from mita.customers.models import Connection
from mita.customers.tests.world import connection_of, customer_of
from mita.ledger.services import charge_post
from mita.payments.deposits import deposit_charge, deposit_rate_save
from mita.servicing.models import ServiceFee, WorkOrder
from mita.servicing.services import service_fee_set, work_order_complete
from mita.testing.factories import member

from .world import World


class WireWorld(World):
    def __init__(self, operator: Any, *, reconnection_fee: str = "5000") -> None:
        super().__init__(operator)
        self.billing = member(Role.BILLING_OFFICER, operator, name="Bill Billing")
        self.treasurer = member(Role.TREASURER, operator, name="Tess Treasurer")
        service_fee_set(
            operator=operator,
            kind=ServiceFee.Kind.RECONNECTION,
            utility="water",
            amount=Decimal(reconnection_fee),
            acting_user=self.admin,
        )
        for key, amount in (("SMALL", "2000"), ("MEDIUM", "5000"), ("LARGE", "8000")):
            deposit_rate_save(operator=operator, key=key, label=key, amount=Decimal(amount), acting_user=self.treasurer)
        self.jeanne = customer_of(operator)
        self.eric = customer_of(operator, name="Eric Mugisha", phone="+250788654321")
        self.tap = self.active(connection_of(operator, self.jeanne, "AAL-0001"))
        self.shop = self.active(connection_of(operator, self.eric, "AAL-0002"))

    def active(self, connection: Connection) -> Connection:
        return connection_status_change(connection=connection, status="active", reason="installed", acting_user=None)

    def bill(self, holder: str, amount: str, reference: str = "bill:1") -> Any:
        return charge_post(
            operator=self.operator,
            holder=holder,
            head="water_sales",
            amount=Decimal(amount),
            vat_rule="exempt",
            reference=reference,
            due_date=datetime.date(2026, 10, 31),
            acting_user=None,
        )

    def deposit(self, holder: str, amount: str) -> None:
        deposit_charge(
            operator=self.operator,
            holder=holder,
            amount=Decimal(amount),
            reference=f"deposit:{holder}",
            due_date=datetime.date(2026, 1, 31),
            acting_user=None,
        )
        self.pay(holder, amount)

    def work_order(self, request: Any, kind: str) -> WorkOrder:
        return WorkOrder.objects.get(request=request, kind=kind, state__in=["open", "in_progress"])

    def complete(self, request: Any, kind: str, result: dict[str, Any] | None = None, user: Any = None) -> WorkOrder:
        return work_order_complete(
            work_order=self.work_order(request, kind), result=result or {}, acting_user=user or self.technician
        )
