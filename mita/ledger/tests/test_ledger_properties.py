"""Random sequences of charges, payments, reversals and opening balances never break the ledger's rules."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from mita.ledger.models import Transfer
from mita.ledger.selectors import holder_balance, ledger_verify, trial_balance
from mita.ledger.services import (
    REVENUE_HEADS,
    charge_post,
    opening_balance_post,
    transfers_reverse,
    vat_for,
)
from mita.testing.factories import OperatorFactory

HOLDERS = ["connection:1", "connection:2", "connection:3"]
DAY = datetime.date(2026, 10, 31)
amounts = st.integers(min_value=1, max_value=2_000_000).map(Decimal)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()  # each example runs in a savepoint that teardown rolls back
        self.owed = dict.fromkeys(HOLDERS, Decimal("0"))
        self.open_references: dict[str, dict[str, Decimal]] = {}  # reference -> what it added per holder
        self.counter = 0
        self.calls: list[dict[str, object]] = []

    @initialize()
    def make_operator(self) -> None:
        self.operator = OperatorFactory()

    def _reference(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}:{self.counter}"

    @rule(
        holder=st.sampled_from(HOLDERS),
        head=st.sampled_from(sorted(REVENUE_HEADS)),
        amount=amounts,
        vat_rule=st.sampled_from(["standard", "zero", "exempt"]),
    )
    def charge(self, holder: str, head: str, amount: Decimal, vat_rule: str) -> None:
        reference = self._reference("bill")
        posted = charge_post(
            operator=self.operator,
            holder=holder,
            head=head,
            amount=amount,
            vat_rule=vat_rule,
            reference=reference,
            due_date=DAY,
            acting_user=None,
            idempotency_key=reference,
        )
        assert posted.total == amount + vat_for(operator=self.operator, net=amount, rule=vat_rule)
        self.owed[holder] += posted.total
        self.open_references[reference] = {holder: posted.total}

    @rule(holder=st.sampled_from(HOLDERS), amount=amounts)
    def opening_balance(self, holder: str, amount: Decimal) -> None:
        reference = self._reference("opening")
        opening_balance_post(
            operator=self.operator, holder=holder, amount=amount, as_of=DAY, reference=reference, acting_user=None
        )
        self.owed[holder] += amount
        self.open_references[reference] = {holder: amount}

    @rule(data=st.data())
    def replay_a_charge(self, data: st.DataObject) -> None:
        if not self.calls:
            return
        call = data.draw(st.sampled_from(self.calls))
        before = Transfer.objects.count()
        charge_post(operator=self.operator, due_date=DAY, acting_user=None, **call)
        assert Transfer.objects.count() == before

    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        if not self.open_references:
            return
        reference = data.draw(st.sampled_from(sorted(self.open_references)))
        transfers_reverse(operator=self.operator, reference=reference, reason="property test", acting_user=None)
        for holder, amount in self.open_references.pop(reference).items():
            self.owed[holder] -= amount

    @invariant()
    def balances_are_what_was_posted(self) -> None:
        if not hasattr(self, "operator"):
            return
        for holder, owed in self.owed.items():
            assert holder_balance(operator=self.operator, holder=holder) == owed

    @invariant()
    def every_transfer_balances_and_each_balance_is_the_sum_of_its_transfers(self) -> None:
        if not hasattr(self, "operator"):
            return
        assert trial_balance(operator=self.operator) == 0
        assert ledger_verify(operator=self.operator) == []

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)


@pytest.mark.django_db
def test_the_ledger_keeps_its_rules_through_random_sequences():
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=25, stateful_step_count=15, deadline=None, suppress_health_check=[HealthCheck.too_slow]
        ),
    )
