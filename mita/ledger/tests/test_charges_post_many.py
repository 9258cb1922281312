"""charges_post_many: the ledger rows and balances of charge_post, for many charges in a few statements."""

import datetime
from decimal import Decimal

import pytest

from mita.ledger.models import Charge, Transfer
from mita.ledger.selectors import (
    account_balance,
    holder_balance,
    holder_credit,
    ledger_verify,
    trial_balance,
)
from mita.ledger.services import account_get, charge_post, holder_account, transfer_post
from mita.ledger.services_bulk import ChargeSpec, charges_post_many

pytestmark = pytest.mark.django_db
DUE, ISSUED = datetime.date(2026, 11, 26), datetime.date(2026, 11, 11)
D = Decimal
CHARGES = [("1", "water_sales", "1700", "306"), ("1", "other", "500", "0"), ("2", "water_sales", "340", "61"),
           ("3", "electricity_sales", "89", "0")]  # fmt: skip


def test_many_charges_at_once_leave_the_ledger_as_one_at_a_time_does(operator_a, operator_b):
    # one operator posts them one at a time, the other all at once
    for holder, head, net, vat in CHARGES:
        charge_post(
            operator=operator_a, holder=f"A-{holder}", head=head, amount=D(net), vat=D(vat), vat_rule="standard",
            reference=f"bill:{holder}", due_date=DUE, value_date=ISSUED, acting_user=None,
        )  # fmt: skip
    posted = charges_post_many(
        operator=operator_b,
        charges=[ChargeSpec(f"B-{h}", head, D(net), D(vat), f"bill:{h}") for h, head, net, vat in CHARGES],
        due_date=DUE,
        value_date=ISSUED,
        acting_user=None,
    )
    assert [(c.holder, c.head, c.net, c.vat, c.total) for c in posted] == [
        (f"B-{h}", head, D(net), D(vat), D(net) + D(vat)) for h, head, net, vat in CHARGES
    ]
    for holder in ("1", "2", "3"):
        assert holder_balance(operator=operator_b, holder=f"B-{holder}") == holder_balance(
            operator=operator_a, holder=f"A-{holder}"
        )
    for code in ("revenue:water_sales", "revenue:other", "revenue:electricity_sales", "vat_payable"):
        assert account_balance(account_get(operator=operator_b, code=code)) == account_balance(
            account_get(operator=operator_a, code=code)
        )
    a_transfers = Transfer.objects.filter(operator=operator_a).values_list("kind", "amount", "reference")
    b_transfers = Transfer.objects.filter(operator=operator_b).values_list("kind", "amount", "reference")
    assert sorted(a_transfers) == sorted(b_transfers) and len(b_transfers) == 6  # the VAT of two charges
    assert all(t.memo["charge"] in {c.pk for c in posted} for t in Transfer.objects.filter(operator=operator_b))
    assert trial_balance(operator=operator_b) == 0 and ledger_verify() == []


def test_a_customers_credit_clears_the_new_charges_at_once(operator_a):
    transfer_post(
        operator=operator_a,
        debit=account_get(operator=operator_a, code="clearing:cash_office"),
        credit=holder_account(operator=operator_a, holder="A-9", purpose="credit"),
        amount=D("500"),
        kind="payment",
        reference="advance:A-9",
        value_date=ISSUED,
        acting_user=None,
    )
    charges_post_many(
        operator=operator_a,
        charges=[
            ChargeSpec("A-9", "water_sales", D("800"), D("0"), "bill:9"),
            ChargeSpec("A-8", "water_sales", D("100"), D("0"), "bill:8"),
        ],
        due_date=DUE,
        value_date=ISSUED,
        acting_user=None,
    )
    assert holder_balance(operator=operator_a, holder="A-9") == D("300")
    assert holder_credit(operator=operator_a, holder="A-9") == 0
    assert holder_balance(operator=operator_a, holder="A-8") == D("100")
    assert Charge.objects.filter(operator=operator_a).count() == 2 and ledger_verify() == []


def test_nothing_is_posted_when_one_charge_is_wrong(operator_a):
    with pytest.raises(Exception) as refused:
        charges_post_many(
            operator=operator_a,
            charges=[
                ChargeSpec("A-1", "water_sales", D("10"), D("0"), "r"),
                ChargeSpec("A-2", "nonsense", D("1"), D("0"), "r"),
            ],
            due_date=DUE,
            value_date=ISSUED,
            acting_user=None,
        )
    assert getattr(refused.value, "code", "") == "head_unknown"
    assert not Charge.objects.filter(operator=operator_a).exists()
