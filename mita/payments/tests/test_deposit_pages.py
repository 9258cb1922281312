"""The deposit, refund and correction pages: the schedule, an account's deposit, charges and their cancellation,
charge-backs, the refunds queue; roles, and another operator's 404."""

import uuid
from decimal import Decimal

import pytest

from mita.accounts.roles import Role
from mita.ledger.models import Charge
from mita.payments.deposits import deposit_rate_save
from mita.payments.models import ChargeCancellation, DepositRate, Payment, Refund
from mita.payments.refunds import refund_approve
from mita.payments.tests.deposit_world import HOLDER, balances, bill, deposit, money, pay, request_refund
from mita.testing.factories import DEFAULT_PASSWORD, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def cashier_a(operator_a):
    return member(Role.CASHIER, operator_a, name="Carla Cashier")


@pytest.fixture
def treasurer_a(operator_a):
    return member(Role.TREASURER, operator_a, name="Tom Treasurer")


# The schedule ----------------------------------------------------------------------------------------------


def test_the_admin_keeps_the_schedule_and_the_counter_reads_it(operator_a, admin_a, cashier_a, client_for):
    admin = client_for(admin_a)
    # a bad amount is shown on its field and saves nothing
    refused = admin.post("/payments/deposits/rates/", {"key": "domestic", "label": "Domestic", "amount": "5000.5"})
    assert refused.status_code == 400 and refused.context["form"].errors["amount"]
    assert not DepositRate.objects.exists()
    # the admin adds a line, then changes it
    assert (
        admin.post("/payments/deposits/rates/", {"key": "domestic", "label": "Domestic", "amount": "5000"}).status_code
        == 302
    )
    rate = DepositRate.objects.get()
    twice = admin.post("/payments/deposits/rates/", {"key": "Domestic", "label": "again", "amount": "1"})
    assert twice.status_code == 400 and "already has a deposit" in twice.content.decode()
    changed = admin.post(
        f"/payments/deposits/rates/{rate.pk}/", {"key": "domestic", "label": "Domestic tap", "amount": "6000"}
    )
    assert changed.status_code == 302
    rate.refresh_from_db()
    assert (rate.label, rate.amount) == ("Domestic tap", Decimal("6000"))
    # the cashier sees the schedule, without the form, and may not change it
    cashier = client_for(cashier_a)
    page = cashier.get("/payments/deposits/rates/")
    assert page.status_code == 200 and "Domestic tap" in page.content.decode()
    assert page.context["form"] is None
    assert (
        cashier.post("/payments/deposits/rates/", {"key": "kiosk", "label": "Kiosk", "amount": "1"}).status_code == 403
    )
    assert cashier.get(f"/payments/deposits/rates/{rate.pk}/").status_code == 403
    assert DepositRate.objects.count() == 1


# An account's deposit --------------------------------------------------------------------------------------


def test_the_treasurer_charges_adjusts_and_applies_a_deposit_from_the_account_page(
    operator_a, admin_a, treasurer_a, client_for
):
    deposit_rate_save(
        operator=operator_a, key="domestic", label="Domestic", amount=Decimal("5000"), acting_user=admin_a
    )
    bill(operator_a, "1200")
    client = client_for(treasurer_a)
    url = f"/payments/accounts/{HOLDER}/deposit/"
    # charging by the schedule, sent twice (a double click), charges once
    body = {
        "charge-key": "domestic",
        "charge-amount": "",
        "charge-reference": "WO-1",
        "charge-due_date": "2026-11-30",
        "charge-idempotency_key": str(uuid.uuid4()),
    }
    assert client.post(url + "charge/", body).status_code == 302
    assert client.post(url + "charge/", body).status_code == 302
    assert Charge.objects.filter(head="deposit").count() == 1
    pay(operator_a, "6200")
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["deposit"].held == Decimal("5000")
    assert 'data-testid="deposit-held">5,000 RWF' in page.content.decode()
    # neither a schedule line nor an amount is a form error
    neither = client.post(url + "adjust/", {"adjust-key": "", "adjust-amount": "", "adjust-reference": "PKG-2"})
    assert neither.status_code == 400 and neither.context["adjust_form"].non_field_errors()
    # lowering it to 2,000 gives 3,000 to the credit
    lowered = client.post(
        url + "adjust/", {"adjust-key": "", "adjust-amount": "2000", "adjust-reference": "PKG-2"}, follow=True
    )
    assert "moved to the customer" in lowered.content.decode()
    assert balances(operator_a) == money(0, 3000, 2000)
    # applying it at termination leaves 5,000 of credit to refund
    applied = client.post(url + "apply/", follow=True)
    assert "is credit to refund" in applied.content.decode()
    assert balances(operator_a) == money(0, 5000, 0)
    assert applied.context["deposit"].applied_at is not None


def test_applying_a_deposit_while_a_refund_of_it_waits_says_why_on_the_page(
    operator_a, cashier_a, treasurer_a, client_for
):
    deposit(operator_a, "5000")
    pay(operator_a, "5000")
    request_refund(operator_a, cashier_a, "1000", source="deposit")
    response = client_for(treasurer_a).post(f"/payments/accounts/{HOLDER}/deposit/apply/")
    assert response.status_code == 400
    assert "A refund of this deposit is waiting" in response.content.decode()
    assert balances(operator_a) == money(0, 0, 4000)


def test_the_counter_sees_a_deposit_but_only_the_treasury_changes_it(operator_a, cashier_a, client_for):
    deposit(operator_a, "5000")
    client = client_for(cashier_a)
    page = client.get(f"/payments/accounts/{HOLDER}/deposit/")
    assert page.status_code == 200 and 'data-testid="deposit-charge-form"' not in page.content.decode()
    for action in ("charge", "adjust", "apply"):
        assert client.post(f"/payments/accounts/{HOLDER}/deposit/{action}/", {}).status_code == 403
    assert client.get("/payments/accounts/AAL-NOPE/deposit/").status_code == 404
    assert balances(operator_a) == money(5000, 0, 0)


# Charges and their cancellation ----------------------------------------------------------------------------


def test_a_cashier_cancels_a_charge_with_a_supervisor_s_password(operator_a, cashier_a, treasurer_a, client_for):
    charge = bill(operator_a, "1200")
    client = client_for(cashier_a)
    listing = client.get(f"/payments/accounts/{HOLDER}/charges/")
    assert f'data-testid="charge-cancel-link-{charge.pk}"' in listing.content.decode()
    url = f"/payments/charges/{charge.pk}/cancel/"
    wrong = client.post(url, {"reason": "billed twice", "approver": treasurer_a.pk, "approver_password": "nope"})
    assert wrong.status_code == 400 and wrong.context["form"].errors["approver_password"]
    assert not ChargeCancellation.objects.exists()
    done = client.post(
        url, {"reason": "billed twice", "approver": treasurer_a.pk, "approver_password": DEFAULT_PASSWORD}
    )
    assert done.status_code == 302
    cancellation = ChargeCancellation.objects.get()
    assert (cancellation.cancelled_by, cancellation.approved_by) == (cashier_a, treasurer_a)
    assert balances(operator_a) == money(0, 0, 0)
    assert "Cancelled" in client.get(f"/payments/accounts/{HOLDER}/charges/").content.decode()
    assert 'data-testid="charge-cancelled"' in client.get(url).content.decode()


def test_a_supervisor_cancels_on_their_own_authority(operator_a, treasurer_a, client_for):
    charge = bill(operator_a, "1200")
    client = client_for(treasurer_a)
    form = client.get(f"/payments/charges/{charge.pk}/cancel/").context["form"]
    assert "approver" not in form.fields
    assert client.post(f"/payments/charges/{charge.pk}/cancel/", {"reason": "duplicate"}).status_code == 302
    assert ChargeCancellation.objects.get().approved_by == treasurer_a


def test_a_collector_may_not_cancel_charges(operator_a, client_for):
    charge = bill(operator_a, "1200")
    collector = client_for(member(Role.REVENUE_COLLECTOR, operator_a))
    assert collector.get(f"/payments/charges/{charge.pk}/cancel/").status_code == 403
    assert collector.post(f"/payments/charges/{charge.pk}/cancel/", {"reason": "x"}).status_code == 403


# Charge-backs --------------------------------------------------------------------------------------------


def test_the_treasurer_records_a_charge_back_from_the_receipt(operator_a, cashier_a, treasurer_a, client_for):
    bill(operator_a, "1200")
    momo = pay(operator_a, "1200", channel="momo")
    cash = pay(operator_a, "100", user=cashier_a)
    client = client_for(treasurer_a)
    receipt = client.get(f"/payments/{momo.pk}/").content.decode()
    assert 'data-testid="payment-chargeback-link"' in receipt
    assert 'data-testid="payment-chargeback-link"' not in client.get(f"/payments/{cash.pk}/").content.decode()
    assert (
        'data-testid="payment-chargeback-link"'
        not in client_for(cashier_a).get(f"/payments/{momo.pk}/").content.decode()
    )
    # a missing reversal reference is a field error
    missing = client.post(f"/payments/{momo.pk}/chargeback/", {"provider_reference": "", "reason": "disputed"})
    assert missing.status_code == 400 and missing.context["form"].errors["provider_reference"]
    done = client.post(
        f"/payments/{momo.pk}/chargeback/", {"provider_reference": "CB-1", "reason": "disputed"}, follow=True
    )
    momo.refresh_from_db()
    assert momo.status == Payment.Status.REVERSED
    assert "Reversed by the provider" in done.content.decode()
    assert balances(operator_a) == money(1100, 0, 0)
    assert 'data-testid="chargeback-not-possible"' in client.get(f"/payments/{cash.pk}/chargeback/").content.decode()
    assert client_for(cashier_a).get(f"/payments/{momo.pk}/chargeback/").status_code == 403


# Refunds ---------------------------------------------------------------------------------------------------


def refund_body(**fields):
    return {
        "holder": HOLDER,
        "source": "credit",
        "amount": "3000",
        "reason": "moving away",
        "payee_name": "Jeanne Uwase",
        "method": "cash",
        "payee_phone": "",
        "network": "",
        "bank_name": "",
        "bank_account": "",
        "idempotency_key": str(uuid.uuid4()),
    } | fields


@pytest.fixture
def with_credit(operator_a):
    bill(operator_a, "1000")
    pay(operator_a, "4000")
    return operator_a


def test_a_refund_goes_from_request_to_approval_by_another_to_payout(
    with_credit, cashier_a, treasurer_a, admin_a, client_for
):
    cashier = client_for(cashier_a)
    form = cashier.get(f"/payments/refunds/new/?holder={HOLDER}")
    assert 'data-testid="refund-available-credit">3,000 RWF' in form.content.decode()
    requested = cashier.post("/payments/refunds/new/", refund_body(), follow=True)
    refund = Refund.objects.get()
    assert requested.redirect_chain[-1][0] == f"/payments/refunds/{refund.pk}/"
    assert 'data-testid="refund-approve"' not in requested.content.decode()  # the cashier cannot approve
    assert balances(with_credit) == money(0, 0, 0)
    assert cashier.post(f"/payments/refunds/{refund.pk}/approve/").status_code == 403
    # the treasurer approves, the admin pays out
    approved = client_for(treasurer_a).post(f"/payments/refunds/{refund.pk}/approve/", follow=True)
    assert 'data-testid="refund-approved-by"' in approved.content.decode()
    admin = client_for(admin_a)
    paid = admin.post(
        f"/payments/refunds/{refund.pk}/payout/",
        {"payout-payout_reference": "V-12", "payout-payout_date": "2026-01-05"},
        follow=True,
    )
    refund.refresh_from_db()
    assert refund.status == Refund.Status.PAID and refund.payout_reference == "V-12"
    assert 'data-testid="refund-status">Paid out' in paid.content.decode()
    # paying it again is refused with the reason on the page
    again = admin.post(
        f"/payments/refunds/{refund.pk}/payout/",
        {"payout-payout_reference": "V-13", "payout-payout_date": "2026-01-05"},
    )
    assert again.status_code == 400 and "already paid out" in again.content.decode()


def test_a_supervisor_does_not_approve_their_own_request(with_credit, treasurer_a, client_for):
    client = client_for(treasurer_a)
    client.post("/payments/refunds/new/", refund_body())
    refund = Refund.objects.get()
    page = client.get(f"/payments/refunds/{refund.pk}/")
    assert 'data-testid="refund-approve"' not in page.content.decode()
    assert 'data-testid="refund-own-request"' in page.content.decode()
    refused = client.post(f"/payments/refunds/{refund.pk}/approve/")
    assert refused.status_code == 400 and "another treasurer or operator admin" in refused.content.decode()
    refund.refresh_from_db()
    assert refund.status == Refund.Status.REQUESTED


def test_a_rejection_needs_a_reason_and_gives_the_credit_back(with_credit, cashier_a, treasurer_a, client_for):
    refund = request_refund(with_credit, cashier_a, "3000")
    client = client_for(treasurer_a)
    assert client.post(f"/payments/refunds/{refund.pk}/reject/", {"reject-reason": ""}).status_code == 400
    assert (
        client.post(f"/payments/refunds/{refund.pk}/reject/", {"reject-reason": "stays a customer"}).status_code == 302
    )
    refund.refresh_from_db()
    assert refund.status == Refund.Status.REJECTED
    assert balances(with_credit) == money(0, 3000, 0)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"amount": "5000"}, "amount"),  # more than the credit
        ({"amount": "10.5"}, "amount"),
        ({"method": "bank"}, "bank_name"),
        ({"method": "mobile_money", "payee_phone": "+250788123456"}, "network"),
        ({"holder": "AAL-NOPE"}, "holder"),
        ({"reason": ""}, "reason"),
    ],
)
def test_a_bad_request_shows_the_field_and_reserves_nothing(with_credit, cashier_a, client_for, fields, field):
    response = client_for(cashier_a).post("/payments/refunds/new/", refund_body(**fields))
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not Refund.objects.exists() and balances(with_credit) == money(0, 3000, 0)


def test_the_queue_filters_by_status_and_its_card_counts_what_waits(with_credit, cashier_a, treasurer_a, client_for):
    first = request_refund(with_credit, cashier_a, "1000")
    request_refund(with_credit, cashier_a, "500")
    refund_approve(refund=first, acting_user=treasurer_a)
    client = client_for(treasurer_a)
    assert [r.pk for r in client.get("/payments/refunds/?status=approved").context["refunds"]] == [first.pk]
    assert len(client.get("/payments/refunds/").context["refunds"]) == 2
    assert len(client.get(f"/payments/refunds/?holder={first.number}").context["refunds"]) == 1
    cards = dict((card.key, badge) for card, badge in client.get("/").context["cards"])
    assert cards["payments.refunds"] == 2


@pytest.mark.parametrize("role", [Role.BILLING_OFFICER, Role.REVENUE_COLLECTOR, Role.STOREKEEPER])
def test_other_roles_may_not_open_the_refund_pages(with_credit, cashier_a, operator_a, client_for, role):
    refund = request_refund(with_credit, cashier_a, "1000")
    client = client_for(member(role, operator_a))
    for url in ("/payments/refunds/", "/payments/refunds/new/", f"/payments/refunds/{refund.pk}/"):
        assert client.get(url).status_code == 403, url
    assert client.post("/payments/refunds/new/", refund_body()).status_code == 403


# Another operator ----------------------------------------------------------------------------------------


def test_another_operators_admin_gets_404_on_every_deposit_refund_and_correction_page(
    operator_a, admin_a, cashier_a, admin_b, client_for
):
    rate = deposit_rate_save(
        operator=operator_a, key="domestic", label="Domestic", amount=Decimal("5000"), acting_user=admin_a
    )
    charge = bill(operator_a, "1000")
    momo = pay(operator_a, "4000", channel="momo")
    refund = request_refund(operator_a, cashier_a, "1000")
    client = client_for(admin_b)
    for url in (
        f"/payments/deposits/rates/{rate.pk}/",
        f"/payments/accounts/{HOLDER}/deposit/",
        f"/payments/accounts/{HOLDER}/charges/",
        f"/payments/charges/{charge.pk}/cancel/",
        f"/payments/{momo.pk}/chargeback/",
        f"/payments/refunds/{refund.pk}/",
    ):
        assert client.get(url).status_code == 404, url
    for url, body in (
        (f"/payments/deposits/rates/{rate.pk}/", {"key": "x", "label": "x", "amount": "1"}),
        (f"/payments/accounts/{HOLDER}/deposit/charge/", {}),
        (f"/payments/accounts/{HOLDER}/deposit/adjust/", {}),
        (f"/payments/accounts/{HOLDER}/deposit/apply/", {}),
        (f"/payments/charges/{charge.pk}/cancel/", {"reason": "x"}),
        (f"/payments/{momo.pk}/chargeback/", {"provider_reference": "X", "reason": "x"}),
        (f"/payments/refunds/{refund.pk}/approve/", {}),
        (f"/payments/refunds/{refund.pk}/reject/", {"reject-reason": "x"}),
        (f"/payments/refunds/{refund.pk}/payout/", {"payout-payout_date": "2026-01-01"}),
    ):
        assert client.post(url, body).status_code == 404, url
    assert client.get("/payments/refunds/").context["refunds"].__len__() == 0
    assert "Domestic" not in client.get("/payments/deposits/rates/").content.decode()
    refused = client.post("/payments/refunds/new/", refund_body())
    assert refused.status_code == 400 and refused.context["form"].errors["holder"]
    rate.refresh_from_db()
    refund.refresh_from_db()
    momo.refresh_from_db()
    assert (rate.amount, refund.status, momo.status) == (
        Decimal("5000"),
        Refund.Status.REQUESTED,
        Payment.Status.COMPLETED,
    )
    assert not ChargeCancellation.objects.exists()
