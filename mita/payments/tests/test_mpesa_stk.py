"""M-Pesa STK pushes whose result callback never comes: the poller's STK Push Query completes them (one payment keyed
by the CheckoutRequestID), marks their failures, expires the old ones; and however the callback, the query and a C2B
confirmation of the same money interleave, one push makes one payment."""

import datetime
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from mita.core.errors import Conflict
from mita.core.models import AuditEntry
from mita.core.schedule import periodic_tasks
from mita.integrations.mpesa.fake import DROPPED, FakeDaraja
from mita.ledger.selectors import holder_balance, ledger_verify
from mita.payments.models import Payment, Receipt
from mita.payments.models_mpesa import MpesaChannelConfig, StkRequest
from mita.payments.mpesa import mpesa_channel_configure, mpesa_urls_register, stk_push
from mita.payments.mpesa_query import stk_check, stk_poll
from mita.payments.tests.test_mpesa import HOLDER, PASSKEY, PHONE, SHORTCODE, SUCCESS, charge, post, url
from mita.testing.threads import in_threads

pytestmark = pytest.mark.django_db
LATER = datetime.timedelta(seconds=61)  # past MITA_MPESA_STK_POLL_AFTER_SECONDS (60)


@pytest.fixture
def daraja(settings) -> Iterator[FakeDaraja]:  # type: ignore[no-untyped-def]
    """The fake Daraja, losing every STK result callback (a test sends one itself when it wants one)."""
    with FakeDaraja(
        consumer_key="test-key", consumer_secret="test-secret", passkeys={SHORTCODE: PASSKEY}, stk_callbacks=False
    ) as fake:
        settings.MITA_MPESA_BASE_URL = fake.base_url
        settings.MITA_MPESA_CONSUMER_KEY = "test-key"
        settings.MITA_MPESA_CONSUMER_SECRET = "test-secret"
        settings.MITA_MPESA_TIMEOUT_SECONDS = 2.0
        yield fake


@pytest.fixture
def paybill_a(operator_a, admin_a) -> MpesaChannelConfig:  # type: ignore[no-untyped-def]
    return mpesa_channel_configure(operator=operator_a, acting_user=admin_a, shortcode=SHORTCODE, passkey=PASSKEY)


@pytest.fixture
def site(live_server, settings, daraja, paybill_a, admin_a):  # type: ignore[no-untyped-def]
    settings.MITA_PUBLIC_URL = live_server.url
    mpesa_urls_register(config=paybill_a, acting_user=admin_a)
    return live_server


def ask(operator: Any, user: Any, amount: str = "250", **extra: Any) -> StkRequest:
    return stk_push(
        operator=operator, account_reference=HOLDER, amount=Decimal(amount), phone=PHONE, acting_user=user, **extra
    )


def receipt_of(daraja: FakeDaraja, stk: StkRequest) -> str:
    return next(push.receipt for push in daraja.stk_pushes if push.checkout_request_id == stk.checkout_request_id)


def late_callback(daraja: FakeDaraja, stk: StkRequest) -> dict[str, Any]:
    """The result callback Safaricom lost, as it would have been (same receipt number as the push's result)."""
    return daraja.stk_callback_payload(stk.checkout_request_id, receipt=receipt_of(daraja, stk))


# The poller ------------------------------------------------------------------------------------------------------


def test_a_paid_push_whose_callback_was_lost_is_completed_by_the_poller(site, daraja, operator_a, admin_a):
    import mita.payments.tasks as tasks

    # given a customer owing 1,000 who paid a 250 prompt, and Safaricom lost the result callback
    charge(operator_a, "1000")
    stk = ask(operator_a, admin_a)
    assert daraja.stk_complete(stk.checkout_request_id, 0) == DROPPED
    stk.refresh_from_db()
    assert stk.status == StkRequest.Status.PENDING
    # when the poller runs a moment later, the callback still has its time: nothing is asked
    assert stk_poll().checked == 0 and daraja.stk_pushes[0].queries == 0
    # when it runs after the quiet period (the periodic task, as the worker runs it)
    assert "payments.mpesa_stk_poll" in {periodic.name for periodic in periodic_tasks()}
    StkRequest.objects.filter(pk=stk.pk).update(created_at=timezone.now() - LATER)
    result = tasks.mpesa_stk_poll_pending.enqueue().return_value
    # then Daraja was asked once and the push is paid, by the query, with one payment on the account
    assert result == {"checked": 1, "paid": 1, "failed": 0, "expired": 0, "pending": 0, "errors": 0}
    assert daraja.stk_pushes[0].queries == 1
    stk.refresh_from_db()
    payment = Payment.objects.get()
    assert (stk.status, stk.completed_via, stk.payment, stk.receipt_number) == ("paid", "query", payment, "")
    # keyed by the CheckoutRequestID: the query tells no receipt number
    assert payment.idempotency_key == f"mpesa:stk:{stk.checkout_request_id}"
    assert (payment.amount, payment.holder, payment.channel, payment.provider_reference) == (
        Decimal("250"),
        HOLDER,
        "mpesa",
        stk.checkout_request_id,
    )
    assert Receipt.objects.get(payment=payment).number == "AAL-R-000001"
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("750")
    assert ledger_verify() == []


def test_a_late_callback_after_the_poller_adds_the_receipt_number_and_no_second_payment(
    site, daraja, operator_a, admin_a
):
    charge(operator_a, "1000")
    stk = ask(operator_a, admin_a)
    daraja.stk_complete(stk.checkout_request_id, 0)
    stk_check(stk_id=stk.pk)
    payment = Payment.objects.get()
    receipt = receipt_of(daraja, stk)
    # when the lost callback arrives after all
    delivery = daraja.post(daraja.stk_pushes[0].callback_url, late_callback(daraja, stk))
    # then Safaricom is thanked, nothing more is paid, and the push and its payment learn the receipt number
    assert delivery.status == 200
    assert Payment.objects.get() == payment and Receipt.objects.count() == 1
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("750")
    stk.refresh_from_db()
    payment.refresh_from_db()
    assert (stk.status, stk.completed_via, stk.receipt_number) == ("paid", "query", receipt)
    assert payment.provider_reference == receipt and payment.memo["mpesa_receipt"] == receipt
    assert AuditEntry.objects.filter(action="mpesa.stk_receipt_learnt", target_id=str(stk.pk)).count() == 1
    # and the same callback again changes nothing
    assert daraja.post(daraja.stk_pushes[0].callback_url, late_callback(daraja, stk)).status == 200
    assert Payment.objects.count() == 1
    assert AuditEntry.objects.filter(action="mpesa.stk_receipt_learnt").count() == 1


def test_a_c2b_confirmation_of_money_the_query_recorded_is_the_same_payment(
    client, site, daraja, paybill_a, operator_a, admin_a
):
    # given a push paid by query, whose receipt the late callback told
    charge(operator_a, "1000")
    stk = ask(operator_a, admin_a)
    daraja.stk_complete(stk.checkout_request_id, 0)
    stk_check(stk_id=stk.pk)
    daraja.post(daraja.stk_pushes[0].callback_url, late_callback(daraja, stk))
    receipt = receipt_of(daraja, stk)
    # when the paybill also gets a C2B confirmation of that M-Pesa transaction
    confirmation = daraja.c2b_payload(shortcode=SHORTCODE, bill_ref_number=HOLDER, amount="250", trans_id=receipt)
    assert post(client, url("c2b_confirmation", paybill_a), confirmation).json() == SUCCESS
    # then it is a replay of the push's payment
    assert Payment.objects.count() == 1
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("750")
    # and the same TransID with another amount is refused and kept for the reconciliation team
    response = post(client, url("c2b_confirmation", paybill_a), {**confirmation, "TransAmount": "2500.00"})
    assert response.status_code == 409 and response.json()["error"]["code"] == "idempotency_key_reused"
    assert AuditEntry.objects.get(action="mpesa.callback_refused").detail["key"] == f"mpesa:{receipt}"
    assert Payment.objects.count() == 1


def test_money_reported_by_c2b_before_the_late_callback_is_flagged_as_recorded_twice(
    client, site, daraja, paybill_a, operator_a, admin_a
):
    # the query recorded the push without its receipt; a C2B confirmation of the same transaction cannot know it
    charge(operator_a, "1000")
    stk = ask(operator_a, admin_a)
    daraja.stk_complete(stk.checkout_request_id, 0)
    stk_check(stk_id=stk.pk)
    receipt = receipt_of(daraja, stk)
    confirmation = daraja.c2b_payload(shortcode=SHORTCODE, bill_ref_number=HOLDER, amount="250", trans_id=receipt)
    assert post(client, url("c2b_confirmation", paybill_a), confirmation).json() == SUCCESS
    assert Payment.objects.count() == 2
    # when the late callback tells the receipt, the double is found and put in front of the reconciliation team
    daraja.post(daraja.stk_pushes[0].callback_url, late_callback(daraja, stk))
    flagged = AuditEntry.objects.get(action="mpesa.recorded_twice")
    stk.refresh_from_db()
    assert flagged.detail["receipt"] == receipt
    assert sorted(flagged.detail["payments"]) == sorted(Payment.objects.values_list("pk", flat=True))
    assert stk.payment.idempotency_key == f"mpesa:stk:{stk.checkout_request_id}"


@pytest.mark.parametrize(
    ("code", "words"),
    [(1032, "cancelled the prompt"), (1037, "could not be reached"), (1, "balance is too low")],
)
def test_a_failed_push_is_marked_failed_with_its_reason(site, daraja, operator_a, admin_a, code, words):
    charge(operator_a, "1000")
    stk = ask(operator_a, admin_a)
    daraja.stk_complete(stk.checkout_request_id, code)
    assert stk_poll(now=timezone.now() + LATER).failed == 1
    stk.refresh_from_db()
    assert (stk.status, stk.result_code, stk.completed_via) == ("failed", code, "query")
    assert words in stk.reason
    assert Payment.objects.count() == 0
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("1000")


def test_an_unanswered_push_is_queried_now_and_then_and_expires_when_very_old(
    site, daraja, operator_a, admin_a, settings
):
    charge(operator_a, "1000")
    stk = ask(operator_a, admin_a)
    start = timezone.now()
    # Daraja says "being processed": the push stays pending, noted as queried
    assert stk_poll(now=start + LATER).pending == 1
    stk.refresh_from_db()
    assert (stk.status, stk.checks, stk.last_error) == ("pending", 1, "")
    # a run a moment later leaves it alone; one after the quiet period asks again
    assert stk_poll(now=start + LATER + datetime.timedelta(seconds=5)).checked == 0
    assert stk_poll(now=start + 2 * LATER).pending == 1
    # past MITA_MPESA_STK_EXPIRE_AFTER_SECONDS it is given up
    settings.MITA_MPESA_STK_EXPIRE_AFTER_SECONDS = 120
    assert stk_poll(now=start + 3 * LATER).expired == 1
    stk.refresh_from_db()
    assert stk.status == StkRequest.Status.EXPIRED and "stopped waiting" in stk.reason
    assert daraja.stk_pushes[0].queries == 3
    # an expired push is not queried again, but the money still counts if Safaricom reports it paid
    assert stk_poll(now=start + 4 * LATER).checked == 0
    daraja.stk_complete(stk.checkout_request_id, 0)
    assert daraja.post(daraja.stk_pushes[0].callback_url, late_callback(daraja, stk)).status == 200
    stk.refresh_from_db()
    assert (stk.status, stk.completed_via) == ("paid", "callback")
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("750")


def test_when_daraja_is_down_the_poller_notes_it_and_stops_early(site, daraja, operator_a, admin_a):
    charge(operator_a, "10000")
    pushes = [ask(operator_a, admin_a, amount=str(100 + i)) for i in range(5)]
    daraja.fail("http500", count=-1)
    result = stk_poll(now=timezone.now() + LATER)
    # three errors in a row: Daraja is down, the other pushes wait for the next run
    assert (result.checked, result.errors, result.pending) == (3, 3, 3)
    for stk in pushes:
        stk.refresh_from_db()
        assert stk.status == StkRequest.Status.PENDING
    assert sum(bool(stk.last_error) for stk in pushes) == 3
    assert all("HTTP 500" in stk.last_error for stk in pushes if stk.last_error)
    # Daraja is back: the next run takes the ones not yet asked first
    daraja.fail("none")
    assert stk_poll(now=timezone.now() + LATER).checked == 2


def test_a_push_daraja_never_acknowledged_is_failed_once_its_send_is_surely_over(daraja, paybill_a, operator_a):
    charge(operator_a, "1000")
    stk = StkRequest.objects.create(
        operator=operator_a, account_reference=HOLDER, amount=Decimal("250"), currency="RWF", phone="254708374149"
    )
    assert stk_poll(now=timezone.now() + LATER).pending == 1  # the send may still be under way (the timeout)
    assert stk_poll(now=timezone.now() + datetime.timedelta(minutes=5)).failed == 1
    stk.refresh_from_db()
    assert stk.status == StkRequest.Status.FAILED and stk.reason == "Daraja never acknowledged the prompt."
    assert daraja.stk_pushes == []


def test_a_push_whose_callback_came_is_never_queried(site, daraja, operator_a, admin_a):
    charge(operator_a, "1000")
    stk = ask(operator_a, admin_a)
    daraja.stk_complete(stk.checkout_request_id, 0, deliver=True)
    stk.refresh_from_db()
    assert (stk.status, stk.completed_via) == ("paid", "callback")
    assert stk_poll(now=timezone.now() + LATER).checked == 0
    assert stk_check(stk_id=stk.pk) == stk and daraja.stk_pushes[0].queries == 0
    assert Payment.objects.get().idempotency_key == f"mpesa:{receipt_of(daraja, stk)}"


def test_a_push_of_an_operator_no_longer_set_up_is_noted_not_queried(site, daraja, operator_a, admin_a):
    charge(operator_a, "1000")
    stk = ask(operator_a, admin_a)
    MpesaChannelConfig.objects.filter(operator=operator_a).update(passkey="")
    assert stk_poll(now=timezone.now() + LATER).errors == 1
    stk.refresh_from_db()
    assert stk.status == "pending" and "no longer set up" in stk.last_error
    assert daraja.stk_pushes[0].queries == 0


# Idempotency of the push itself -----------------------------------------------------------------------------------


def test_the_same_push_sent_twice_with_its_key_prompts_the_customer_once(daraja, paybill_a, operator_a, admin_a):
    charge(operator_a, "1000")
    first = ask(operator_a, admin_a, idempotency_key="form-1")
    again = ask(operator_a, admin_a, idempotency_key="form-1")
    assert again == first and len(daraja.stk_pushes) == 1 and StkRequest.objects.count() == 1
    # the same key for another amount is refused, and prompts nobody
    with pytest.raises(Conflict) as raised:
        ask(operator_a, admin_a, amount="300", idempotency_key="form-1")
    assert raised.value.code == "idempotency_key_reused" and raised.value.status == 409
    assert len(daraja.stk_pushes) == 1
    # another key is another prompt
    assert ask(operator_a, admin_a, idempotency_key="form-2") != first and len(daraja.stk_pushes) == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_pushes_with_one_key_prompt_the_customer_once(daraja, paybill_a, operator_a, admin_a):
    charge(operator_a, "1000")
    results = in_threads(lambda _i: ask(operator_a, admin_a, idempotency_key="double-click"), 8)
    assert all(isinstance(result, StkRequest) for result in results), results
    assert {result.pk for result in results} == {StkRequest.objects.get().pk}
    assert len(daraja.stk_pushes) == 1


# The callback and the poller at the same moment ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_callback_and_the_poller_racing_on_one_push_make_one_payment(site, daraja, operator_a, admin_a):
    # given pushes the customers paid, whose callbacks Safaricom holds back
    charge(operator_a, "10000")
    rounds = 5
    for _round in range(rounds):
        stk = ask(operator_a, admin_a, amount="100")
        daraja.stk_complete(stk.checkout_request_id, 0)
        callback = late_callback(daraja, stk)
        callback_url = next(
            p.callback_url for p in daraja.stk_pushes if p.checkout_request_id == stk.checkout_request_id
        )

        # when two callbacks (over HTTP, to the running site) and two pollers' queries arrive at the same moment
        def race(index: int, stk: StkRequest = stk, callback: dict[str, Any] = callback, to: str = callback_url) -> Any:
            return daraja.post(to, callback) if index % 2 == 0 else stk_check(stk_id=stk.pk)

        results = in_threads(race, 4)

        # then each answered without error, and the push made exactly one payment, which knows the receipt number
        assert [result.status for result in results[0::2]] == [200, 200], results
        assert all(isinstance(result, StkRequest) for result in results[1::2]), results
        stk.refresh_from_db()
        assert stk.status == StkRequest.Status.PAID
        assert Payment.objects.count() == _round + 1
        assert stk.receipt_number == receipt_of(daraja, stk)
        assert stk.payment is not None and stk.payment.provider_reference == stk.receipt_number
    assert Payment.objects.count() == rounds and Receipt.objects.count() == rounds
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("10000") - rounds * Decimal("100")
    assert ledger_verify() == []


def test_a_result_that_came_before_the_push_knew_its_id_is_not_paid_twice(site, daraja, operator_a, admin_a):
    # given a push whose paid result reached Mita before Mita had saved its CheckoutRequestID (taken into suspense)
    charge(operator_a, "1000")
    stk = ask(operator_a, admin_a)
    checkout_id = stk.checkout_request_id
    StkRequest.objects.filter(pk=stk.pk).update(checkout_request_id="")
    daraja.stk_complete(checkout_id, 0)
    assert daraja.post(daraja.stk_pushes[0].callback_url, late_callback(daraja, stk)).status == 200
    orphan = Payment.objects.get()
    assert (orphan.status, orphan.account_reference) == (Payment.Status.IN_SUSPENSE, f"STK {checkout_id}")
    StkRequest.objects.filter(pk=stk.pk).update(checkout_request_id=checkout_id)
    # when the poller finds the push paid
    assert stk_poll(now=timezone.now() + LATER).paid == 1
    # then the suspense payment is the push's: assigned to the account, with no second payment
    orphan.refresh_from_db()
    stk.refresh_from_db()
    assert Payment.objects.count() == 1 and stk.payment == orphan
    assert (orphan.status, orphan.holder) == (Payment.Status.COMPLETED, HOLDER)
    assert stk.receipt_number == receipt_of(daraja, stk) == orphan.provider_reference
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("750")
    assert ledger_verify() == []
