"""Concurrent payments on a real database: one payment per key, receipts without gaps or duplicates."""

import datetime
from decimal import Decimal

import pytest

from mita.ledger.models import Transfer
from mita.ledger.selectors import holder_balance, ledger_verify
from mita.ledger.services import charge_post
from mita.payments.models import Payment, Receipt
from mita.payments.services import payment_receive
from mita.testing.threads import in_threads

HOLDER = "AAL-0001"


@pytest.fixture
def billed(operator_a):
    charge_post(
        operator=operator_a,
        holder=HOLDER,
        head="water_sales",
        amount=Decimal("100000"),
        vat_rule="exempt",
        reference="bill:1",
        due_date=datetime.date(2026, 10, 31),
        acting_user=None,
    )
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
        return payment_receive(
            operator=billed,
            channel="cash_office",
            amount=Decimal("100"),
            account_reference=HOLDER,
            idempotency_key=f"till:{index}",
            received_by=None,
        ).receipt.number

    results = in_threads(receive, 20)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(results) == [f"AAL-R-{n:06d}" for n in range(1, 21)]
    assert holder_balance(operator=billed, holder=HOLDER) == Decimal("98000")
    assert ledger_verify() == []
