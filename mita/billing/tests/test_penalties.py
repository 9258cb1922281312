"""Late-payment penalties: the amounts a user checks (a percentage of the unpaid part, a flat amount, on the balance,
minimum and maximum), the days boundary, a rerun that levies nothing new, paid bills exempt, bad rules refused."""

import datetime
from decimal import Decimal

import pytest

from mita.billing.errors import BillingError
from mita.billing.models import Penalty, PenaltyRule
from mita.billing.penalties import penalties_apply, penalties_preview, penalty_rule_save
from mita.billing.tests.world_corrections import issued_world, pay
from mita.core.models import AuditEntry
from mita.ledger.models import Charge
from mita.ledger.selectors import holder_balance, ledger_verify
from mita.ledger.services import opening_balance_post

D = Decimal
DAY = datetime.timedelta(days=1)
pytestmark = pytest.mark.django_db


@pytest.fixture
def world(operator_a):
    return issued_world(operator_a)


def _rule(operator, **values):
    values = {"name": "Late", "days_after_due": 10, "applies_from": datetime.date(2026, 1, 1), **values}
    return penalty_rule_save(operator=operator, acting_user=None, **values)


def _penalty_of(bill):
    return Penalty.objects.get(bill=bill)


def test_five_percent_of_the_unpaid_part_of_a_late_bill(operator_a, world):
    # given the public tap's bill of 2,000 RWF, 500 of it paid, and a rule of 5% ten days after the due date
    tap = world["tap_bill"]
    assert tap.total == D(2000)
    pay(operator_a, tap.account, D(500))
    _rule(operator_a, kind="percent", rate="5")
    # when penalties are levied ten days after the due date
    result = penalties_apply(operator=operator_a, on=tap.due_on + 10 * DAY, acting_user=None)
    # then the tap owes 5% of 1,500 = 75 more, as a "penalties" charge
    penalty = _penalty_of(tap)
    assert penalty.unpaid == D(1500) and penalty.amount == D(75) and penalty.days_late == 10
    charge = Charge.objects.get(reference=penalty.reference)
    assert charge.head == "penalties" and charge.total == D(75) and charge.vat == 0
    assert holder_balance(operator=operator_a, holder=tap.account) == D(1575)
    # and every other late bill (nothing paid) owes 5% of its total, rounded to the franc
    for bill in world["bills"].values():
        if bill.pk != tap.pk:
            expected = (bill.total * D("0.05")).quantize(D(1), rounding="ROUND_HALF_UP")
            assert _penalty_of(bill).amount == expected, bill.account
    assert result.levied == len(world["bills"])
    assert result.total == sum(p.amount for p in Penalty.objects.all())
    assert ledger_verify(operator=operator_a) == []
    assert AuditEntry.objects.filter(action="billing.penalties_levied").exists()


def test_a_flat_penalty(operator_a, world):
    tap = world["tap_bill"]
    _rule(operator_a, kind="flat", amount="300")
    penalties_apply(operator=operator_a, on=tap.due_on + 30 * DAY, acting_user=None)
    assert _penalty_of(tap).amount == D(300)
    assert holder_balance(operator=operator_a, holder=tap.account) == D(2300)


def test_a_percentage_of_the_outstanding_balance_counts_older_arrears(operator_a, world):
    # given the tap's account owing 1,000 from before and its October bill of 2,000
    tap = world["tap_bill"]
    opening_balance_post(
        operator=operator_a,
        holder=tap.account,
        amount=D(1000),
        as_of=datetime.date(2026, 1, 1),
        reference="opening:tap",
        acting_user=None,
    )
    _rule(operator_a, kind="percent", rate="2", base="balance")
    penalties_apply(operator=operator_a, on=tap.due_on + 10 * DAY, acting_user=None)
    # then the penalty is 2% of 3,000
    penalty = _penalty_of(tap)
    assert penalty.base_amount == D(3000) and penalty.unpaid == D(2000) and penalty.amount == D(60)


def test_the_minimum_and_the_maximum_hold_the_penalty(operator_a, world):
    tap = world["tap_bill"]
    pay(operator_a, tap.account, D(500))  # 1,500 unpaid
    low = _rule(operator_a, name="Low", kind="percent", rate="1", minimum="100")  # 15 -> 100
    high = _rule(operator_a, name="High", kind="percent", rate="10", maximum="120", days_after_due=20)  # 150 -> 120
    penalties_apply(operator=operator_a, on=tap.due_on + 20 * DAY, acting_user=None)
    assert Penalty.objects.get(bill=tap, rule=low).amount == D(100)
    assert Penalty.objects.get(bill=tap, rule=high).amount == D(120)


def test_a_bill_is_late_only_once_the_days_have_passed(operator_a, world):
    tap = world["tap_bill"]
    _rule(operator_a, kind="flat", amount="300", days_after_due=10)
    # nine days after the due date: nothing yet
    assert penalties_preview(operator=operator_a, on=tap.due_on + 9 * DAY) == []
    assert penalties_apply(operator=operator_a, on=tap.due_on + 9 * DAY, acting_user=None).levied == 0
    assert not Penalty.objects.exists()
    # the tenth day: every bill
    preview = penalties_preview(operator=operator_a, on=tap.due_on + 10 * DAY)
    assert len(preview) == len(world["bills"]) and {row.amount for row in preview} == {D(300)}
    assert penalties_apply(operator=operator_a, on=tap.due_on + 10 * DAY, acting_user=None).levied == len(preview)


def test_a_rerun_levies_nothing_new(operator_a, world):
    tap = world["tap_bill"]
    _rule(operator_a, kind="percent", rate="5")
    on = tap.due_on + 15 * DAY
    first = penalties_apply(operator=operator_a, on=on, acting_user=None)
    charges = Charge.objects.filter(head="penalties").count()
    assert first.levied == charges == len(world["bills"])
    second = penalties_apply(operator=operator_a, on=on, acting_user=None)
    later = penalties_apply(operator=operator_a, on=on + 30 * DAY, acting_user=None)
    assert second.levied == later.levied == 0
    assert Charge.objects.filter(head="penalties").count() == charges
    assert penalties_preview(operator=operator_a, on=on) == []
    assert holder_balance(operator=operator_a, holder=tap.account) == D(2100)


def test_paid_bills_are_exempt(operator_a, world):
    tap = world["tap_bill"]
    pay(operator_a, tap.account, D(2000))
    _rule(operator_a, kind="flat", amount="300")
    penalties_apply(operator=operator_a, on=tap.due_on + 60 * DAY, acting_user=None)
    assert not Penalty.objects.filter(bill=tap).exists()
    assert Penalty.objects.count() == len(world["bills"]) - 1
    assert holder_balance(operator=operator_a, holder=tap.account) == 0


def test_bills_due_before_the_rule_applies_and_inactive_rules_levy_nothing(operator_a, world):
    tap = world["tap_bill"]
    _rule(operator_a, kind="flat", amount="300", applies_from=tap.due_on + DAY)
    _rule(operator_a, name="Off", kind="flat", amount="50", active=False)
    assert penalties_apply(operator=operator_a, on=tap.due_on + 60 * DAY, acting_user=None).levied == 0


def test_another_operators_rules_never_touch_the_bills(operator_a, operator_b, world):
    tap = world["tap_bill"]
    _rule(operator_b, kind="flat", amount="300")
    assert penalties_apply(operator=operator_b, on=tap.due_on + 60 * DAY, acting_user=None).levied == 0
    assert penalties_apply(operator=operator_a, on=tap.due_on + 60 * DAY, acting_user=None).levied == 0


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"kind": "percent", "rate": "0"}, "rate"),
        ({"kind": "percent", "rate": "150"}, "rate"),
        ({"kind": "flat", "amount": "-5"}, "amount"),
        ({"kind": "percent", "rate": "abc"}, "rate"),
        ({"kind": "percent", "rate": "5", "days_after_due": 0}, "days_after_due"),
        ({"kind": "percent", "rate": "5", "minimum": "200", "maximum": "100"}, "maximum"),
        ({"kind": "weekly", "rate": "5"}, "kind"),
        ({"kind": "percent", "rate": "5", "base": "moon"}, "base"),
        ({"kind": "percent", "rate": "5", "name": " "}, "name"),
    ],
)
def test_a_bad_rule_is_refused_field_by_field(operator_a, values, field):
    with pytest.raises(BillingError) as refused:
        _rule(operator_a, **values)
    assert refused.value.code == "rule_invalid" and field in refused.value.fields
    assert not PenaltyRule.objects.exists()


def test_changing_a_rule_is_audited_and_keeps_what_was_levied(operator_a, world):
    tap = world["tap_bill"]
    rule = _rule(operator_a, kind="flat", amount="300")
    penalties_apply(operator=operator_a, on=tap.due_on + 10 * DAY, acting_user=None)
    penalty_rule_save(operator=operator_a, acting_user=None, rule=rule, amount="500")
    rule.refresh_from_db()
    assert rule.amount == D(500) and _penalty_of(tap).amount == D(300)
    entry = AuditEntry.objects.filter(action="billing.penalty_rule_saved").order_by("pk").last()
    assert D(entry.before["amount"]) == D(300) and D(entry.after["amount"]) == D(500)


@pytest.mark.django_db(transaction=True)
def test_runs_at_the_same_moment_levy_each_penalty_once(operator_a):
    from mita.testing.threads import in_threads

    # given the issued October bills and a flat rule
    world = issued_world(operator_a)
    tap = world["tap_bill"]
    _rule(operator_a, kind="flat", amount="300")
    on = tap.due_on + 10 * DAY

    # when four runs start together
    results = in_threads(lambda _index: penalties_apply(operator=operator_a, on=on, acting_user=None).levied, 4)

    # then each bill is penalised once, by one of them
    assert not [r for r in results if isinstance(r, Exception)], {repr(r) for r in results}
    assert sum(results) == Penalty.objects.count() == len(world["bills"])
    assert Charge.objects.filter(head="penalties").count() == len(world["bills"])
    assert holder_balance(operator=operator_a, holder=tap.account) == D(2300)
    assert ledger_verify(operator=operator_a) == []
