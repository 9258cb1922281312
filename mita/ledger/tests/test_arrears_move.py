"""Arrears moving from one customer account to another (a meter transfer): exactly the open receivable moves, the old
charges are cleared, one arrears_transferred charge opens on the new account, replays post nothing."""

import datetime
import uuid
from decimal import Decimal

import pytest

from mita.core.errors import Conflict, DomainError
from mita.ledger.models import Charge, Transfer
from mita.ledger.selectors import charge_outstanding, holder_balance, holder_credit, ledger_verify, trial_balance
from mita.ledger.services import ARREARS_HEAD, arrears_move, charge_post
from mita.payments.corrections import charge_cancel
from mita.payments.deposits import deposit_charge
from mita.payments.selectors import charges_open
from mita.payments.services import payment_receive
from mita.testing.factories import OperatorFactory

pytestmark = pytest.mark.django_db
OLD, NEW = "AAL-0001", "AAL-0002"


@pytest.fixture
def operator():
    # Kenyan shillings have cents: the move must be exact to the cent.
    return OperatorFactory(country_code="KE", currency="KES")


def bill(operator, holder, amount, reference, due, head="water_sales", rule="exempt"):
    return charge_post(
        operator=operator,
        holder=holder,
        head=head,
        amount=Decimal(amount),
        vat_rule=rule,
        reference=reference,
        due_date=due,
        acting_user=None,
    )


def pay(operator, holder, amount):
    return payment_receive(
        operator=operator,
        channel="cash_office",
        amount=Decimal(amount),
        account_reference=holder,
        idempotency_key=str(uuid.uuid4()),
        received_by=None,
    )


def owed(operator, holder):
    return holder_balance(operator=operator, holder=holder)


def test_exactly_the_open_receivable_moves_to_the_cent(operator):
    bill(operator, OLD, "1250.35", "bill:1", datetime.date(2026, 8, 31))
    bill(operator, OLD, "980.10", "bill:2", datetime.date(2026, 9, 30))
    bill(operator, OLD, "1010.55", "bill:3", datetime.date(2026, 10, 31))
    pay(operator, OLD, "1500.00")  # clears bill 1 and 249.65 of bill 2
    bill(operator, NEW, "300.00", "bill:new", datetime.date(2026, 10, 31))
    old_before, new_before = owed(operator, OLD), owed(operator, NEW)
    assert old_before == Decimal("1741.00")

    charge = arrears_move(operator=operator, from_holder=OLD, to_holder=NEW, reference="mt:1", acting_user=None)

    assert charge is not None
    assert (charge.holder, charge.head, charge.total, charge.vat) == (NEW, ARREARS_HEAD, Decimal("1741.00"), 0)
    assert charge.due_date == datetime.date(2026, 9, 30)  # the oldest due date still owed (bill 2's)
    assert owed(operator, OLD) == Decimal("0.00")
    assert owed(operator, NEW) == new_before + old_before == Decimal("2041.00")
    assert charges_open(operator=operator, holder=OLD) == []
    assert sum(c.open_amount for c in charges_open(operator=operator, holder=NEW)) == owed(operator, NEW)
    assert ledger_verify(operator=operator) == [] and trial_balance(operator=operator) == 0
    move = Transfer.objects.get(operator=operator, reference="mt:1")
    assert (move.debit.code, move.credit.code, move.amount) == (f"receivable:{NEW}", f"receivable:{OLD}", old_before)


def test_a_replay_posts_nothing_and_returns_the_first_charge(operator):
    bill(operator, OLD, "500.50", "bill:1", datetime.date(2026, 10, 31))
    first = arrears_move(operator=operator, from_holder=OLD, to_holder=NEW, reference="mt:1", acting_user=None)
    transfers, charges = Transfer.objects.count(), Charge.objects.count()

    again = arrears_move(operator=operator, from_holder=OLD, to_holder=NEW, reference="mt:1", acting_user=None)

    assert again == first
    assert (Transfer.objects.count(), Charge.objects.count()) == (transfers, charges)
    assert (owed(operator, OLD), owed(operator, NEW)) == (0, Decimal("500.50"))
    with pytest.raises(Conflict) as error:  # the same reference for another move
        arrears_move(operator=operator, from_holder=OLD, to_holder="AAL-0003", reference="mt:1", acting_user=None)
    assert error.value.code == "idempotency_key_reused"


def test_credit_stays_with_the_old_account_and_nothing_owed_moves_nothing(operator):
    bill(operator, OLD, "100.00", "bill:1", datetime.date(2026, 10, 31))
    pay(operator, OLD, "175.25")  # the bill and an advance: credit, nothing owed
    assert arrears_move(operator=operator, from_holder=OLD, to_holder=NEW, reference="mt:1", acting_user=None) is None
    assert holder_credit(operator=operator, holder=OLD) == Decimal("75.25")
    assert (owed(operator, OLD), owed(operator, NEW)) == (0, 0)
    assert not Transfer.objects.filter(reference="mt:1").exists()


def test_the_new_accounts_credit_pays_the_arrears_it_takes_on(operator):
    bill(operator, OLD, "400.00", "bill:1", datetime.date(2026, 10, 31))
    bill(operator, NEW, "10.00", "bill:new", datetime.date(2026, 10, 31))
    pay(operator, NEW, "160.00")  # the new account has 150.00 credit
    arrears_move(operator=operator, from_holder=OLD, to_holder=NEW, reference="mt:1", acting_user=None)
    assert owed(operator, NEW) == Decimal("250.00")
    assert holder_credit(operator=operator, holder=NEW) == 0
    assert ledger_verify(operator=operator) == []


def test_an_unpaid_deposit_is_not_moved_but_cancelled(operator):
    bill(operator, OLD, "200.00", "bill:1", datetime.date(2026, 10, 31))
    deposit_charge(
        operator=operator,
        holder=OLD,
        amount=Decimal("1000.00"),
        reference="deposit:1",
        due_date=datetime.date(2026, 9, 1),
        acting_user=None,
    )
    charge = arrears_move(operator=operator, from_holder=OLD, to_holder=NEW, reference="mt:1", acting_user=None)
    assert charge is not None and charge.total == Decimal("200.00")
    assert charge.due_date == datetime.date(2026, 10, 31)
    assert (owed(operator, OLD), owed(operator, NEW)) == (0, Decimal("200.00"))
    assert ledger_verify(operator=operator) == []


def test_moved_arrears_are_not_cancelled_on_either_side_but_moved_back(operator):
    from mita.accounts.roles import Role
    from mita.testing.factories import member

    old_bill = bill(operator, OLD, "200.00", "bill:1", datetime.date(2026, 10, 31))
    moved = arrears_move(operator=operator, from_holder=OLD, to_holder=NEW, reference="mt:1", acting_user=None)
    admin = member(Role.OPERATOR_ADMIN, operator)
    for charge in (old_bill, moved):  # neither side: that would forgive the debt on one account, keep it on the other
        with pytest.raises(Conflict) as error:
            charge_cancel(charge=charge, reason="mistake", acting_user=admin, approved_by=admin)
        assert error.value.code == "charge_moved"
    assert holder_credit(operator=operator, holder=OLD) == 0
    assert (owed(operator, OLD), owed(operator, NEW)) == (0, Decimal("200.00"))
    # a wrong transfer is corrected by moving the arrears back
    back = arrears_move(operator=operator, from_holder=NEW, to_holder=OLD, reference="mt:1:back", acting_user=None)
    assert back.total == Decimal("200.00")
    assert (owed(operator, OLD), owed(operator, NEW)) == (Decimal("200.00"), 0)
    assert ledger_verify(operator=operator) == []


def test_bad_requests_are_refused_with_a_code(operator):
    bill(operator, OLD, "10.00", "bill:1", datetime.date(2026, 10, 31))
    for kwargs, code in (
        ({"to_holder": OLD}, "same_account"),
        ({"to_holder": OLD.lower()}, "same_account"),
        ({"reference": " "}, "reference_required"),
    ):
        with pytest.raises(DomainError) as error:
            arrears_move(
                **{"operator": operator, "from_holder": OLD, "to_holder": NEW, "reference": "mt:1", **kwargs},
                acting_user=None,
            )
        assert error.value.code == code
    assert owed(operator, OLD) == Decimal("10.00")  # nothing moved


def test_charge_outstanding_reads_what_is_still_owed_on_a_reference(operator):
    bill(operator, OLD, "100.00", "fee:1", datetime.date(2026, 9, 30))
    bill(operator, OLD, "40.00", "bill:2", datetime.date(2026, 10, 31))
    assert charge_outstanding(operator=operator, holder=OLD, reference="fee:1") == Decimal("100.00")
    pay(operator, OLD, "60.00")
    assert charge_outstanding(operator=operator, holder=OLD, reference="fee:1") == Decimal("40.00")
    pay(operator, OLD, "40.00")
    assert charge_outstanding(operator=operator, holder=OLD, reference="fee:1") == 0
    assert charge_outstanding(operator=operator, holder=OLD, reference="bill:2") == Decimal("40.00")
    assert charge_outstanding(operator=operator, holder=OLD, reference="nothing") == 0


def test_both_statements_show_the_move_and_end_on_what_each_account_owes(operator):
    from mita.payments.statements import statement

    bill(operator, OLD, "640.40", "bill:1", datetime.date(2026, 10, 31))
    arrears_move(
        operator=operator,
        from_holder=OLD,
        to_holder=NEW,
        reference="mt:1",
        acting_user=None,
        value_date=datetime.date(2026, 11, 5),
    )
    old, new = (statement(operator=operator, holder=h, start=None, end=None) for h in (OLD, NEW))
    assert [(line.reference, line.debit, line.credit) for line in old.lines][-1] == ("mt:1", 0, Decimal("640.40"))
    assert [(line.reference, line.debit, line.credit) for line in new.lines] == [("mt:1", Decimal("640.40"), 0)]
    assert (old.closing_balance, new.closing_balance) == (0, Decimal("640.40"))


# Concurrency (real threads, each on its own connection) -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_of_one_move_move_once():
    from mita.testing.threads import in_threads

    operator = OperatorFactory(country_code="KE", currency="KES")
    bill(operator, OLD, "321.09", "bill:1", datetime.date(2026, 10, 31))

    def move(_index: int):
        return arrears_move(operator=operator, from_holder=OLD, to_holder=NEW, reference="mt:1", acting_user=None).pk

    results = in_threads(move, 6)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(set(results)) == 1
    assert Transfer.objects.filter(reference="mt:1").count() == 1
    assert (owed(operator, OLD), owed(operator, NEW)) == (0, Decimal("321.09"))
    assert ledger_verify(operator=operator) == []


@pytest.mark.django_db(transaction=True)
def test_moves_both_ways_and_payments_at_the_same_moment_lose_nothing_and_never_deadlock():
    from mita.testing.threads import in_threads

    operator = OperatorFactory(country_code="KE", currency="KES")
    bill(operator, OLD, "1000.00", "bill:old", datetime.date(2026, 9, 30))
    bill(operator, NEW, "500.00", "bill:new", datetime.date(2026, 10, 31))

    def work(index: int):
        if index % 3 == 2:
            return pay(operator, (OLD, NEW)[index % 2], "10.01").amount
        source, target = (OLD, NEW) if index % 2 == 0 else (NEW, OLD)
        return arrears_move(
            operator=operator, from_holder=source, to_holder=target, reference=f"mt:{index}", acting_user=None
        )

    results = in_threads(work, 9)
    assert not [r for r in results if isinstance(r, Exception)], results
    paid = sum((r for r in results if isinstance(r, Decimal)), Decimal("0"))
    credit = holder_credit(operator=operator, holder=OLD) + holder_credit(operator=operator, holder=NEW)
    # whatever the order, the two accounts owe together what was billed less what was paid (over-payments are credit)
    assert owed(operator, OLD) + owed(operator, NEW) - credit == Decimal("1500.00") - paid
    for holder in (OLD, NEW):
        assert owed(operator, holder) == sum((c.open_amount for c in charges_open(operator=operator, holder=holder)), 0)
    assert ledger_verify(operator=operator) == [] and trial_balance(operator=operator) == 0
