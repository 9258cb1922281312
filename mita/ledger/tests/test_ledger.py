"""The ledger: double entry, append-only, balances kept with each transfer, reversals, charges, idempotency."""

import datetime
import io
import itertools
import os
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction

from mita.core.errors import DomainError
from mita.core.prepared import writes_joined
from mita.ledger import services as ledger_services
from mita.ledger.models import Account, BalanceShard, Charge, Transfer
from mita.ledger.selectors import account_balance, holder_balance, ledger_verify, trial_balance
from mita.ledger.services import (
    account_get,
    charge_post,
    holder_account,
    opening_balance_post,
    transfer_post,
    transfers_reverse,
)

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 10, 31)


def charge(operator, user, amount="1200", *, holder="connection:1", head="water_sales", rule="standard", **extra):
    return charge_post(
        operator=operator,
        holder=holder,
        head=head,
        amount=Decimal(amount),
        vat_rule=rule,
        reference=extra.pop("reference", "bill:AAL-0001"),
        due_date=DAY,
        acting_user=user,
        **extra,
    )


def pay(operator, user, amount, *, holder="connection:1", reference="receipt:AAL-R-0001"):
    return transfer_post(
        operator=operator,
        debit=account_get(operator=operator, code="clearing:cash_office"),
        credit=holder_account(operator=operator, holder=holder, purpose="receivable"),
        amount=Decimal(amount),
        kind=Transfer.Kind.PAYMENT,
        reference=reference,
        value_date=DAY,
        acting_user=user,
    )


def balance_of(operator, code):
    return account_balance(Account.objects.get(operator=operator, code=code))


def test_a_charge_debits_the_receivable_and_credits_revenue_and_vat(operator_a, admin_a):
    # when a connection is charged 1,200 RWF of water with standard VAT (18%)
    posted = charge(operator_a, admin_a)
    # then the customer owes 1,416, revenue has 1,200 and VAT payable 216
    assert (posted.net, posted.vat, posted.total) == (Decimal("1200"), Decimal("216"), Decimal("1416"))
    assert holder_balance(operator=operator_a, holder="connection:1") == Decimal("1416")
    assert balance_of(operator_a, "revenue:water_sales") == Decimal("1200")
    assert balance_of(operator_a, "vat_payable") == Decimal("216")
    assert trial_balance(operator=operator_a) == 0
    assert ledger_verify() == []


def test_vat_is_rounded_once_to_the_currency(operator_a, admin_a):
    posted = charge(operator_a, admin_a, "333", reference="bill:odd")
    assert posted.vat == Decimal("60")  # 59.94 RWF rounds half up to 60: RWF has no minor unit


def test_exempt_and_zero_rated_charges_have_no_vat(operator_a, admin_a):
    assert charge(operator_a, admin_a, rule="exempt", reference="b1").vat == 0
    assert charge(operator_a, admin_a, rule="zero", reference="b2").vat == 0
    assert Transfer.objects.filter(kind=Transfer.Kind.VAT).count() == 0


def test_a_payment_reduces_what_the_customer_owes(operator_a, admin_a):
    charge(operator_a, admin_a)
    pay(operator_a, admin_a, "416")
    assert holder_balance(operator=operator_a, holder="connection:1") == Decimal("1000")
    assert balance_of(operator_a, "clearing:cash_office") == Decimal("416")


def test_reversing_a_bill_restores_the_balance_and_keeps_the_history(operator_a, admin_a):
    charge(operator_a, admin_a)
    reversals = transfers_reverse(
        operator=operator_a, reference="bill:AAL-0001", reason="wrong index", acting_user=admin_a
    )
    assert len(reversals) == 2 and all(r.kind == Transfer.Kind.REVERSAL for r in reversals)
    assert holder_balance(operator=operator_a, holder="connection:1") == 0
    assert balance_of(operator_a, "vat_payable") == 0
    assert Transfer.objects.filter(reference="bill:AAL-0001").count() == 4
    with pytest.raises(DomainError) as again:
        transfers_reverse(operator=operator_a, reference="bill:AAL-0001", reason="twice", acting_user=admin_a)
    assert again.value.code == "nothing_to_reverse"


def test_the_database_lets_a_transfer_be_reversed_once(operator_a, admin_a):
    """transfer_reverses_once: unique where set (a partial index), so the many transfers reversing nothing pass."""
    charge(operator_a, admin_a)
    original = Transfer.objects.filter(reference="bill:AAL-0001").first()

    def reversal() -> Transfer:
        return transfer_post(
            operator=operator_a,
            debit=original.credit,
            credit=original.debit,
            amount=original.amount,
            kind=Transfer.Kind.REVERSAL,
            reference="bill:AAL-0001",
            value_date=DAY,
            acting_user=admin_a,
            reverses=original,
        )

    first = reversal()
    with pytest.raises(IntegrityError), transaction.atomic():
        reversal()
    assert list(original.reversed_by.all()) == [first]
    assert Transfer.objects.filter(reverses__isnull=True).count() == 2  # the charge's two, unaffected


def test_the_database_refuses_to_change_or_delete_a_transfer(operator_a, admin_a):
    charge(operator_a, admin_a)
    transfer = Transfer.objects.first()
    for statement in (
        f"UPDATE ledger_transfer SET amount = 1 WHERE id = {transfer.pk}",
        f"DELETE FROM ledger_transfer WHERE id = {transfer.pk}",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    transfer.refresh_from_db()
    assert transfer.amount == Decimal("1200")


def test_a_replayed_charge_returns_the_first_and_posts_nothing_more(operator_a, admin_a):
    first = charge(operator_a, admin_a, idempotency_key="k-1")
    again = charge(operator_a, admin_a, idempotency_key="k-1")
    assert again.pk == first.pk
    assert Charge.objects.count() == 1 and Transfer.objects.count() == 2


def test_the_same_key_with_another_body_is_a_conflict(operator_a, admin_a):
    charge(operator_a, admin_a, idempotency_key="k-2")
    with pytest.raises(DomainError) as conflict:
        charge(operator_a, admin_a, "999", idempotency_key="k-2")
    assert conflict.value.status == 409 and conflict.value.code == "idempotency_key_reused"
    assert Charge.objects.count() == 1


def test_opening_arrears_post_with_their_as_of_date_and_no_vat(operator_a, admin_a):
    arrears = opening_balance_post(
        operator=operator_a,
        holder="connection:9",
        amount=Decimal("5400"),
        as_of=datetime.date(2026, 6, 30),
        reference="opening:connection:9",
        acting_user=admin_a,
    )
    assert arrears.is_opening_balance and arrears.vat == 0 and arrears.due_date == datetime.date(2026, 6, 30)
    assert holder_balance(operator=operator_a, holder="connection:9") == Decimal("5400")
    assert Transfer.objects.get(reference="opening:connection:9").value_date == datetime.date(2026, 6, 30)


@pytest.mark.parametrize(
    ("amount", "head", "rule", "code"),
    [
        ("0", "water_sales", "standard", "amount_invalid"),
        ("-5", "water_sales", "standard", "amount_invalid"),
        ("10", "beer_sales", "standard", "head_unknown"),
        ("10", "water_sales", "luxury", "vat_rule_unknown"),
    ],
)
def test_a_bad_charge_is_refused_with_a_reason_and_posts_nothing(operator_a, admin_a, amount, head, rule, code):
    with pytest.raises(DomainError) as refusal:
        charge(operator_a, admin_a, amount, head=head, rule=rule)
    assert refusal.value.code == code
    assert not Transfer.objects.exists() and not Charge.objects.exists()


def test_a_float_is_never_money(operator_a, admin_a):
    with pytest.raises(TypeError):
        transfer_post(
            operator=operator_a,
            debit=account_get(operator=operator_a, code="clearing:bank"),
            credit=account_get(operator=operator_a, code="suspense"),
            amount=1.5,
            kind="payment",
            reference="x",
            value_date=DAY,
            acting_user=admin_a,
        )


def test_accounts_of_two_operators_never_meet_in_a_transfer(operator_a, operator_b, admin_a):
    with pytest.raises(DomainError, match="Both accounts must belong to the operator"):
        transfer_post(
            operator=operator_a,
            debit=account_get(operator=operator_a, code="clearing:bank"),
            credit=account_get(operator=operator_b, code="suspense"),
            amount=Decimal("10"),
            kind="payment",
            reference="x",
            value_date=DAY,
            acting_user=admin_a,
        )


def test_ledger_verify_is_clean_and_reports_a_tampered_balance_with_exit_code_1(operator_a, admin_a):
    charge(operator_a, admin_a)
    out = io.StringIO()
    call_command("ledger", "verify", stdout=out)
    assert "every balance matches" in out.getvalue()
    BalanceShard.objects.filter(account__code="vat_payable", credits__gt=0).update(credits=Decimal("1"))
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("ledger", "verify", stderr=err)
    assert exit_.value.code == 1
    assert "vat_payable" in err.getvalue()


def test_an_operator_wide_account_spreads_its_totals_over_shards_and_a_customers_account_keeps_one_row(
    operator_a, admin_a
):
    # when three customers are charged: each charge credits revenue through a shard chosen by the transfer
    for number in range(1, 4):
        charge(operator_a, admin_a, "1000", holder=f"connection:{number}", reference=f"bill:{number}")
    revenue = Account.objects.get(operator=operator_a, code="revenue:water_sales")
    used = BalanceShard.objects.filter(account=revenue).exclude(credits=0)
    assert used.count() == 3 and sum(shard.credits for shard in used) == Decimal("3000")
    assert account_balance(revenue) == Decimal("3000")
    # the customers' receivables keep their single row, which the payments lock on
    receivable = Account.objects.get(operator=operator_a, code="receivable:connection:2")
    assert not BalanceShard.objects.filter(account=receivable).exists()
    assert receivable.balance.debits == Decimal("1180")
    assert trial_balance(operator=operator_a) == 0 and ledger_verify() == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="writes wait in a pipeline on PostgreSQL only")
def test_a_transfer_among_joined_writes_moves_its_balances_even_where_its_shard_row_is_missing(
    operator_a, admin_a, monkeypatch
):
    # the cash clearing account gets its shard rows (the first payment), then this process has seen them
    pay(operator_a, admin_a, "100")
    pay(operator_a, admin_a, "100", reference="receipt:AAL-R-0002")
    clearing = Account.objects.get(operator=operator_a, code="clearing:cash_office")
    empty = BalanceShard.objects.filter(account=clearing, debits=0)
    missing = empty.first().shard
    empty.delete()  # as if never made
    monkeypatch.setattr(ledger_services, "_shard_next", lambda: missing)
    with writes_joined():
        transfer = pay(operator_a, admin_a, "250", reference="receipt:AAL-R-0003")
        assert transfer.pk is None  # waiting with its balance updates
    assert transfer.pk is not None
    # the update found no row as the block ended: the shard rows were made and the amount added then
    assert BalanceShard.objects.filter(account=clearing).count() == BalanceShard.SHARDS
    assert BalanceShard.objects.get(account=clearing, shard=missing).debits == Decimal("250")
    assert balance_of(operator_a, "clearing:cash_office") == Decimal("450")
    assert trial_balance(operator=operator_a) == 0 and ledger_verify() == []


def test_a_forked_process_takes_the_shards_in_turn_from_a_start_of_its_own(monkeypatch):
    # the parent's turn at shard 0; the child starts again where random says (7 here), not in step with its parent
    monkeypatch.setattr(ledger_services, "_SHARD_TURN", itertools.count(0))
    monkeypatch.setattr(ledger_services.random, "randrange", lambda _stop: 7)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child: report its first two shards and leave at once
        os.write(write, f"{ledger_services._shard_next()},{ledger_services._shard_next()}".encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    assert os.read(read, 32).decode() == "7,8"
    os.close(read)
    assert [ledger_services._shard_next(), ledger_services._shard_next()] == [0, 1]
