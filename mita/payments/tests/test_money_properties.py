"""Random sequences of charges, payments, suspense, voids, credit and reversals keep every rule of the money.

After every step: every transfer balances (trial balance zero), each cached balance equals the sum of its
transfers, allocations never exceed the charge or the payment, receipts are numbered without gaps, and
each customer account owes exactly what the model of the test says.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from mita.accounts.roles import Role
from mita.core.errors import Conflict
from mita.ledger.models import Charge
from mita.ledger.selectors import holder_balance, ledger_verify, trial_balance
from mita.ledger.services import charge_post
from mita.payments.models import Allocation, Payment, Receipt
from mita.payments.services import credit_apply, payment_assign, payment_receive, payment_void
from mita.testing.factories import OperatorFactory, member

HOLDERS = ["H-1", "H-2"]
DAY = datetime.date(2026, 10, 31)
amounts = st.integers(min_value=1, max_value=50_000).map(Decimal)


class MoneyMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.net = dict.fromkeys(HOLDERS, Decimal("0"))  # charges minus payments, per account
        self.bills: list[str] = []
        self.counter = 0

    @initialize()
    def setup(self) -> None:
        self.operator = OperatorFactory()
        self.treasurer = member(Role.TREASURER, self.operator)
        for holder in HOLDERS:  # each account exists once it has been charged
            self._charge(holder, Decimal("1"))

    def _next(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"

    def _charge(self, holder: str, amount: Decimal) -> None:
        reference = self._next("bill")
        charge_post(
            operator=self.operator,
            holder=holder,
            head="water_sales",
            amount=amount,
            vat_rule="standard",
            reference=reference,
            due_date=DAY + datetime.timedelta(days=self.counter),
            acting_user=None,
        )
        self.net[holder] += Charge.objects.filter(reference=reference).aggregate(t=Sum("total"))["t"]
        self.bills.append(reference)

    @rule(holder=st.sampled_from(HOLDERS), amount=amounts)
    def charge(self, holder: str, amount: Decimal) -> None:
        self._charge(holder, amount)

    @rule(holder=st.sampled_from(HOLDERS), amount=amounts, known=st.booleans())
    def pay(self, holder: str, amount: Decimal, known: bool) -> None:
        payment_receive(
            operator=self.operator,
            channel="cash_office",
            amount=amount,
            account_reference=holder if known else f"X{holder}",
            idempotency_key=self._next("key"),
            received_by=None,
        )
        if known:
            self.net[holder] -= amount

    @rule(data=st.data())
    def assign_from_suspense(self, data: st.DataObject) -> None:
        waiting = list(Payment.objects.filter(operator=self.operator, status=Payment.Status.IN_SUSPENSE))
        if not waiting:
            return
        payment = data.draw(st.sampled_from(waiting))
        holder = payment.account_reference.removeprefix("X")
        payment_assign(payment=payment, holder_reference=holder, acting_user=None)
        self.net[holder] -= payment.amount

    @rule(data=st.data())
    def void(self, data: st.DataObject) -> None:
        completed = list(Payment.objects.filter(operator=self.operator, status=Payment.Status.COMPLETED))
        if not completed:
            return
        payment = data.draw(st.sampled_from(completed))
        try:
            payment_void(
                payment=payment,
                reason="test",
                approved_by=self.treasurer,
                acting_user=None,
                approver_roles=frozenset({Role.TREASURER}),
            )
        except Conflict as refusal:  # its credit already paid other charges: refused, nothing changes
            assert refusal.code == "credit_already_used"
            return
        self.net[payment.holder] += payment.amount

    @rule(holder=st.sampled_from(HOLDERS))
    def apply_credit(self, holder: str) -> None:
        credit_apply(operator=self.operator, holder=holder, acting_user=None)  # moves credit, owes the same net

    @invariant()
    def money_rules_hold(self) -> None:
        if not hasattr(self, "operator"):
            return
        assert trial_balance(operator=self.operator) == 0
        assert ledger_verify(operator=self.operator) == []
        for holder, net in self.net.items():
            owed = holder_balance(operator=self.operator, holder=holder)
            credit = holder_balance(operator=self.operator, holder=holder, purpose="credit")
            assert owed - credit == net, (holder, owed, credit, net)
            assert credit >= 0
        live = Allocation.objects.filter(operator=self.operator, voided=False)
        for charge in Charge.objects.filter(operator=self.operator):
            assert (live.filter(charge=charge).aggregate(t=Sum("amount"))["t"] or 0) <= charge.total
        for payment in Payment.objects.filter(operator=self.operator):
            assert (live.filter(payment=payment).aggregate(t=Sum("amount"))["t"] or 0) <= payment.amount
        numbers = sorted(Receipt.objects.filter(operator=self.operator).values_list("sequence_number", flat=True))
        assert numbers == list(range(1, len(numbers) + 1))

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)


@pytest.mark.django_db
def test_money_keeps_its_rules_through_random_sequences():
    run_state_machine_as_test(
        MoneyMachine,
        settings=settings(
            max_examples=40, stateful_step_count=15, deadline=None, suppress_health_check=[HealthCheck.too_slow]
        ),
    )
