"""Refunds: requested (reserved at once), approved by another supervisor, rejected with a reason, paid out; clear
errors for wrong transitions; concurrent approvals, payouts and requests happen once."""

import uuid
from decimal import Decimal

import pytest

from mita.accounts.roles import Role
from mita.core.errors import Conflict, DomainError, PermissionDenied
from mita.ledger.models import Transfer
from mita.ledger.selectors import ledger_verify, trial_balance
from mita.payments.models import Refund
from mita.payments.refunds import refund_approve, refund_pay_out, refund_reject
from mita.payments.tests.deposit_world import (
    balances,
    bill,
    deposit,
    ledger_amount,
    money,
    pay,
    request_refund,
)
from mita.testing.factories import member
from mita.testing.threads import in_threads

pytestmark = pytest.mark.django_db


@pytest.fixture
def cashier_a(operator_a):
    return member(Role.CASHIER, operator_a, name="Carla Cashier")


@pytest.fixture
def treasurer_a(operator_a):
    return member(Role.TREASURER, operator_a, name="Tom Treasurer")


@pytest.fixture
def care_a(operator_a):
    return member(Role.CUSTOMER_CARE, operator_a, name="Cathy Care")


def payable(operator):
    return ledger_amount(operator, "refunds_payable")


@pytest.fixture
def with_credit(operator_a):
    """An account that paid 3,000 more than its 1,000 bill."""
    bill(operator_a, "1000")
    pay(operator_a, "4000")
    return operator_a


def test_a_request_reserves_the_amount_so_a_second_cannot_refund_the_same_credit(with_credit, cashier_a):
    # given 3,000 credit; when 2,000 is requested
    refund = request_refund(with_credit, cashier_a, "2000")
    # then it is numbered, waits for approval, and the 2,000 is out of the credit
    assert (refund.number, refund.status) == ("AAL-RF-000001", Refund.Status.REQUESTED)
    assert balances(with_credit) == money(0, 1000, 0)
    assert payable(with_credit) == Decimal("2000")
    # and a second request for 2,000 is refused with what is left
    with pytest.raises(DomainError) as refused:
        request_refund(with_credit, cashier_a, "2000")
    assert refused.value.code == "refund_exceeds_available"
    assert "1000" in refused.value.fields["amount"][0]
    assert Refund.objects.count() == 1


def test_reserved_credit_does_not_pay_new_charges(with_credit, cashier_a):
    request_refund(with_credit, cashier_a, "3000")
    bill(with_credit, "500", reference="bill:2")
    pay(with_credit, "1", holder="AAL-0001")  # any payment runs the allocation again
    assert balances(with_credit) == money(499, 0, 0)


def test_approval_is_by_a_supervisor_other_than_the_requester(with_credit, cashier_a, treasurer_a, admin_a):
    own = request_refund(with_credit, treasurer_a, "1000")
    with pytest.raises(PermissionDenied) as self_approval:
        refund_approve(refund=own, acting_user=treasurer_a)
    assert self_approval.value.code == "approver_is_requester"
    with pytest.raises(PermissionDenied) as cashier_approval:
        refund_approve(refund=own, acting_user=cashier_a)
    assert cashier_approval.value.code == "supervisor_required"
    approved = refund_approve(refund=own, acting_user=admin_a)
    assert (approved.status, approved.approved_by) == (Refund.Status.APPROVED, admin_a)


def test_wrong_transitions_are_refused_with_the_state_they_met(with_credit, cashier_a, treasurer_a, admin_a):
    refund = request_refund(with_credit, cashier_a, "1000", method="bank", bank_name="BK", bank_account="0001")
    with pytest.raises(Conflict) as not_yet:
        refund_pay_out(refund=refund, payout_reference="FT1", acting_user=treasurer_a)
    assert not_yet.value.code == "refund_requested" and "waiting for approval" in str(not_yet.value.message)
    refund_approve(refund=refund, acting_user=treasurer_a)
    with pytest.raises(Conflict) as twice:
        refund_approve(refund=refund, acting_user=admin_a)
    assert twice.value.code == "refund_approved"
    refund_pay_out(refund=refund, payout_reference="FT1", acting_user=treasurer_a)
    for action in (
        lambda: refund_pay_out(refund=refund, payout_reference="FT2", acting_user=admin_a),
        lambda: refund_reject(refund=refund, reason="late", acting_user=admin_a),
        lambda: refund_approve(refund=refund, acting_user=admin_a),
    ):
        with pytest.raises(Conflict) as done:
            action()
        assert done.value.code == "refund_paid" and "already paid out" in str(done.value.message)
    assert Transfer.objects.filter(reference=refund.ledger_reference).count() == 2


def test_a_rejected_refund_gives_the_credit_back_which_pays_open_charges(with_credit, cashier_a, treasurer_a):
    refund = request_refund(with_credit, cashier_a, "3000")
    bill(with_credit, "500", reference="bill:2")
    with pytest.raises(DomainError) as no_reason:
        refund_reject(refund=refund, reason=" ", acting_user=treasurer_a)
    assert no_reason.value.fields["reason"]
    rejected = refund_reject(refund=refund, reason="customer stays", acting_user=treasurer_a)
    assert (rejected.status, rejected.rejection_reason) == (Refund.Status.REJECTED, "customer stays")
    assert balances(with_credit) == money(0, 2500, 0)
    assert payable(with_credit) == 0
    with pytest.raises(Conflict) as again:
        refund_approve(refund=rejected, acting_user=treasurer_a)
    assert again.value.code == "refund_rejected"


def test_an_approved_refund_may_still_be_rejected_before_payout(with_credit, cashier_a, treasurer_a, admin_a):
    refund = refund_approve(refund=request_refund(with_credit, cashier_a, "3000"), acting_user=treasurer_a)
    refund_reject(refund=refund, reason="payee unreachable", acting_user=admin_a)
    assert balances(with_credit) == money(0, 3000, 0)


@pytest.mark.parametrize(
    ("method", "fields", "clearing"),
    [
        ("cash", {}, "clearing:cash_office"),
        ("bank", {"bank_name": "Bank of Kigali", "bank_account": "000123"}, "clearing:bank"),
        ("mobile_money", {"network": "momo", "payee_phone": "+250788123456"}, "clearing:momo"),
        ("mobile_money", {"network": "mpesa", "payee_phone": "+254712345678"}, "clearing:mpesa"),
    ],
)
def test_the_payout_leaves_by_the_clearing_account_of_its_method(
    with_credit, cashier_a, treasurer_a, method, fields, clearing
):
    before = ledger_amount(with_credit, clearing)
    refund = request_refund(with_credit, cashier_a, "3000", method=method, **fields)
    refund_approve(refund=refund, acting_user=treasurer_a)
    paid = refund_pay_out(refund=refund, payout_reference="TX-9", acting_user=treasurer_a)
    assert (paid.status, paid.payout_reference, paid.paid_by) == (Refund.Status.PAID, "TX-9", treasurer_a)
    assert ledger_amount(with_credit, clearing) == before - Decimal("3000")
    assert balances(with_credit) == money(0, 0, 0) and payable(with_credit) == 0
    assert trial_balance(operator=with_credit) == 0 and ledger_verify(operator=with_credit) == []


def test_a_bank_or_mobile_money_payout_needs_its_reference(with_credit, cashier_a, treasurer_a):
    refund = request_refund(with_credit, cashier_a, "3000", method="mobile_money", network="momo", payee_phone="0788")
    refund_approve(refund=refund, acting_user=treasurer_a)
    with pytest.raises(DomainError) as refused:
        refund_pay_out(refund=refund, payout_reference=" ", acting_user=treasurer_a)
    assert refused.value.fields["payout_reference"]
    refund.refresh_from_db()
    assert refund.status == Refund.Status.APPROVED


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"method": "bank"}, "bank_name"),
        ({"method": "bank", "bank_name": "BK"}, "bank_account"),
        ({"method": "mobile_money", "payee_phone": "0788"}, "network"),
        ({"method": "mobile_money", "network": "momo"}, "payee_phone"),
        ({"method": "cheque"}, "method"),
        ({"source": "bonus"}, "source"),
        ({"reason": ""}, "reason"),
        ({"payee_name": ""}, "payee_name"),
    ],
)
def test_an_incomplete_request_names_the_field_and_reserves_nothing(with_credit, cashier_a, fields, field):
    with pytest.raises(DomainError) as refused:
        request_refund(with_credit, cashier_a, "100", **fields)
    assert field in refused.value.fields
    assert not Refund.objects.exists() and balances(with_credit) == money(0, 3000, 0)


def test_amounts_and_accounts_are_checked(with_credit, cashier_a):
    for amount in ("0", "-5", "10.5"):
        with pytest.raises(DomainError) as bad:
            request_refund(with_credit, cashier_a, amount)
        assert bad.value.fields["amount"]
    with pytest.raises(DomainError) as unknown:
        request_refund(with_credit, cashier_a, "100", holder="AAL-NOPE")
    assert unknown.value.code == "account_unknown"


def test_only_the_counter_customer_care_and_supervisors_request_refunds(with_credit, care_a, operator_a):
    assert request_refund(with_credit, care_a, "100").status == Refund.Status.REQUESTED
    with pytest.raises(PermissionDenied):
        request_refund(with_credit, member(Role.BILLING_OFFICER, operator_a), "100")


def test_the_same_request_twice_is_one_refund_and_another_body_is_a_conflict(with_credit, cashier_a):
    key = str(uuid.uuid4())
    first = request_refund(with_credit, cashier_a, "1000", key=key)
    assert request_refund(with_credit, cashier_a, "1000", key=key).pk == first.pk
    with pytest.raises(Conflict) as conflict:
        request_refund(with_credit, cashier_a, "1500", key=key)
    assert conflict.value.code == "idempotency_key_reused"
    assert balances(with_credit) == money(0, 2000, 0)


def test_a_deposit_is_refunded_only_from_an_account_that_owes_nothing(operator_a, cashier_a, treasurer_a):
    deposit(operator_a, "5000")
    pay(operator_a, "5000")
    bill(operator_a, "300", reference="bill:2")
    with pytest.raises(DomainError) as owes:
        request_refund(operator_a, cashier_a, "1000", source="deposit")
    assert owes.value.code == "account_owes"
    pay(operator_a, "300")
    refund = request_refund(operator_a, cashier_a, "1000", source="deposit")
    assert balances(operator_a) == money(0, 0, 4000)
    refund_reject(refund=refund, reason="policy", acting_user=treasurer_a)
    assert balances(operator_a) == money(0, 0, 5000)


def test_another_operator_s_refund_cannot_be_requested_for_our_account(with_credit, operator_b):
    outsider = member(Role.TREASURER, operator_b)
    with pytest.raises(PermissionDenied):
        request_refund(with_credit, outsider, "100")
    with pytest.raises(DomainError) as unknown:
        request_refund(operator_b, outsider, "100")
    assert unknown.value.code == "account_unknown"


# Concurrency ---------------------------------------------------------------------------------------------


@pytest.fixture
def concurrent_world(operator_a):
    bill(operator_a, "1000")
    pay(operator_a, "4000")
    return operator_a


@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_and_payouts_happen_once(concurrent_world, cashier_a, treasurer_a, admin_a):
    refund = request_refund(concurrent_world, cashier_a, "3000")
    approvers = [treasurer_a, admin_a]

    def approve(index: int) -> str:
        return refund_approve(refund=refund, acting_user=approvers[index % 2]).status

    approvals = in_threads(approve, 10)
    assert [r for r in approvals if not isinstance(r, Exception)] == ["approved"], approvals
    assert {r.code for r in approvals if isinstance(r, Exception)} == {"refund_approved"}, approvals

    def pay_out(index: int) -> str:
        return refund_pay_out(refund=refund, payout_reference=f"V-{index}", acting_user=approvers[index % 2]).status

    payouts = in_threads(pay_out, 10)
    assert [r for r in payouts if not isinstance(r, Exception)] == ["paid"], payouts
    assert {r.code for r in payouts if isinstance(r, Exception)} == {"refund_paid"}
    assert Transfer.objects.filter(reference=refund.ledger_reference).count() == 2
    assert balances(concurrent_world) == money(0, 0, 0)
    assert ledger_verify() == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_never_refund_more_than_the_credit(concurrent_world, cashier_a):
    def ask(index: int) -> int:
        return request_refund(concurrent_world, cashier_a, "1000", key=f"ask-{index}").pk

    results = in_threads(ask, 8)
    made = [r for r in results if not isinstance(r, Exception)]
    assert len(made) == 3, results
    assert {r.code for r in results if isinstance(r, Exception)} == {"refund_exceeds_available"}
    assert balances(concurrent_world) == money(0, 0, 0)
    assert payable(concurrent_world) == Decimal("3000")
    assert sorted(Refund.objects.values_list("sequence_number", flat=True)) == [1, 2, 3]
