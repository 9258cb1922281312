"""MTN MoMo end to end: our real client against the fake on loopback, the callback as a hint, the poller, and
exactly one payment however many callbacks arrive at once."""

import datetime
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import close_old_connections, connection
from django.test import Client
from django.urls import include, path, reverse
from django.utils import timezone

from mita import urls as root_urls
from mita.core.errors import DomainError
from mita.core.schedule import periodic_tasks
from mita.integrations.momo.fake import FakeMomo
from mita.ledger.models import Transfer
from mita.ledger.selectors import holder_balance, ledger_verify, trial_balance
from mita.ledger.services import charge_post
from mita.payments.models import Payment, Receipt
from mita.payments.models_momo import MomoRequest
from mita.payments.momo import momo_channel_configure, momo_confirm, momo_poll, request_to_pay
from mita.testing.factories import member

# The tests wire the MoMo URLs (and the payment pages the menu links to) themselves, whether or not mita/urls.py
# does yet.
urlpatterns = list(root_urls.urlpatterns)
for _prefix, _module, _namespace in [
    ("payments/momo/", "mita.payments.views_momo", "momo"),
    ("payments/", "mita.payments.urls", "payments"),
]:
    if not any(getattr(pattern, "namespace", None) == _namespace for pattern in urlpatterns):
        urlpatterns.append(path(_prefix, include(_module)))
pytestmark = pytest.mark.urls(__name__)

HOLDER = "AAL-000123"
OTHER_HOLDER = "AAL-000124"
PAYER = "+250788123456"
DUE = datetime.date(2026, 10, 31)


@pytest.fixture
def fake_momo(settings) -> Iterator[FakeMomo]:  # type: ignore[no-untyped-def]
    """The fake MoMo API on a free loopback port, and Mita pointed at it (the fake's credentials are the defaults)."""
    with FakeMomo() as fake:
        settings.MITA_MOMO_BASE_URL = fake.base_url
        settings.MITA_MOMO_TIMEOUT_SECONDS = 2.0
        yield fake


@pytest.fixture
def customer_a(operator_a):  # type: ignore[no-untyped-def]
    """A customer account of operator A that owes 1,500 RWF."""
    for holder in (HOLDER, OTHER_HOLDER):
        charge_post(
            operator=operator_a,
            holder=holder,
            head="water_sales",
            amount=Decimal("1500"),
            vat_rule="exempt",
            reference=f"bill:{holder}",
            due_date=DUE,
            acting_user=None,
        )
    return HOLDER


@pytest.fixture
def momo_a(operator_a, admin_a):  # type: ignore[no-untyped-def]
    """Operator A's MoMo callback settings: a secret, any source address."""
    return momo_channel_configure(operator=operator_a, acting_user=admin_a)


def _ask(operator, user, amount: str = "1500", holder: str = HOLDER) -> MomoRequest:  # type: ignore[no-untyped-def]
    return request_to_pay(
        operator=operator, account_reference=holder, amount=Decimal(amount), payer_phone=PAYER, acting_user=user
    )


def _callback_path(fake: FakeMomo, momo: MomoRequest) -> str:
    url = urlsplit(fake.request(str(momo.reference_id)).callback_url)
    return f"{url.path}?{url.query}"


def _post_callback(fake: FakeMomo, momo: MomoRequest, client: Client | None = None, **overrides: Any) -> Any:
    """Deliver the callback MTN would send for this request (with fields changed as a liar would) to the view."""
    body = fake.callback_body(str(momo.reference_id), **overrides)
    return (client or Client()).post(_callback_path(fake, momo), body, content_type="application/json")


def in_threads(work: Callable[[int], Any], count: int) -> list[Any]:
    """Run work(i) in `count` threads started together; each uses its own database connection."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as error:  # collected and checked by the test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    close_old_connections()
    return results


# The whole journey ---------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_paid_request_to_pay_ends_as_a_payment_with_a_receipt_on_the_customer_account(
    fake_momo, customer_a, momo_a, operator_a, admin_a, live_server, settings
):
    # given a customer account owing 1,500 and MTN calling back to this site
    settings.MITA_PUBLIC_URL = live_server.url
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("1500")
    # when the cashier asks the payer for 1,500
    momo = _ask(operator_a, admin_a)
    # then MTN has the request: our UUID as X-Reference-Id, the account as externalId, our callback URL
    sent = fake_momo.request(str(momo.reference_id))
    assert momo.status == MomoRequest.Status.PENDING
    assert (sent.external_id, sent.amount, sent.currency, sent.payer["partyId"]) == (HOLDER, "1500", "RWF", PAYER[1:])
    assert sent.callback_url.startswith(live_server.url + f"/payments/momo/callback/{operator_a.pk}/")
    # when the payer approves and MTN calls back, over HTTP, once
    assert fake_momo.settle(str(momo.reference_id)) == 200
    # then the request is paid, with a payment on the account, its receipt, and the account owes nothing
    momo.refresh_from_db()
    assert momo.status == MomoRequest.Status.SUCCESSFUL
    payment = Payment.objects.get()
    assert momo.payment == payment and momo.confirmed_amount == Decimal("1500")
    assert (payment.channel, payment.amount, payment.holder, payment.status) == (
        "momo",
        Decimal("1500"),
        HOLDER,
        Payment.Status.COMPLETED,
    )
    transaction_id = fake_momo.request(str(momo.reference_id)).financial_transaction_id
    assert payment.provider_reference == momo.financial_transaction_id == transaction_id != ""
    assert payment.idempotency_key == f"momo:{payment.provider_reference}"
    assert Receipt.objects.get(payment=payment).number == "AAL-R-000001"
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("0")
    assert holder_balance(operator=operator_a, holder=OTHER_HOLDER) == Decimal("1500")
    assert trial_balance(operator=operator_a) == 0 and ledger_verify() == []


# The callback is only a hint -------------------------------------------------------------------------------------


def test_a_callback_with_a_lying_amount_records_the_amount_mtn_confirms(
    fake_momo, customer_a, momo_a, operator_a, admin_a
):
    momo = _ask(operator_a, admin_a)
    fake_momo.settle(str(momo.reference_id), callback=False)
    # when a callback claims 999,999 was paid
    response = _post_callback(fake_momo, momo, amount="999999")
    # then the payment is the 1,500 MTN confirms
    assert response.status_code == 200
    assert Payment.objects.get().amount == Decimal("1500")
    momo.refresh_from_db()
    assert momo.confirmed_amount == Decimal("1500")
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("0")
    assert holder_balance(operator=operator_a, holder=HOLDER, purpose="credit") == Decimal("0")


def test_a_callback_claiming_success_for_a_request_mtn_still_calls_pending_records_nothing(
    fake_momo, customer_a, momo_a, operator_a, admin_a
):
    momo = _ask(operator_a, admin_a)
    response = _post_callback(fake_momo, momo, status="SUCCESSFUL", financialTransactionId="123456789")
    assert response.status_code == 200
    momo.refresh_from_db()
    assert momo.status == MomoRequest.Status.PENDING and momo.checks == 1
    assert not Payment.objects.exists()
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("1500")


def test_a_callback_without_a_reference_id_is_matched_by_its_external_id(
    fake_momo, customer_a, momo_a, operator_a, admin_a
):
    momo = _ask(operator_a, admin_a)
    fake_momo.settle(str(momo.reference_id), callback=False)
    url = reverse("momo:callback", args=[operator_a.pk, momo_a.callback_secret])
    response = Client().post(url, fake_momo.callback_body(str(momo.reference_id)), content_type="application/json")
    assert response.json() == {"received": True, "matched": 1}
    momo.refresh_from_db()
    assert momo.status == MomoRequest.Status.SUCCESSFUL


@pytest.mark.parametrize("carrier", ["header", "body"])
def test_a_callback_may_name_its_request_in_a_header_or_the_body(
    fake_momo, customer_a, momo_a, operator_a, admin_a, carrier
):
    momo = _ask(operator_a, admin_a)
    other = _ask(operator_a, admin_a, amount="500")
    fake_momo.settle(str(momo.reference_id), callback=False)
    url = reverse("momo:callback", args=[operator_a.pk, momo_a.callback_secret])
    body = fake_momo.callback_body(str(momo.reference_id))
    headers: dict[str, str] = {}
    if carrier == "header":
        headers["HTTP_X_REFERENCE_ID"] = str(momo.reference_id)
    else:
        body["referenceId"] = str(momo.reference_id)
    response = Client().put(url, body, content_type="application/json", **headers)
    assert response.json() == {"received": True, "matched": 1}
    momo.refresh_from_db()
    other.refresh_from_db()
    assert (momo.status, other.status, other.checks) == (MomoRequest.Status.SUCCESSFUL, MomoRequest.Status.PENDING, 0)


def test_the_payment_goes_to_the_account_in_external_id_never_one_found_by_phone(
    fake_momo, customer_a, momo_a, operator_a, admin_a
):
    # the same payer pays for two accounts
    first = _ask(operator_a, admin_a, holder=HOLDER)
    second = _ask(operator_a, admin_a, holder=OTHER_HOLDER, amount="1000")
    fake_momo.settle(str(second.reference_id), callback=False)
    _post_callback(fake_momo, second)
    assert holder_balance(operator=operator_a, holder=OTHER_HOLDER) == Decimal("500")
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("1500")
    first.refresh_from_db()
    assert first.status == MomoRequest.Status.PENDING


def test_a_failed_request_is_failed_with_mtn_s_reason_and_no_payment(
    fake_momo, customer_a, momo_a, operator_a, admin_a
):
    momo = _ask(operator_a, admin_a)
    fake_momo.settle(str(momo.reference_id), "FAILED", reason_code="NOT_ENOUGH_FUNDS", callback=False)
    _post_callback(fake_momo, momo)
    momo.refresh_from_db()
    assert (momo.status, momo.reason_code) == (MomoRequest.Status.FAILED, "NOT_ENOUGH_FUNDS")
    assert momo.completed_at is not None and momo.payment is None
    assert not Payment.objects.exists()
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("1500")


def test_confirming_a_finished_request_again_changes_nothing(fake_momo, customer_a, momo_a, operator_a, admin_a):
    momo = _ask(operator_a, admin_a)
    fake_momo.settle(str(momo.reference_id), callback=False)
    first = momo_confirm(reference_id=momo.reference_id)
    again = momo_confirm(reference_id=momo.reference_id)
    _post_callback(fake_momo, momo)
    assert first.payment_id == again.payment_id is not None
    assert Payment.objects.count() == 1 and Transfer.objects.filter(reference__startswith="payment:").count() == 1


# Authentication of the callback ----------------------------------------------------------------------------------


def test_a_callback_with_a_wrong_secret_is_not_found(fake_momo, customer_a, momo_a, operator_a, operator_b, admin_a):
    momo = _ask(operator_a, admin_a)
    fake_momo.settle(str(momo.reference_id), callback=False)
    body = fake_momo.callback_body(str(momo.reference_id))
    for url in (
        reverse("momo:callback", args=[operator_a.pk, "not-the-secret"]),
        reverse("momo:callback", args=[operator_b.pk, momo_a.callback_secret]),  # another operator's URL
        reverse("momo:callback", args=[999999, momo_a.callback_secret]),
    ):
        assert (
            Client().post(f"{url}?referenceId={momo.reference_id}", body, content_type="application/json").status_code
            == 404
        )
    momo.refresh_from_db()
    assert momo.status == MomoRequest.Status.PENDING and momo.checks == 0


def test_a_disabled_callback_is_not_found(fake_momo, customer_a, momo_a, operator_a, admin_a):
    momo = _ask(operator_a, admin_a)
    momo_channel_configure(operator=operator_a, acting_user=admin_a, enabled=False)
    assert _post_callback(fake_momo, momo).status_code == 404


def test_a_callback_from_an_address_not_allowed_is_forbidden(fake_momo, customer_a, momo_a, operator_a, admin_a):
    momo = _ask(operator_a, admin_a)
    fake_momo.settle(str(momo.reference_id), callback=False)
    momo_channel_configure(operator=operator_a, acting_user=admin_a, allowed_ips=["196.12.0.0/16", "10.9.8.7"])
    # from the test client's 127.0.0.1: refused
    assert _post_callback(fake_momo, momo).status_code == 403
    momo.refresh_from_db()
    assert momo.status == MomoRequest.Status.PENDING
    # from an allowed network: taken
    assert _post_callback(fake_momo, momo, client=Client(REMOTE_ADDR="196.12.44.5")).status_code == 200
    momo.refresh_from_db()
    assert momo.status == MomoRequest.Status.SUCCESSFUL


def test_behind_a_proxy_the_address_the_proxy_saw_is_checked(
    fake_momo, customer_a, momo_a, operator_a, admin_a, settings
):
    settings.MITA_MOMO_FORWARDED_FOR_HOPS = 1
    momo = _ask(operator_a, admin_a)
    momo_channel_configure(operator=operator_a, acting_user=admin_a, allowed_ips=["196.12.0.0/16"])
    spoofed = Client(HTTP_X_FORWARDED_FOR="196.12.44.5, 203.0.113.9")  # the caller wrote the first one itself
    assert _post_callback(fake_momo, momo, client=spoofed).status_code == 403
    honest = Client(HTTP_X_FORWARDED_FOR="203.0.113.9, 196.12.44.5")
    assert _post_callback(fake_momo, momo, client=honest).status_code == 200


def test_an_allowlist_entry_that_is_no_address_is_refused(operator_a, admin_a):
    with pytest.raises(DomainError) as raised:
        momo_channel_configure(operator=operator_a, acting_user=admin_a, allowed_ips=["mtn.example"])
    assert raised.value.code == "allowed_ips_invalid"


def test_the_callback_answers_only_post_and_put(fake_momo, customer_a, momo_a, operator_a, admin_a):
    momo = _ask(operator_a, admin_a)
    assert Client().get(_callback_path(fake_momo, momo)).status_code == 405


def test_rotating_the_secret_retires_the_old_url(fake_momo, customer_a, momo_a, operator_a, admin_a):
    momo = _ask(operator_a, admin_a)
    old_path = _callback_path(fake_momo, momo)
    rotated = momo_channel_configure(operator=operator_a, acting_user=admin_a, rotate_secret=True)
    assert rotated.callback_secret != momo_a.callback_secret
    assert Client().post(old_path, {}, content_type="application/json").status_code == 404


# The poller ----------------------------------------------------------------------------------------------------


def test_a_request_whose_callback_never_came_is_completed_by_the_poller(
    fake_momo, customer_a, momo_a, operator_a, admin_a, settings
):
    import mita.payments.tasks as tasks

    settings.MITA_MOMO_POLL_AFTER_SECONDS = 0
    momo = _ask(operator_a, admin_a)
    # the payer approves, and the callback is lost
    fake_momo.settle(str(momo.reference_id), callback=False)
    assert "payments.momo_poll" in {periodic.name for periodic in periodic_tasks()}
    result = tasks.momo_poll_pending.enqueue()
    assert result.return_value["successful"] == 1
    momo.refresh_from_db()
    assert momo.status == MomoRequest.Status.SUCCESSFUL
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("0")


def test_the_poller_leaves_recent_requests_to_their_callback(fake_momo, customer_a, momo_a, operator_a, admin_a):
    momo = _ask(operator_a, admin_a)
    # made a moment ago: the callback may still come
    assert momo_poll().checked == 0
    # made ten minutes ago: checked
    MomoRequest.objects.filter(pk=momo.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=10))
    assert momo_poll().pending == 1
    # just checked: the next run a moment later leaves it alone, the one after half a minute checks again
    assert momo_poll().checked == 0
    assert momo_poll(now=timezone.now() + datetime.timedelta(minutes=1)).pending == 1
    momo.refresh_from_db()
    assert momo.checks == 2 and momo.status == MomoRequest.Status.PENDING


def test_a_request_still_pending_after_a_day_expires(fake_momo, customer_a, momo_a, operator_a, admin_a):
    momo = _ask(operator_a, admin_a)
    MomoRequest.objects.filter(pk=momo.pk).update(created_at=timezone.now() - datetime.timedelta(hours=25))
    assert momo_poll().expired == 1
    momo.refresh_from_db()
    assert (momo.status, momo.reason_code) == (MomoRequest.Status.EXPIRED, "EXPIRED")
    assert momo_poll().checked == 0


def test_a_request_mtn_never_received_fails_after_a_while(fake_momo, customer_a, momo_a, operator_a, admin_a):
    # when MTN is down as the request is sent
    fake_momo.fail("http500")
    momo = _ask(operator_a, admin_a)
    assert momo.status == MomoRequest.Status.PENDING and "HTTP 500" in momo.last_error
    assert fake_momo.requests == []
    # then a poll soon after leaves it pending: MTN may yet show it
    MomoRequest.objects.filter(pk=momo.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=1))
    assert momo_poll().pending == 1
    # and once MTN still does not know it minutes later, it failed
    MomoRequest.objects.filter(pk=momo.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=10), checked_at=None
    )
    assert momo_poll().failed == 1
    momo.refresh_from_db()
    assert (momo.status, momo.reason_code) == (MomoRequest.Status.FAILED, "NOT_RECEIVED")


def test_a_request_mtn_took_without_answering_is_completed_by_the_poller(
    fake_momo, customer_a, momo_a, operator_a, admin_a, settings
):
    settings.MITA_MOMO_TIMEOUT_SECONDS = 0.5
    settings.MITA_MOMO_POLL_AFTER_SECONDS = 0
    fake_momo.fail("accept_then_timeout", delay=2)
    momo = _ask(operator_a, admin_a)
    assert momo.status == MomoRequest.Status.PENDING and momo.last_error
    fake_momo.settle(str(momo.reference_id), callback=False)
    assert momo_poll().successful == 1
    assert Payment.objects.get().amount == Decimal("1500")


def test_mtn_unreachable_during_a_callback_leaves_the_request_for_the_poller(
    fake_momo, customer_a, momo_a, operator_a, admin_a, settings
):
    settings.MITA_MOMO_POLL_AFTER_SECONDS = 0
    momo = _ask(operator_a, admin_a)
    fake_momo.settle(str(momo.reference_id), callback=False)
    fake_momo.fail("http500")
    assert _post_callback(fake_momo, momo).status_code == 200
    momo.refresh_from_db()
    assert momo.status == MomoRequest.Status.PENDING and "HTTP 500" in momo.last_error
    assert momo_poll(now=timezone.now() + datetime.timedelta(minutes=1)).successful == 1


# Asking --------------------------------------------------------------------------------------------------------


def test_a_request_mtn_refuses_fails_at_once(fake_momo, customer_a, momo_a, operator_a, admin_a, settings):
    settings.MITA_MOMO_TARGET_ENVIRONMENT = "mtnrwanda"  # not the one the fake serves
    momo = _ask(operator_a, admin_a)
    assert (momo.status, momo.reason_code) == (MomoRequest.Status.FAILED, "INVALID_TARGET_ENVIRONMENT")


def test_without_callback_settings_the_request_goes_without_a_callback_url(fake_momo, customer_a, operator_a, admin_a):
    momo = _ask(operator_a, admin_a)
    assert fake_momo.request(str(momo.reference_id)).callback_url == ""


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"account_reference": "AAL-999999"}, "account_unknown"),
        ({"account_reference": " "}, "account_reference_required"),
        ({"amount": Decimal("0")}, "amount_invalid"),
        ({"payer_phone": "12"}, "phone_invalid"),
    ],
)
def test_a_request_that_cannot_be_paid_is_refused_before_the_phone_rings(
    fake_momo, customer_a, operator_a, admin_a, fields, code
):
    arguments: dict[str, Any] = {
        "operator": operator_a,
        "account_reference": HOLDER,
        "amount": Decimal("1500"),
        "payer_phone": PAYER,
        "acting_user": admin_a,
        **fields,
    }
    with pytest.raises(DomainError) as raised:
        request_to_pay(**arguments)
    assert raised.value.code == code
    assert fake_momo.requests == [] and not MomoRequest.objects.exists()


# Concurrency ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_identical_callbacks_make_exactly_one_payment_and_one_set_of_transfers(
    fake_momo, customer_a, momo_a, operator_a, admin_a
):
    momo = _ask(operator_a, admin_a)
    fake_momo.settle(str(momo.reference_id), callback=False)
    body = fake_momo.callback_body(str(momo.reference_id))
    callback = _callback_path(fake_momo, momo)

    def deliver(_index: int) -> int:
        return Client().post(callback, body, content_type="application/json").status_code

    results = in_threads(deliver, count=50)
    assert results == [200] * 50, results
    payment = Payment.objects.get()
    assert payment.amount == Decimal("1500") and Receipt.objects.filter(payment=payment).count() == 1
    assert Transfer.objects.filter(reference=payment.ledger_reference).count() == 1
    assert MomoRequest.objects.get().payment == payment
    assert holder_balance(operator=operator_a, holder=HOLDER) == Decimal("0")
    assert trial_balance(operator=operator_a) == 0 and ledger_verify() == []


# The cashier's page --------------------------------------------------------------------------------------------


def test_a_cashier_requests_a_payment_from_the_page(fake_momo, customer_a, momo_a, operator_a, client_for):
    from mita.accounts.roles import Role

    cashier = member(Role.CASHIER, operator_a, name="Claire Cashier")
    client = client_for(cashier)
    response = client.post(
        reverse("momo:request"), {"account_reference": HOLDER, "amount": "1500", "payer_phone": "0788123456"}
    )
    assert response.status_code == 302
    momo = MomoRequest.objects.get()
    assert (momo.external_id, momo.amount, momo.payer_phone, momo.requested_by) == (
        HOLDER,
        Decimal("1500"),
        PAYER,
        cashier,
    )
    assert fake_momo.request(str(momo.reference_id)).external_id == HOLDER
    page = client.get(reverse("momo:request"))
    assert page.status_code == 200
    assert f'data-testid="momo-status-{momo.pk}"' in page.content.decode()
    # the payer approves; the cashier checks now
    fake_momo.settle(str(momo.reference_id), callback=False)
    assert client.post(reverse("momo:check", args=[momo.pk])).status_code == 302
    momo.refresh_from_db()
    assert momo.status == MomoRequest.Status.SUCCESSFUL


def test_an_unknown_account_is_shown_on_the_form(fake_momo, customer_a, operator_a, admin_a, client_for):
    response = client_for(admin_a).post(
        reverse("momo:request"), {"account_reference": "AAL-999999", "amount": "1500", "payer_phone": PAYER}
    )
    assert response.status_code == 200
    assert "No such customer account." in response.content.decode()
    assert fake_momo.requests == []


def test_a_billing_officer_may_not_request_payments(operator_a, staff_a, client_for):
    assert client_for(staff_a).get(reverse("momo:request")).status_code == 403


def test_another_operator_s_request_is_not_found(fake_momo, customer_a, operator_a, admin_a, admin_b, client_for):
    momo = _ask(operator_a, admin_a)
    assert client_for(admin_b).post(reverse("momo:check", args=[momo.pk])).status_code == 404
    assert f"momo-row-{momo.pk}" not in client_for(admin_b).get(reverse("momo:request")).content.decode()


def test_the_poller_stops_its_run_when_mtn_is_down(fake_momo, customer_a, momo_a, operator_a, admin_a):
    for _ in range(5):
        _ask(operator_a, admin_a)
    MomoRequest.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=2))
    fake_momo.fail("http500", count=-1)
    result = momo_poll()
    assert (result.checked, result.errors, result.pending) == (3, 3, 3)
    fake_momo.fail("none")
    assert momo_poll(now=timezone.now() + datetime.timedelta(minutes=1)).checked == 5


def test_a_paid_request_that_cannot_be_recorded_waits_for_review(fake_momo, customer_a, momo_a, operator_a, admin_a):
    # two requests that MTN, wrongly, reports under one transaction id with different amounts
    first = _ask(operator_a, admin_a)
    second = _ask(operator_a, admin_a, amount="700")
    for momo in (first, second):
        fake_momo.settle(str(momo.reference_id), callback=False, financial_transaction_id="5550001")
        momo_confirm(reference_id=momo.reference_id)
    second.refresh_from_db()
    assert (second.status, second.reason_code) == (MomoRequest.Status.REVIEW, "idempotency_key_reused")
    assert second.confirmed_amount == Decimal("700") and second.payment is None
    assert Payment.objects.count() == 1
