"""charge_post with the VAT a tariff computed (billing): posted as given instead of the VAT rule's, replayed by key,
refused when negative; holders_balances reads what many accounts owe and hold in one query."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mita.core.errors import Conflict, DomainError
from mita.ledger.selectors import holder_balance, holder_credit, holders_balances, ledger_verify, trial_balance
from mita.ledger.services import account_get, charge_post, holder_account, transfer_post

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 11, 11)


def _charge(operator, amount, vat, *, key=None, holder="AAL-1", reference="bill:AAL-B-2026-000001"):
    return charge_post(
        operator=operator,
        holder=holder,
        head="water_sales",
        amount=Decimal(amount),
        vat=vat,
        vat_rule="standard",
        reference=reference,
        due_date=DAY,
        acting_user=None,
        idempotency_key=key,
    )


def test_the_tariffs_vat_is_posted_as_given_instead_of_the_rule(operator_a):
    # 18% of 1,000 would be 180; the tariff taxed only part of the water and says 45
    posted = _charge(operator_a, "1000", Decimal("45"))
    assert (posted.net, posted.vat, posted.total) == (Decimal("1000"), Decimal("45"), Decimal("1045"))
    assert holder_balance(operator=operator_a, holder="AAL-1") == Decimal("1045")
    # zero VAT given is zero, not the rule's 18%
    assert _charge(operator_a, "500", Decimal("0"), reference="bill:2").vat == 0
    # without it, the rule as before
    assert _charge(operator_a, "100", None, reference="bill:3").vat == Decimal("18")
    assert trial_balance(operator=operator_a) == 0 and ledger_verify() == []


def test_a_replay_with_the_same_vat_returns_the_first_and_another_vat_is_a_conflict(operator_a):
    first = _charge(operator_a, "1000", Decimal("45"), key="k-1")
    assert _charge(operator_a, "1000", Decimal("45"), key="k-1").pk == first.pk
    with pytest.raises(Conflict):
        _charge(operator_a, "1000", Decimal("46"), key="k-1")
    assert holder_balance(operator=operator_a, holder="AAL-1") == Decimal("1045")


def test_negative_vat_is_refused(operator_a):
    with pytest.raises(DomainError) as refused:
        _charge(operator_a, "1000", Decimal("-1"))
    assert refused.value.code == "vat_invalid"


def test_holders_balances_reads_owed_and_credit_of_many_accounts_in_two_queries(operator_a):
    _charge(operator_a, "1000", Decimal("0"), holder="AAL-1")
    _charge(operator_a, "300", Decimal("0"), holder="AAL-2", reference="bill:b")
    # AAL-3 paid 250 ahead: its credit
    transfer_post(
        operator=operator_a,
        debit=account_get(operator=operator_a, code="clearing:cash_office"),
        credit=holder_account(operator=operator_a, holder="AAL-3", purpose="credit"),
        amount=Decimal("250"),
        kind="payment",
        reference="advance",
        value_date=DAY,
        acting_user=None,
    )
    with CaptureQueriesContext(connection) as queries:
        balances = holders_balances(operator=operator_a, holders=["AAL-1", "AAL-2", "AAL-3", "AAL-404"])
    assert len(queries) == 2  # the accounts by code, their balances by id
    assert balances["AAL-1"] == (Decimal("1000"), Decimal("0"))
    assert balances["AAL-2"] == (Decimal("300"), Decimal("0"))
    assert balances["AAL-3"] == (Decimal("0"), Decimal("250"))
    for holder, (owed, credit) in balances.items():  # the same as the one-by-one reads
        assert owed == holder_balance(operator=operator_a, holder=holder)
        assert credit == holder_credit(operator=operator_a, holder=holder)
    assert "AAL-404" not in balances
