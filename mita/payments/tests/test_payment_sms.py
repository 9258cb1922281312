"""The SMS confirming a payment on a customer account: to whom, in which language, saying what, and when."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import formats, translation

from mita.accounts.roles import Role
from mita.ledger.services import charge_post
from mita.notifications.models import OutboxMessage
from mita.payments.contacts import Contact, register_contact_lookup, unregister_contact_lookup
from mita.payments.services import payment_assign, payment_receive
from mita.testing.factories import member

pytestmark = pytest.mark.django_db
HOLDER = "AAL-0001"


def charge(operator, amount="1000", holder=HOLDER, reference="bill:1"):
    return charge_post(
        operator=operator,
        holder=holder,
        head="water_sales",
        amount=Decimal(amount),
        vat_rule="exempt",
        reference=reference,
        due_date=datetime.date(2026, 10, 31),
        acting_user=None,
    )


def paid(operator, amount, *, reference=HOLDER, phone="", key=None, channel="cash_office"):
    return payment_receive(
        operator=operator,
        channel=channel,
        amount=Decimal(amount),
        account_reference=reference,
        idempotency_key=key or str(uuid.uuid4()),
        received_by=None,
        payer_phone=phone,
    )


def confirmations():
    return list(OutboxMessage.objects.filter(template__startswith="payments.received").order_by("pk"))


@pytest.fixture
def contacts():
    """Stands in for the customers app: registers what it knows of each account, and unregisters after."""
    known: dict[str, Contact] = {}

    def lookup(operator, holder):
        return known.get(holder)

    register_contact_lookup(lookup)
    yield known
    unregister_contact_lookup(lookup)


def test_a_payment_on_an_account_texts_the_payer_the_receipt_amount_account_and_balance(
    operator_a, django_capture_on_commit_callbacks
):
    charge(operator_a, "1000")
    # when a payment of 400 comes in with the payer's phone
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        payment = paid(operator_a, "400", phone="+250788123456")
    # then one SMS is queued to that phone, saying the receipt, amount, account and what is still due
    [message] = confirmations()
    assert message.channel == "sms" and message.to == "+250788123456" and message.operator == operator_a
    assert message.template == "payments.received"
    assert message.body == (
        f"Amazi Alpha Ltd: we received 400 RWF for account {HOLDER}, receipt {payment.receipt.number}. "
        "Balance due: 600 RWF. Thank you."
    )
    # and it is handed to the gateway once the payment's transaction commits
    assert len(callbacks) == 1
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.KEPT  # the default outbox-only gateway took it


def test_an_overpayment_says_the_credit_the_customer_now_has(operator_a):
    charge(operator_a, "1000")
    payment = paid(operator_a, "1250", phone="+250788123456")
    [message] = confirmations()
    assert message.template == "payments.received_in_credit"
    assert f"receipt {payment.receipt.number}" in message.body and "Your credit: 250 RWF" in message.body


def test_no_phone_no_sms_and_an_unusable_number_is_not_texted(operator_a):
    charge(operator_a, "1000")
    paid(operator_a, "100")
    paid(operator_a, "100", phone="2547 ***** 126", channel="mpesa")  # M-Pesa's masked MSISDN
    paid(operator_a, "100", phone="12")
    assert confirmations() == []


def test_a_provider_number_without_the_plus_is_texted_in_e164(operator_a):
    charge(operator_a, "1000")
    paid(operator_a, "100", phone="250788123456", channel="momo")
    [message] = confirmations()
    assert message.to == "+250788123456"


def test_the_customer_accounts_own_phone_and_language_come_first(operator_a, contacts):
    charge(operator_a, "1000")
    contacts[HOLDER] = Contact(phone="+250722000111", language="fr", name="Jeanne Uwase")
    paid(operator_a, "1500", phone="+250788123456")
    [message] = confirmations()
    assert message.to == "+250722000111" and message.language == "fr"
    # the figures are written as French writes numbers
    with translation.override("fr"):
        french_amount = formats.number_format(Decimal("1500"), decimal_pos=0, force_grouping=True)
    assert french_amount != "1,500"
    assert f"{french_amount} RWF" in message.body


def test_a_known_account_without_a_phone_falls_back_to_the_payer_in_the_accounts_language(operator_a, contacts):
    charge(operator_a, "1000")
    contacts[HOLDER] = Contact(phone="", language="rw")
    paid(operator_a, "300", phone="+250788123456")
    [message] = confirmations()
    assert message.to == "+250788123456" and message.language == "rw"


def test_a_payment_in_suspense_is_texted_when_it_is_assigned_not_before(operator_a):
    charge(operator_a, "1000")
    treasurer = member(Role.TREASURER, operator_a)
    held = paid(operator_a, "700", reference="AAL-01", phone="+250788123456")
    assert confirmations() == []
    payment_assign(payment=held, holder_reference=HOLDER, acting_user=treasurer)
    [message] = confirmations()
    assert f"receipt {held.receipt.number}" in message.body
    assert f"for account {HOLDER}" in message.body and "Balance due: 300 RWF" in message.body


def test_a_replayed_payment_is_texted_once(operator_a):
    charge(operator_a, "1000")
    first = paid(operator_a, "100", phone="+250788123456", key="same-key")
    again = paid(operator_a, "100", phone="+250788123456", key="same-key")
    assert again.pk == first.pk
    assert len(confirmations()) == 1


def test_a_payment_that_rolls_back_sends_nothing(operator_a, django_capture_on_commit_callbacks):
    charge(operator_a, "1000")
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        paid(operator_a, "100", phone="+250788123456")
        raise RuntimeError("the caller failed after taking the payment")
    assert confirmations() == []
    assert callbacks == []


def test_taking_a_payment_through_the_page_texts_the_payer(operator_a, client_for):
    charge(operator_a, "1000")
    cashier = member(Role.CASHIER, operator_a)
    body = {
        "account_reference": HOLDER,
        "amount": "1000",
        "channel": "cash_office",
        "payer_name": "Jeanne",
        "payer_phone": "0788123456",
        "idempotency_key": str(uuid.uuid4()),
    }
    assert client_for(cashier).post("/payments/new/", body).status_code == 302
    [message] = confirmations()
    assert message.to == "+250788123456" and "Balance due: 0 RWF" in message.body


def test_a_failing_contact_lookup_never_costs_the_payment(operator_a, contacts):
    charge(operator_a, "1000")

    def broken(operator, holder):
        OutboxMessage.objects.raw("SELECT * FROM no_such_table")[0]  # a database error inside the transaction

    register_contact_lookup(broken)
    try:
        payment = paid(operator_a, "400", phone="+250788123456")
    finally:
        unregister_contact_lookup(broken)
    # the payment is taken and the payer is still texted
    assert payment.status == "completed" and payment.receipt.number
    [message] = confirmations()
    assert message.to == "+250788123456"


def test_a_payment_to_a_connection_texts_its_customers_phone_in_their_language(operator_a):
    # given Jeanne's connection AAL-0001, registered in the customers app with her phone and French
    from mita.customers.services import connection_create, customer_create

    jeanne = customer_create(
        operator=operator_a, acting_user=None, name="Jeanne Uwase", phone="0722000111", language="fr"
    )
    connection_create(
        operator=operator_a,
        customer=jeanne,
        number=HOLDER,
        utility="water",
        property_type="residential",
        acting_user=None,
    )
    charge(operator_a, "1000")
    # when someone else pays for her account, quoting it in lower case, with their own phone
    paid(operator_a, "400", reference=HOLDER.lower(), phone="+250788123456")
    # then the SMS goes to Jeanne's phone, in French, not to the payer's
    [message] = confirmations()
    assert (message.to, message.language) == ("+250722000111", "fr")
