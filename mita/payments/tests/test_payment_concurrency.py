"""Concurrent payments on a real database: one payment per key, receipts without gaps or duplicates."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum

from mita.core.models import Sequence
from mita.ledger.models import Transfer
from mita.ledger.selectors import holder_balance, ledger_verify
from mita.ledger.services import charge_post, holder_account
from mita.payments.models import Allocation, Payment, Receipt
from mita.payments.numbering import receipts_number_all
from mita.payments.services import payment_receive
from mita.testing.threads import in_threads

HOLDER = "AAL-0001"


def bill(operator, amount: str, reference: str) -> None:
    charge_post(
        operator=operator,
        holder=HOLDER,
        head="water_sales",
        amount=Decimal(amount),
        vat_rule="exempt",
        reference=reference,
        due_date=datetime.date(2026, 10, 31),
        acting_user=None,
    )


def cash(operator, amount: str, key: str, holder: str = HOLDER):
    """A cash payment at the office into `holder`'s account, idempotent by `key`, taken by no one in particular."""
    return payment_receive(
        operator=operator,
        channel="cash_office",
        amount=Decimal(amount),
        account_reference=holder,
        idempotency_key=key,
        received_by=None,
    )


@pytest.fixture
def billed(operator_a):
    bill(operator_a, "100000", "bill:1")
    return operator_a


@pytest.mark.django_db(transaction=True)
def test_fifty_identical_payments_at_once_make_one_payment_and_one_set_of_transfers(billed):
    def receive(_index: int) -> int:
        return payment_receive(
            operator=billed,
            channel="mpesa",
            amount=Decimal("1500"),
            account_reference=HOLDER,
            idempotency_key="mpesa:RKTQDM7W6S",
            provider_reference="RKTQDM7W6S",
            received_by=None,
        ).pk

    results = in_threads(receive, 50)
    assert not [r for r in results if isinstance(r, Exception)], {repr(r) for r in results}
    assert len(set(results)) == 1
    payment = Payment.objects.get()
    assert Transfer.objects.filter(reference=payment.ledger_reference).count() == 1
    assert Receipt.objects.count() == 1
    assert holder_balance(operator=billed, holder=HOLDER) == Decimal("98500")


@pytest.mark.django_db(transaction=True)
def test_concurrent_payments_get_receipts_without_gaps_or_duplicates(billed):
    def receive(index: int) -> str:
        return cash(billed, "100", f"till:{index}").receipt.number

    results = in_threads(receive, 20)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(results) == [f"AAL-R-{n:06d}" for n in range(1, 21)]
    assert holder_balance(operator=billed, holder=HOLDER) == Decimal("98000")
    assert ledger_verify() == []


@pytest.mark.django_db(transaction=True)
def test_payments_at_once_never_clear_more_of_a_charge_than_it_asks(operator_a):
    # Each payment reads the account's open charges after taking its lock (on PostgreSQL in the same round trip):
    # one that read them before would see the bill still open and clear it again.
    bill(operator_a, "1000", "bill:small")

    def receive(index: int) -> int:
        return cash(operator_a, "300", f"clear:{index}").pk

    results = in_threads(receive, 12)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Allocation.objects.filter(charge__reference="bill:small").aggregate(paid=Sum("amount"))["paid"] == 1000
    assert holder_balance(operator=operator_a, holder=HOLDER) == 0
    assert holder_balance(operator=operator_a, holder=HOLDER, purpose="credit") == Decimal("2600")  # 3,600 - 1,000
    assert ledger_verify() == []


@pytest.mark.django_db(transaction=True)
def test_payments_to_many_accounts_at_once_are_numbered_in_batches_without_gaps(operator_a):
    holders = [f"AAL-{number:04d}" for number in range(1, 9)]
    for holder in holders:
        holder_account(operator=operator_a, holder=holder, purpose="receivable")

    def receive(index: int) -> tuple[int, str]:
        payment = cash(operator_a, "100", f"field:{index}", holder=holders[index % len(holders)])
        return payment.pk, payment.receipt.number

    results = in_threads(receive, 40)
    assert not [r for r in results if isinstance(r, Exception)], results
    # each payment answered with its own number, the one the database holds
    assert dict(results) == dict(Receipt.objects.values_list("payment_id", "number"))
    assert sorted(number for _pk, number in results) == [f"AAL-R-{n:06d}" for n in range(1, 41)]
    assert ledger_verify() == []


@pytest.mark.django_db
def test_a_receipt_left_waiting_by_a_crash_is_numbered_by_the_next_payment_or_the_minute_task(billed):
    first = cash(billed, "100", "k1")
    # a payment committed, then the process died before numbering its receipt
    with transaction.atomic():
        stranded = cash(billed, "100", "k2")
        Receipt.objects.filter(payment=stranded).update(sequence_number=None, number=None)
        Sequence.objects.filter(operator=billed, name="receipt").update(last_value=1)
    assert receipts_number_all() == 1
    assert Receipt.objects.get(payment=stranded).number == "AAL-R-000002"
    Receipt.objects.filter(payment=stranded).update(sequence_number=None, number=None)
    Sequence.objects.filter(operator=billed, name="receipt").update(last_value=1)
    third = cash(billed, "100", "k3")
    # the next payment numbers the waiting one first: numbers follow the order payments were taken
    assert Receipt.objects.get(payment=stranded).number == "AAL-R-000002"
    assert (first.receipt.number, third.receipt.number) == ("AAL-R-000001", "AAL-R-000003")
    assert receipts_number_all() == 0
