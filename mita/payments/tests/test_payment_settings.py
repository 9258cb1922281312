"""The operator's payment rules: the order charges are cleared in, credit applied to new charges at once, and
advances held excluding VAT (the VAT recognised by the bill that consumes them)."""

import datetime
import json
from decimal import Decimal

import pytest

from mita.accounts.roles import Role
from mita.core.audit import AuditEntry
from mita.core.errors import DomainError
from mita.ledger.selectors import account_balance, holder_balance, holder_credit, ledger_verify, trial_balance
from mita.ledger.services import account_get, charge_post, holder_account, opening_balance_post
from mita.payments.corrections import payment_reverse
from mita.payments.models import Allocation, PaymentSettings
from mita.payments.preferences import payment_settings_for, payment_settings_update
from mita.payments.refunds import refund_approve, refund_pay_out, refund_request
from mita.payments.services import payment_receive, payment_void
from mita.testing.factories import member

pytestmark = pytest.mark.django_db
HOLDER = "AAL-0001"
SEP_30 = datetime.date(2026, 9, 30)
OCT_31 = datetime.date(2026, 10, 31)


def charge(operator, amount, due, reference, head="water_sales", vat_rule="exempt"):
    return charge_post(
        operator=operator,
        holder=HOLDER,
        head=head,
        amount=Decimal(amount),
        vat_rule=vat_rule,
        reference=reference,
        due_date=due,
        acting_user=None,
    )


def pay(operator, amount, key):
    return payment_receive(
        operator=operator,
        channel="cash_office",
        amount=Decimal(amount),
        account_reference=HOLDER,
        idempotency_key=key,
        received_by=None,
    )


@pytest.fixture(autouse=True)
def known_account(operator_a):
    """The customer account exists (the customers app opens its receivable), owing nothing yet."""
    return holder_account(operator=operator_a, holder=HOLDER, purpose="receivable")


def rules(operator, order="due_date", heads=(), advance=False):
    return payment_settings_update(
        operator=operator, allocation_order=order, head_order=list(heads), advance_ex_vat=advance, acting_user=None
    )


def cleared(payment):
    return {allocation.charge.reference: allocation.amount for allocation in payment.allocations.all()}


def test_by_default_the_oldest_due_clears_first_and_on_one_date_the_charts_order(operator_a):
    penalty = charge(operator_a, "100", SEP_30, "penalty:sep", head="penalties")
    charge(operator_a, "500", OCT_31, "bill:oct")
    charge(operator_a, "400", SEP_30, "bill:sep")
    payment = pay(operator_a, "450", "k1")
    # water sales comes before penalties in the chart, so September's bill is cleared before its penalty
    assert cleared(payment) == {"bill:sep": Decimal("400"), "penalty:sep": Decimal("50")}
    assert not Allocation.objects.filter(charge__reference="bill:oct").exists()
    assert penalty.pk


def test_the_operators_order_of_heads_decides_between_charges_due_the_same_day(operator_a):
    rules(operator_a, heads=["penalties"])
    charge(operator_a, "400", SEP_30, "bill:sep")
    charge(operator_a, "100", SEP_30, "penalty:sep", head="penalties")
    payment = pay(operator_a, "150", "k1")
    assert cleared(payment) == {"penalty:sep": Decimal("100"), "bill:sep": Decimal("50")}


def test_heads_first_clears_a_head_before_older_charges_of_other_heads(operator_a):
    rules(operator_a, order="head", heads=["connection_fees"])
    charge(operator_a, "400", SEP_30, "bill:sep")
    charge(operator_a, "1000", OCT_31, "connection:1", head="connection_fees")
    payment = pay(operator_a, "1200", "k1")
    assert cleared(payment) == {"connection:1": Decimal("1000"), "bill:sep": Decimal("200")}


@pytest.mark.parametrize(
    ("order", "heads", "code"),
    [
        ("newest", [], "allocation_order_unknown"),
        ("due_date", ["water_sales", "beer"], "head_unknown"),
        ("due_date", ["penalties", "penalties"], "head_repeated"),
    ],
)
def test_bad_settings_are_refused_and_the_saved_ones_stay(operator_a, order, heads, code):
    rules(operator_a, heads=["penalties"], advance=True)
    with pytest.raises(DomainError) as refusal:
        rules(operator_a, order=order, heads=heads)
    assert refusal.value.code == code
    saved = payment_settings_for(operator=operator_a)
    assert (saved.allocation_order, saved.head_order, saved.advance_ex_vat) == ("due_date", ["penalties"], True)


def test_a_change_of_settings_is_audited_with_before_and_after(operator_a, admin_a):
    rules(operator_a)
    payment_settings_update(
        operator=operator_a, allocation_order="head", head_order=["penalties"], advance_ex_vat=True, acting_user=admin_a
    )
    entry = AuditEntry.objects.filter(action="payments.settings_changed").latest("pk")
    assert entry.before["allocation_order"] == "due_date" and entry.after["head_order"] == ["penalties"]


def test_credit_clears_a_new_charge_as_soon_as_it_is_posted(operator_a):
    charge(operator_a, "500", SEP_30, "bill:sep")
    pay(operator_a, "800", "k1")
    assert holder_balance(operator=operator_a, holder=HOLDER, purpose="credit") == Decimal("300")
    november = charge(operator_a, "1000", datetime.date(2026, 11, 30), "bill:nov")
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("700")
    assert holder_credit(operator=operator_a, holder=HOLDER) == 0
    assert Allocation.objects.get(charge=november).from_credit
    # opening arrears are a charge too
    pay(operator_a, "900", "k2")
    opening_balance_post(
        operator=operator_a, holder=HOLDER, amount=Decimal("150"), as_of=SEP_30, reference="opening:1", acting_user=None
    )
    assert holder_balance(operator=operator_a, holder=HOLDER) == 0
    assert holder_credit(operator=operator_a, holder=HOLDER) == Decimal("50")
    assert trial_balance(operator=operator_a) == 0 and ledger_verify() == []


def test_an_advance_is_held_excluding_vat_and_the_vat_is_recognised_by_the_bill_that_consumes_it(operator_a):
    rules(operator_a, advance=True)  # operator_a is in Rwanda: VAT 18%
    pay(operator_a, "1180", "advance")
    assert holder_balance(operator=operator_a, holder=HOLDER, purpose="credit") == Decimal("1000")
    assert holder_balance(operator=operator_a, holder=HOLDER, purpose="advance_vat") == Decimal("180")
    assert holder_credit(operator=operator_a, holder=HOLDER) == Decimal("1180")
    vat = account_get(operator=operator_a, code="vat_payable")
    assert account_balance(vat) == 0  # nothing recognised on the advance itself

    # a bill of 500 + 18% VAT = 590 consumes half the advance: 500 of sales and 90 of the VAT held
    charge(operator_a, "500", OCT_31, "bill:oct", vat_rule="standard")
    assert account_balance(vat) == Decimal("90")
    assert holder_balance(operator=operator_a, holder=HOLDER) == 0
    assert holder_balance(operator=operator_a, holder=HOLDER, purpose="credit") == Decimal("500")
    assert holder_balance(operator=operator_a, holder=HOLDER, purpose="advance_vat") == Decimal("90")
    assert trial_balance(operator=operator_a) == 0 and ledger_verify() == []


def test_an_advance_that_does_not_divide_evenly_is_consumed_to_the_last_unit(operator_a):
    rules(operator_a, advance=True)
    pay(operator_a, "1001", "advance")  # RWF has no minor units: 848 ex-VAT + 153 VAT
    assert holder_balance(operator=operator_a, holder=HOLDER, purpose="credit") == Decimal("848")
    assert holder_balance(operator=operator_a, holder=HOLDER, purpose="advance_vat") == Decimal("153")
    charge(operator_a, "333", OCT_31, "bill:1", vat_rule="standard")  # 333 + 60 = 393
    charge(operator_a, "700", datetime.date(2026, 11, 30), "bill:2", vat_rule="standard")  # 700 + 126 = 826
    assert holder_credit(operator=operator_a, holder=HOLDER) == 0
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("393") + Decimal("826") - Decimal("1001")
    assert trial_balance(operator=operator_a) == 0 and ledger_verify() == []


def test_voiding_an_unused_advance_takes_back_both_parts(operator_a):
    rules(operator_a, advance=True)
    treasurer = member(Role.TREASURER, operator_a)
    advance = pay(operator_a, "1180", "advance")
    payment_void(
        payment=advance,
        reason="wrong account",
        approved_by=treasurer,
        acting_user=None,
        approver_roles=frozenset({Role.TREASURER}),
    )
    assert holder_credit(operator=operator_a, holder=HOLDER) == 0
    assert trial_balance(operator=operator_a) == 0 and ledger_verify() == []


def test_without_the_setting_an_advance_is_credit_in_full(operator_a):
    pay(operator_a, "1180", "advance")
    assert holder_balance(operator=operator_a, holder=HOLDER, purpose="credit") == Decimal("1180")
    assert holder_balance(operator=operator_a, holder=HOLDER, purpose="advance_vat") == 0


# Page and API -------------------------------------------------------------------------------------------------


def test_the_operator_admin_sets_the_rules_on_the_page(operator_a, admin_a, client_for):
    client = client_for(admin_a)
    assert client.get("/payments/settings/").status_code == 200
    response = client.post(
        "/payments/settings/",
        {"allocation_order": "head", "head_1": "connection_fees", "head_2": "penalties", "advance_ex_vat": "on"},
    )
    assert response.status_code == 302
    saved = PaymentSettings.objects.get(operator=operator_a)
    assert (saved.allocation_order, saved.head_order, saved.advance_ex_vat) == (
        "head",
        ["connection_fees", "penalties"],
        True,
    )


def test_the_page_says_what_is_wrong_and_keeps_the_saved_rules(operator_a, admin_a, client_for):
    rules(operator_a, heads=["penalties"])
    response = client_for(admin_a).post(
        "/payments/settings/", {"allocation_order": "due_date", "head_1": "penalties", "head_2": "penalties"}
    )
    assert response.status_code == 400
    assert "A head appears twice." in response.content.decode()
    assert PaymentSettings.objects.get(operator=operator_a).head_order == ["penalties"]


def test_only_the_operator_admin_changes_the_rules(operator_a, client_for):
    cashier = member(Role.CASHIER, operator_a)
    assert client_for(cashier).get("/payments/settings/").status_code == 403
    response = client_for(cashier).put(
        "/api/v1/payment-settings",
        json.dumps({"allocation_order": "head", "head_order": [], "advance_ex_vat": True}),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not PaymentSettings.objects.exists()


def test_each_operator_has_its_own_rules(operator_a, operator_b, admin_a, admin_b, client_for):
    rules(operator_a, order="head", heads=["penalties"], advance=True)
    response = client_for(admin_b).get("/api/v1/payment-settings")
    assert response.status_code == 200
    assert response.json() == {"allocation_order": "due_date", "head_order": [], "advance_ex_vat": False}
    put = client_for(admin_b).put(
        "/api/v1/payment-settings",
        json.dumps({"allocation_order": "due_date", "head_order": ["water_sales"], "advance_ex_vat": False}),
        content_type="application/json",
    )
    assert put.status_code == 200
    assert PaymentSettings.objects.get(operator=operator_a).head_order == ["penalties"]
    assert PaymentSettings.objects.get(operator=operator_b).head_order == ["water_sales"]


def test_the_api_refuses_an_unknown_head_with_a_clear_error(operator_a, admin_a, client_for):
    response = client_for(admin_a).put(
        "/api/v1/payment-settings",
        json.dumps({"allocation_order": "due_date", "head_order": ["beer"], "advance_ex_vat": False}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "head_unknown"


# An advance held excluding VAT is the customer's credit for refunds and charge-backs too ----------------------


def test_a_refund_of_credit_takes_the_advance_and_its_held_vat_together(operator_a):
    rules(operator_a, advance=True)
    cashier, treasurer, admin = (
        member(role, operator_a) for role in (Role.CASHIER, Role.TREASURER, Role.OPERATOR_ADMIN)
    )
    pay(operator_a, "1180", "advance")
    refund = refund_request(
        operator=operator_a,
        holder=HOLDER,
        amount=Decimal("590"),
        source="credit",
        reason="moving away",
        payee_name="Jeanne",
        method="cash",
        acting_user=cashier,
        idempotency_key="refund-1",
    )
    assert holder_balance(operator=operator_a, holder=HOLDER, purpose="credit") == Decimal("500")
    assert holder_balance(operator=operator_a, holder=HOLDER, purpose="advance_vat") == Decimal("90")
    refund_approve(refund=refund, acting_user=treasurer)
    refund_pay_out(refund=refund, payout_reference="", acting_user=admin)
    with pytest.raises(DomainError) as too_much:
        refund_request(
            operator=operator_a,
            holder=HOLDER,
            amount=Decimal("591"),
            source="credit",
            reason="the rest and more",
            payee_name="Jeanne",
            method="cash",
            acting_user=cashier,
            idempotency_key="refund-2",
        )
    assert too_much.value.code == "refund_exceeds_available"
    assert holder_credit(operator=operator_a, holder=HOLDER) == Decimal("590")
    assert trial_balance(operator=operator_a) == 0 and ledger_verify() == []


def test_a_charge_back_of_a_consumed_advance_is_owed_again_in_full(operator_a):
    rules(operator_a, advance=True)
    treasurer = member(Role.TREASURER, operator_a)
    advance = payment_receive(
        operator=operator_a,
        channel="momo",
        amount=Decimal("1180"),
        account_reference=HOLDER,
        idempotency_key="momo:1",
        provider_reference="MOMO-1",
        received_by=None,
    )
    charge(operator_a, "500", OCT_31, "bill:oct", vat_rule="standard")  # 590 consumed from the advance
    payment_reverse(payment=advance, reason="disputed", provider_reference="CB-1", acting_user=treasurer)
    # the customer got nothing for free: the 590 consumed is owed again, the rest of the advance is gone
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("590")
    assert holder_credit(operator=operator_a, holder=HOLDER) == 0
    assert holder_balance(operator=operator_a, holder=HOLDER, purpose="advance_vat") == 0
    assert trial_balance(operator=operator_a) == 0 and ledger_verify() == []
