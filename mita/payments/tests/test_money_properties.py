"""Random sequences of charges, payments, suspense, voids, credit, deposits, refunds, charge cancellations and
charge-backs and arrears moves (meter transfers) keep every rule of the money.

After every step: every transfer balances (trial balance zero), each cached balance equals the sum of its
transfers, allocations never exceed the charge or the payment, receipts are numbered without gaps, credit and
deposits never go negative, the receivable is exactly the open charges, and each customer account's position
(owed, less credit, deposit held, refunds waiting and deposit still owed) is what the model of the test says.
"""

import datetime
import os
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from mita.accounts.roles import Role
from mita.core.errors import Conflict, DomainError
from mita.ledger.models import Charge, Transfer
from mita.ledger.selectors import holder_balance, holder_credit, ledger_verify, trial_balance
from mita.ledger.services import arrears_move, charge_post
from mita.payments.corrections import charge_cancel, payment_reverse
from mita.payments.deposits import (
    DepositLevel,
    deposit_adjust,
    deposit_apply_to_final_bill,
    deposit_charge,
    deposit_level,
)
from mita.payments.models import Allocation, Payment, Receipt, Refund
from mita.payments.preferences import payment_settings_update
from mita.payments.refunds import refund_approve, refund_pay_out, refund_reject, refund_request
from mita.payments.selectors import charges_open
from mita.payments.services import credit_apply, payment_assign, payment_receive, payment_void
from mita.payments.tests.deposit_world import ledger_amount
from mita.testing.factories import OperatorFactory, member

HOLDERS = ["H-1", "H-2"]
DAY = datetime.date(2026, 10, 31)
amounts = st.integers(min_value=1, max_value=50_000).map(Decimal)


class MoneyMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        # Charges (not deposits) minus payments plus refunds paid out, per account: what it owes on balance.
        self.net = dict.fromkeys(HOLDERS, Decimal("0"))
        self.bills: list[str] = []
        self.counter = 0

    @initialize(advance_ex_vat=st.booleans())
    def setup(self, advance_ex_vat: bool) -> None:
        self.operator = OperatorFactory()
        # half the runs hold advances excluding VAT: the credit is then split over credit: and advance_vat:
        payment_settings_update(
            operator=self.operator,
            allocation_order="due_date",
            head_order=[],
            advance_ex_vat=advance_ex_vat,
            acting_user=None,
        )
        self.treasurer = member(Role.TREASURER, self.operator)
        self.cashier = member(Role.CASHIER, self.operator)
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

    @rule(
        holder=st.sampled_from(HOLDERS),
        amount=amounts,
        known=st.booleans(),
        channel=st.sampled_from(["cash_office", "momo"]),
    )
    def pay(self, holder: str, amount: Decimal, known: bool, channel: str) -> None:
        payment_receive(
            operator=self.operator,
            channel=channel,
            amount=amount,
            account_reference=holder if known else f"X{holder}",
            idempotency_key=self._next("key"),
            received_by=None,
            provider_reference=self._next("mtn") if channel == "momo" else "",
        )
        if known:
            self.net[holder] -= amount

    @rule(holder=st.sampled_from(HOLDERS), extra=amounts, channel=st.sampled_from(["cash_office", "momo"]))
    def overpay(self, holder: str, extra: Decimal, channel: str) -> None:
        """Pay what is owed and more: the rest is credit (to refund, or to pay the next charges)."""
        self.pay(holder, holder_balance(operator=self.operator, holder=holder) + extra, True, channel)

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
        except Conflict as refusal:  # its credit or deposit was used since: refused, nothing changes
            assert refusal.code in ("credit_already_used", "deposit_already_used")
            return
        if payment.holder:
            self.net[payment.holder] += payment.amount

    @rule(data=st.data())
    def charge_back(self, data: st.DataObject) -> None:
        taken = list(
            Payment.objects.filter(
                operator=self.operator,
                channel="momo",
                status__in=[Payment.Status.COMPLETED, Payment.Status.IN_SUSPENSE],
            )
        )
        if not taken:
            return
        self._charge_back(data.draw(st.sampled_from(taken)))

    def _charge_back(self, payment: Payment) -> None:
        payment_reverse(
            payment=payment, reason="charged back", provider_reference=self._next("cb"), acting_user=self.treasurer
        )  # always happens, whatever the payment's credit or deposit became
        if payment.holder:
            self.net[payment.holder] += payment.amount

    # Deposits ------------------------------------------------------------------------------------------

    @rule(holder=st.sampled_from(HOLDERS), amount=amounts)
    def charge_deposit(self, holder: str, amount: Decimal) -> None:
        deposit_charge(
            operator=self.operator,
            holder=holder,
            amount=amount,
            reference=self._next("deposit"),
            due_date=DAY + datetime.timedelta(days=self.counter),
            acting_user=self.treasurer,
        )  # owed, then held once paid: the account's position does not change

    @rule(holder=st.sampled_from(HOLDERS), level=st.integers(min_value=0, max_value=60_000).map(Decimal))
    def adjust_deposit(self, holder: str, level: Decimal) -> None:
        deposit_adjust(
            operator=self.operator, holder=holder, amount=level, reference=self._next("pkg"), acting_user=self.treasurer
        )

    @rule(holder=st.sampled_from(HOLDERS))
    def apply_deposit(self, holder: str) -> None:
        try:
            deposit_apply_to_final_bill(operator=self.operator, holder=holder, acting_user=self.treasurer)
        except Conflict as refusal:
            assert refusal.code == "refund_pending"

    # Refunds -------------------------------------------------------------------------------------------

    def _refundable(self) -> bool:
        return hasattr(self, "operator") and any(
            holder_credit(operator=self.operator, holder=holder) > 0
            or holder_balance(operator=self.operator, holder=holder, purpose="deposits") > 0
            for holder in HOLDERS
        )

    def _refunds_in(self, *statuses: str) -> bool:
        return hasattr(self, "operator") and Refund.objects.filter(operator=self.operator, status__in=statuses).exists()

    @precondition(_refundable)
    @rule(
        holder=st.sampled_from(HOLDERS),
        source=st.sampled_from(["credit", "deposit"]),
        share=st.integers(min_value=1, max_value=120),
    )
    def request_refund(self, holder: str, source: str, share: int) -> None:
        available = (
            holder_credit(operator=self.operator, holder=holder)
            if source == "credit"
            else holder_balance(operator=self.operator, holder=holder, purpose="deposits")
        )
        amount = (available * share / 100).quantize(Decimal("1"))
        if amount <= 0:
            return
        try:
            refund_request(
                operator=self.operator,
                holder=holder,
                amount=amount,
                source=source,
                reason="closing",
                payee_name="Payee",
                method="cash",
                acting_user=self.cashier,
                idempotency_key=self._next("refund"),
            )
        except DomainError as refusal:  # more than is available, or a deposit while the account owes
            assert refusal.code in ("refund_exceeds_available", "account_owes"), refusal.code
            assert share > 100 or refusal.code == "account_owes"

    @precondition(_refundable)
    @rule(holder=st.sampled_from(HOLDERS))
    def refund_the_credit(self, holder: str) -> None:
        """The usual end: the whole credit refunded, approved and paid out in one go."""
        credit = holder_credit(operator=self.operator, holder=holder)
        if credit <= 0:
            return
        refund = refund_request(
            operator=self.operator,
            holder=holder,
            amount=credit,
            source="credit",
            reason="closing",
            payee_name="Payee",
            method="mobile_money",
            network="momo",
            payee_phone="+250788000001",
            acting_user=self.cashier,
            idempotency_key=self._next("refund"),
        )
        refund_approve(refund=refund, acting_user=self.treasurer)
        refund_pay_out(refund=refund, payout_reference=self._next("payout"), acting_user=self.treasurer)
        self.net[holder] += credit

    def _refund(self, data: st.DataObject, *statuses: str) -> Refund | None:
        waiting = list(Refund.objects.filter(operator=self.operator, status__in=statuses))
        return data.draw(st.sampled_from(waiting)) if waiting else None

    @precondition(lambda self: self._refunds_in(Refund.Status.REQUESTED))
    @rule(data=st.data())
    def approve_refund(self, data: st.DataObject) -> None:
        if refund := self._refund(data, Refund.Status.REQUESTED):
            refund_approve(refund=refund, acting_user=self.treasurer)

    @precondition(lambda self: self._refunds_in(Refund.Status.REQUESTED, Refund.Status.APPROVED))
    @rule(data=st.data())
    def reject_refund(self, data: st.DataObject) -> None:
        if refund := self._refund(data, Refund.Status.REQUESTED, Refund.Status.APPROVED):
            refund_reject(refund=refund, reason="no", acting_user=self.treasurer)

    @precondition(lambda self: self._refunds_in(Refund.Status.APPROVED))
    @rule(data=st.data())
    def pay_out_refund(self, data: st.DataObject) -> None:
        if refund := self._refund(data, Refund.Status.APPROVED):
            refund_pay_out(refund=refund, payout_reference="", acting_user=self.treasurer)
            self.net[refund.holder] += refund.amount

    # Charge cancellation -------------------------------------------------------------------------------

    @rule(data=st.data())
    def cancel_charge(self, data: st.DataObject) -> None:
        live = list(Charge.objects.filter(operator=self.operator, cancellation__isnull=True).exclude(head="chargeback"))
        if not live:
            return
        charge = data.draw(st.sampled_from(live))
        try:
            charge_cancel(charge=charge, reason="wrong", acting_user=self.cashier, approved_by=self.treasurer)
        except Conflict as refusal:  # a deposit already applied or refunded; arrears moved with a meter
            assert refusal.code in ("deposit_already_used", "charge_moved"), refusal.code
            return
        if charge.head != "deposit":
            self.net[charge.holder] -= charge.total

    # Arrears moving with a meter ---------------------------------------------------------------------------

    @rule(source=st.sampled_from(HOLDERS))
    def move_arrears(self, source: str) -> None:
        """A meter transfer: exactly what one account owes moves to the other (unpaid deposits are cancelled, credit
        and deposit held stay); the new account's credit may pay it at once, which changes no position."""
        target = next(holder for holder in HOLDERS if holder != source)
        reference = self._next("move")
        # never refused: an unpaid deposit is cancelled, or only its unpaid part where a charge-back kept it paid
        charge = arrears_move(
            operator=self.operator, from_holder=source, to_holder=target, reference=reference, acting_user=None
        )
        assert holder_balance(operator=self.operator, holder=source) == 0
        moved = charge.total if charge is not None else Decimal("0")
        self.net[source] -= moved
        self.net[target] += moved
        transfers = Transfer.objects.filter(operator=self.operator).count()
        again = arrears_move(
            operator=self.operator, from_holder=source, to_holder=target, reference=reference, acting_user=None
        )
        assert again == charge and Transfer.objects.filter(operator=self.operator).count() == transfers

    @rule(holder=st.sampled_from(HOLDERS))
    def apply_credit(self, holder: str) -> None:
        credit_apply(operator=self.operator, holder=holder, acting_user=None)  # moves credit, owes the same net

    def _kept_by_charge_backs(self, holder: str) -> Decimal:
        """The deposit charge-backs kept paid for the account: what they held again, in the transfers of their
        charge-back charges (payments.corrections._chargeback_kept_deposits)."""
        kept = Transfer.objects.filter(
            operator=self.operator,
            kind=Transfer.Kind.DEPOSIT,
            credit__code=f"deposits:{holder}",
            reference__startswith="chargeback:",
        ).aggregate(t=Sum("amount"))["t"]
        return kept or Decimal("0")

    def _refunded_deposits(self, holder: str) -> Decimal:
        """The account's deposit refunds, waiting or paid out (not rejected)."""
        refunds = Refund.objects.filter(
            operator=self.operator,
            holder=holder,
            source=Refund.Source.DEPOSIT,
            status__in=[Refund.Status.REQUESTED, Refund.Status.APPROVED, Refund.Status.PAID],
        )
        return refunds.aggregate(t=Sum("amount"))["t"] or Decimal("0")

    @invariant()
    def money_rules_hold(self) -> None:
        if not hasattr(self, "operator"):
            return
        assert trial_balance(operator=self.operator) == 0
        assert ledger_verify(operator=self.operator) == []
        pending = Refund.objects.filter(
            operator=self.operator, status__in=[Refund.Status.REQUESTED, Refund.Status.APPROVED]
        )
        unpaid_deposits = Decimal("0")
        for holder, net in self.net.items():
            owed = holder_balance(operator=self.operator, holder=holder)
            credit = holder_credit(operator=self.operator, holder=holder)
            held_vat = holder_balance(operator=self.operator, holder=holder, purpose="advance_vat")
            assert held_vat >= 0 and held_vat <= credit, (holder, held_vat, credit)
            held = holder_balance(operator=self.operator, holder=holder, purpose="deposits")
            reserved = pending.filter(holder=holder).aggregate(t=Sum("amount"))["t"] or Decimal("0")
            open_charges = charges_open(operator=self.operator, holder=holder)
            unpaid = sum((c.open_amount for c in open_charges if c.head == "deposit"), Decimal("0"))
            unpaid_deposits += unpaid
            assert owed - credit - held - reserved - unpaid == net, (holder, owed, credit, held, reserved, unpaid, net)
            assert owed == sum((c.open_amount for c in open_charges), Decimal("0")), (holder, owed)
            assert credit >= 0 and held >= 0, (holder, credit, held)
            # what is held always covers what was paid on deposit charges still open (so they can be cancelled),
            # except the part a charge-back keeps paid: deposit this payment paid that was lowered, applied or refunded
            # since stays paid on its charge with nothing held for it (the customer owes it as the charge-back;
            # cancelling that charge is refused, deposit_already_used); and deposit refunded, waiting or paid out,
            # which the pool gave up before a charge-back reopened the charge it had paid
            deposit_paid = sum((c.allocated for c in open_charges if c.head == "deposit"), Decimal("0"))
            if deposit_paid:
                covered = held + self._refunded_deposits(holder)
                assert covered >= deposit_paid - self._kept_by_charge_backs(holder), (holder, held, deposit_paid)
        assert ledger_amount(self.operator, "refunds_payable") == (pending.aggregate(t=Sum("amount"))["t"] or 0)
        assert ledger_amount(self.operator, "deposits_billed") == unpaid_deposits
        live = Allocation.objects.filter(operator=self.operator, voided=False)
        to_charge = dict(live.values_list("charge").annotate(t=Sum("amount")).values_list("charge", "t"))
        for charge_id, total in Charge.objects.filter(operator=self.operator).values_list("pk", "total"):
            assert to_charge.get(charge_id, 0) <= total, (charge_id, to_charge.get(charge_id), total)
        from_payment = dict(
            live.filter(payment__isnull=False)
            .values_list("payment")
            .annotate(t=Sum("amount"))
            .values_list("payment", "t")
        )
        for payment_id, amount in Payment.objects.filter(operator=self.operator).values_list("pk", "amount"):
            assert from_payment.get(payment_id, 0) <= amount, (payment_id, from_payment.get(payment_id), amount)
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
            max_examples=int(os.environ.get("MITA_MONEY_EXAMPLES", "25")),
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


@pytest.mark.django_db
def test_a_charge_back_while_a_deposit_refund_waits_keeps_the_rules():
    # A sequence the random runs found: part of the deposit is being refunded when the payment that paid most of it
    # is charged back. What the pool can no longer give back stays paid on the deposit charge (owed as the
    # charge-back); the rest of what is paid on it is the refund's, waiting and then paid out.
    machine = MoneyMachine()
    try:
        machine.setup(advance_ex_vat=False)
        machine.overpay(holder="H-1", extra=Decimal("1"), channel="cash_office")  # 1 of credit
        machine.charge_deposit(holder="H-1", amount=Decimal("1852"))
        machine.apply_credit(holder="H-1")  # the credit pays 1 of the deposit
        machine.overpay(holder="H-1", extra=Decimal("1"), channel="momo")  # MoMo pays the other 1,851, and 1 more
        machine.request_refund(holder="H-1", source="deposit", share=1)  # 19 of the 1,852 held, waiting
        machine.money_rules_hold()
        machine._charge_back(Payment.objects.get(operator=machine.operator, channel="momo"))
        machine.money_rules_hold()
        refund = Refund.objects.get(operator=machine.operator, source=Refund.Source.DEPOSIT)
        assert refund.amount == Decimal("19")
        assert machine._kept_by_charge_backs("H-1") == Decimal("18")
        refund_approve(refund=refund, acting_user=machine.treasurer)
        refund_pay_out(refund=refund, payout_reference="", acting_user=machine.treasurer)
        machine.net["H-1"] += refund.amount
        machine.money_rules_hold()
    finally:
        machine.teardown()


@pytest.mark.django_db
@pytest.mark.parametrize("then", ["lower", "terminate", "move"])
def test_a_deposit_charged_back_after_it_was_lowered_can_still_be_lowered_applied_or_moved(then):
    # A sequence the random runs found: a deposit paid by MoMo is lowered (given back as credit), the payment is
    # charged back (the given-back part stays paid on the deposit charge, owed as the charge-back) and the deposit
    # is raised again. Lowering it, applying it on termination, or moving the account's arrears with its meter was
    # refused: cancelling that deposit charge whole would have given its paid part back a second time. Only what is
    # still owed on it is cancelled now.
    machine = MoneyMachine()
    try:
        machine.setup(advance_ex_vat=True)
        machine.charge(holder="H-2", amount=Decimal("39997"))
        machine.charge_deposit(holder="H-2", amount=Decimal("9073"))
        machine.overpay(holder="H-2", extra=Decimal("448"), channel="momo")  # pays the bill and the deposit
        machine.adjust_deposit(holder="H-2", level=Decimal("694"))  # 8,379 of the deposit given back as credit
        machine.overpay(holder="H-2", extra=Decimal("33389"), channel="cash_office")
        machine._charge_back(Payment.objects.get(operator=machine.operator, channel="momo"))
        machine.money_rules_hold()
        first = Charge.objects.get(operator=machine.operator, head="deposit")
        assert machine._kept_by_charge_backs("H-2") == Decimal("8379")
        machine.adjust_deposit(holder="H-2", level=Decimal("26471"))  # owed: 694 on the first charge, 25,777 new
        machine.money_rules_hold()
        if then == "lower":
            machine.adjust_deposit(holder="H-2", level=Decimal("240"))
            assert deposit_level(operator=machine.operator, holder="H-2") == DepositLevel(
                held=Decimal("0"), unpaid=Decimal("240")
            )
        else:
            if then == "terminate":
                machine.apply_deposit(holder="H-2")
            else:  # a meter transfer: what H-2 owes moves to H-1; an unpaid deposit is not arrears
                machine.move_arrears(source="H-2")
            assert deposit_level(operator=machine.operator, holder="H-2") == DepositLevel(
                held=Decimal("0"), unpaid=Decimal("0")
            )
        machine.money_rules_hold()
        first.refresh_from_db()
        assert first.cancellation.moved_to_credit == 0  # nothing given back twice
        assert Allocation.objects.filter(charge=first, voided=False).aggregate(t=Sum("amount"))["t"] == Decimal("8379")
        assert holder_credit(operator=machine.operator, holder="H-2") == 0
    finally:
        machine.teardown()
