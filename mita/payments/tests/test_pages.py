"""The payment pages: taking a payment, the receipt and its reprint, voids, the suspense queue, a customer account."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from mita.accounts.roles import Role
from mita.ledger.selectors import holder_balance
from mita.ledger.services import charge_post
from mita.payments.models import Payment, Receipt
from mita.payments.services import payment_receive
from mita.testing.factories import DEFAULT_PASSWORD, member

pytestmark = pytest.mark.django_db
HOLDER = "AAL-0001"


def charge(operator, amount="1200", holder=HOLDER, reference="bill:1", due=datetime.date(2026, 10, 31)):
    return charge_post(
        operator=operator,
        holder=holder,
        head="water_sales",
        amount=Decimal(amount),
        vat_rule="exempt",
        reference=reference,
        due_date=due,
        acting_user=None,
    )


def paid(operator, amount="1200", reference=HOLDER, channel="cash_office", user=None, key=None):
    return payment_receive(
        operator=operator,
        channel=channel,
        amount=Decimal(amount),
        account_reference=reference,
        idempotency_key=key or str(uuid.uuid4()),
        received_by=user,
    )


def form_body(**fields):
    return {
        "account_reference": HOLDER,
        "amount": "1200",
        "channel": "cash_office",
        "payer_name": "",
        "payer_phone": "",
        "idempotency_key": str(uuid.uuid4()),
    } | fields


@pytest.fixture
def cashier_a(operator_a):
    return member(Role.CASHIER, operator_a, name="Carla Cashier")


@pytest.fixture
def treasurer_a(operator_a):
    return member(Role.TREASURER, operator_a, name="Tom Treasurer")


# Taking a payment ----------------------------------------------------------------------------------------


def test_a_cashier_takes_a_cash_payment_and_sees_the_receipt_with_the_next_number(operator_a, cashier_a, client_for):
    # given an account charged 1,200 and one payment already taken today
    charge(operator_a, "1200")
    charge(operator_a, "300", holder="AAL-0002", reference="bill:2")
    paid(operator_a, "300", reference="AAL-0002")
    client = client_for(cashier_a)
    # when the cashier opens the form and records 1,200 cash for the account
    form = client.get("/payments/new/")
    assert form.status_code == 200
    assert 'value="cash_office"' in form.content.decode() and 'value="bank"' not in form.content.decode()
    key = form.context["form"].initial["idempotency_key"]
    response = client.post("/payments/new/", form_body(idempotency_key=key, payer_name="Jeanne"), follow=True)
    # then the receipt shows the next gapless number, the amount, the charge it paid, and the account owes nothing
    payment = Payment.objects.get(idempotency_key=key)
    assert response.redirect_chain[-1][0] == f"/payments/{payment.pk}/"
    page = response.content.decode()
    assert "AAL-R-000002" in page
    assert "1,200 RWF" in page and "bill:1" in page and "Jeanne" in page
    assert payment.status == Payment.Status.COMPLETED and payment.received_by == cashier_a
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("0")


def test_sending_the_same_form_twice_records_one_payment(operator_a, cashier_a, client_for):
    # given a charged account and a filled-in payment form
    charge(operator_a, "1200")
    client = client_for(cashier_a)
    body = form_body(idempotency_key=str(uuid.uuid4()))
    # when the form is sent twice (a double click)
    first = client.post("/payments/new/", body)
    second = client.post("/payments/new/", body)
    # then both land on the same receipt and one payment exists
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Payment.objects.count() == 1
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("0")


def test_the_same_form_sent_again_with_another_amount_is_refused_and_gets_a_new_key(operator_a, cashier_a, client_for):
    charge(operator_a, "1200")
    client = client_for(cashier_a)
    key = str(uuid.uuid4())
    client.post("/payments/new/", form_body(idempotency_key=key, amount="1000"))
    response = client.post("/payments/new/", form_body(idempotency_key=key, amount="1100"))
    assert response.status_code == 400
    assert "already used for another payment" in response.content.decode()
    assert response.context["form"].data["idempotency_key"] != key
    assert Payment.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"amount": "twelve"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "100.50"}, "amount"),  # RWF has no cents
        ({"account_reference": ""}, "account_reference"),
        ({"channel": "bank"}, "channel"),  # not a cashier's channel
        ({"payer_phone": "12"}, "payer_phone"),
    ],
)
def test_bad_input_shows_field_errors_and_saves_nothing(operator_a, cashier_a, client_for, fields, field):
    charge(operator_a, "1200")
    response = client_for(cashier_a).post("/payments/new/", form_body(**fields))
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("role", "channels"),
    [
        (Role.CASHIER, ["cash_office"]),
        (Role.REVENUE_COLLECTOR, ["cash_field"]),
        (Role.TREASURER, ["bank"]),
        (Role.OPERATOR_ADMIN, ["cash_office", "cash_field", "bank", "momo", "mpesa", "online"]),
    ],
)
def test_each_role_records_only_its_channels(operator_a, client_for, role, channels):
    user = member(role, operator_a)
    form = client_for(user).get("/payments/new/").context["form"]
    assert [value for value, _label in form.fields["channel"].choices] == channels


@pytest.mark.parametrize("role", [Role.BILLING_OFFICER, Role.STOREKEEPER, Role.TECHNICIAN, Role.CUSTOMER_CARE])
def test_other_operator_roles_may_not_open_the_payment_pages(operator_a, client_for, role):
    charge(operator_a, "1200")
    payment = paid(operator_a, "100")
    client = client_for(member(role, operator_a))
    for url in (
        "/payments/",
        "/payments/new/",
        f"/payments/{payment.pk}/",
        f"/payments/{payment.pk}/void/",
        "/payments/suspense/",
        f"/payments/accounts/{HOLDER}/",
    ):
        assert client.get(url).status_code == 403, url
    assert client.post("/payments/new/", form_body()).status_code == 403
    assert Payment.objects.count() == 1


def test_a_cashier_may_not_open_the_suspense_queue(operator_a, cashier_a, client_for):
    assert client_for(cashier_a).get("/payments/suspense/").status_code == 403


# The list and the receipt ------------------------------------------------------------------------------


def test_the_list_filters_by_status_channel_date_and_reference(operator_a, admin_a, client_for):
    charge(operator_a, "5000")
    paid(operator_a, "100", channel="cash_office")
    paid(operator_a, "200", channel="bank")
    paid(operator_a, "300", reference="NOBODY-1")
    client = client_for(admin_a)

    def receipts(query):
        response = client.get("/payments/" + query)
        assert response.status_code == 200
        return sorted(row.receipt.number for row in response.context["table"].page.object_list)

    assert receipts("") == ["AAL-R-000001", "AAL-R-000002", "AAL-R-000003"]
    assert receipts("?status=in_suspense") == ["AAL-R-000003"]
    assert receipts("?channel=bank") == ["AAL-R-000002"]
    assert receipts("?reference=nobody") == ["AAL-R-000003"]
    assert receipts("?reference=AAL-R-000001") == ["AAL-R-000001"]
    today = timezone.localdate()
    assert len(receipts(f"?date_from={today.isoformat()}&date_to={today.isoformat()}")) == 3
    assert receipts(f"?date_to={(today - datetime.timedelta(days=1)).isoformat()}") == []
    assert receipts("?sort=amount")  # sortable by a column


def test_a_reprint_is_counted_and_marked_copy(operator_a, cashier_a, client_for):
    # given a receipt never reprinted
    charge(operator_a, "1200")
    payment = paid(operator_a, "1200", user=cashier_a)
    client = client_for(cashier_a)
    assert "receipt-copy" not in client.get(f"/payments/{payment.pk}/").content.decode()
    # when the cashier reprints it twice
    client.post(f"/payments/{payment.pk}/reprint/")
    response = client.post(f"/payments/{payment.pk}/reprint/", follow=True)
    # then the receipt says COPY and the count is kept
    assert 'data-testid="receipt-copy">COPY' in response.content.decode()
    assert Receipt.objects.get(payment=payment).prints == 2


# Voids ---------------------------------------------------------------------------------------------------


def void_body(approver, password=DEFAULT_PASSWORD, reason="typed the wrong account"):
    return {"reason": reason, "approver": approver.pk, "approver_password": password}


def test_a_void_needs_another_supervisor_and_their_password(operator_a, admin_a, cashier_a, treasurer_a, client_for):
    # given a cash payment taken today by the cashier
    charge(operator_a, "1200")
    payment = paid(operator_a, "1200", user=cashier_a)
    client = client_for(cashier_a)
    url = f"/payments/{payment.pk}/void/"
    # the supervisors offered are the operator's admins and treasurers
    offered = set(client.get(url).context["form"].fields["approver"].queryset)
    assert offered == {admin_a, treasurer_a}
    # when the treasurer's password is wrong, nothing happens
    refused = client.post(url, void_body(treasurer_a, password="not it"))
    assert refused.status_code == 400
    assert refused.context["form"].errors["approver_password"]
    # a cashier cannot approve
    other_cashier = member(Role.CASHIER, operator_a)
    assert client.post(url, void_body(other_cashier)).context["form"].errors["approver"]
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED
    # when the treasurer types their password on the cashier's device
    done = client.post(url, void_body(treasurer_a), follow=True)
    # then the payment is voided, the account owes the charge again and the receipt says so
    payment.refresh_from_db()
    assert payment.status == Payment.Status.VOIDED
    assert payment.memo["void"]["approved_by"] == treasurer_a.pk
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("1200")
    assert "Voided" in done.content.decode()


def test_a_supervisor_cannot_approve_their_own_void(operator_a, treasurer_a, client_for):
    charge(operator_a, "1200")
    payment = paid(operator_a, "1200", user=treasurer_a)
    client = client_for(treasurer_a)
    url = f"/payments/{payment.pk}/void/"
    assert treasurer_a not in client.get(url).context["form"].fields["approver"].queryset
    response = client.post(url, void_body(treasurer_a))
    assert response.status_code == 400 and response.context["form"].errors["approver"]
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED


# Suspense ------------------------------------------------------------------------------------------------


def test_an_unknown_reference_lands_in_suspense_and_is_assigned_from_the_page(
    operator_a, cashier_a, treasurer_a, client_for
):
    # given an account owing 1,200 and a cash payment with a mistyped reference
    charge(operator_a, "1200")
    response = client_for(cashier_a).post("/payments/new/", form_body(account_reference="AAL-0O01"), follow=True)
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.IN_SUSPENSE
    assert "suspense" in response.content.decode()
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("1200")
    # the treasurer sees it in the queue
    client = client_for(treasurer_a)
    queue = client.get("/payments/suspense/")
    assert [row[0] for row in queue.context["rows"]] == [payment]
    # an unknown account is a clear error on the row's form and changes nothing
    refused = client.post(f"/payments/{payment.pk}/assign/", {f"p{payment.pk}-holder": "AAL-9999"})
    assert refused.status_code == 400
    assert "No customer account AAL-9999" in refused.content.decode()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.IN_SUSPENSE
    # when the treasurer assigns it to the right account
    done = client.post(f"/payments/{payment.pk}/assign/", {f"p{payment.pk}-holder": "aal-0001"}, follow=True)
    # then the queue is empty and the account's balance drops
    assert done.context["rows"] == []
    payment.refresh_from_db()
    assert payment.status == Payment.Status.COMPLETED and payment.holder == HOLDER
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("0")


def test_the_suspense_card_counts_the_payments_waiting(operator_a, treasurer_a, cashier_a, client_for):
    charge(operator_a, "1200")
    paid(operator_a, "100", reference="NOBODY-1")
    paid(operator_a, "100", reference="NOBODY-2")
    cards = dict((card.key, badge) for card, badge in client_for(treasurer_a).get("/").context["cards"])
    assert cards["payments.suspense"] == 2
    assert "payments.take" in cards
    cashier_cards = {card.key for card, _badge in client_for(cashier_a).get("/").context["cards"]}
    assert "payments.take" in cashier_cards and "payments.suspense" not in cashier_cards


# A customer account ------------------------------------------------------------------------------------


def test_the_account_page_shows_balance_credit_open_charges_and_payments(operator_a, cashier_a, client_for):
    # given two charges, a payment covering the first and part of the second
    charge(operator_a, "800", reference="bill:sep", due=datetime.date(2026, 9, 30))
    charge(operator_a, "1000", reference="bill:oct", due=datetime.date(2026, 10, 31))
    payment = paid(operator_a, "1200")
    # when the cashier opens the account
    response = client_for(cashier_a).get(f"/payments/accounts/{HOLDER}/")
    # then it owes 600, bill:oct is open for 600, and the payment is listed with its receipt
    assert response.status_code == 200
    summary = response.context["summary"]
    assert summary.balance == Decimal("600") and summary.credit == Decimal("0")
    assert [(c.reference, c.open_amount) for c in summary.open_charges] == [("bill:oct", Decimal("600"))]
    assert payment.receipt.number in response.content.decode()


def test_an_unknown_account_is_a_404(operator_a, cashier_a, client_for):
    assert client_for(cashier_a).get("/payments/accounts/AAL-NOPE/").status_code == 404


# Another operator --------------------------------------------------------------------------------------


def test_another_operators_admin_gets_404_on_our_payment_receipt_and_account(operator_a, admin_b, client_for):
    charge(operator_a, "1200")
    payment = paid(operator_a, "1200")
    suspense = paid(operator_a, "100", reference="NOBODY-1")
    client = client_for(admin_b)
    for url in (
        f"/payments/{payment.pk}/",
        f"/payments/{payment.pk}/void/",
        f"/payments/accounts/{HOLDER}/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/payments/{payment.pk}/reprint/").status_code == 404
    assert client.post(f"/payments/{suspense.pk}/assign/", {f"p{suspense.pk}-holder": HOLDER}).status_code == 404
    assert client.get("/payments/").context["table"].page.paginator.count == 0
    assert client.get("/payments/suspense/").context["rows"] == []
    assert Receipt.objects.get(payment=payment).prints == 0
