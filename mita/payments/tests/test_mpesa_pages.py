"""The cashier's "Request payment by M-Pesa" page and API: prompt a phone, follow the push until its receipt or its
reason, by role, and never another operator's push."""

import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from mita.accounts.roles import Role
from mita.core.navigation import cards_for
from mita.integrations.mpesa.fake import FakeDaraja
from mita.payments.models import Payment
from mita.payments.models_mpesa import MpesaChannelConfig, StkRequest
from mita.payments.mpesa import mpesa_channel_configure, mpesa_urls_register
from mita.payments.tests.test_mpesa import HOLDER, PASSKEY, SHORTCODE, charge
from mita.registry.access import WorkspaceAccess, workspaces_of
from mita.testing.factories import DEFAULT_PASSWORD, member

pytestmark = pytest.mark.django_db
PAGE = "/payments/daraja/stk/"
API = "/api/v1/mpesa/stk-pushes"
KENYAN_PHONE = "0708 374 149"


@pytest.fixture
def daraja(settings) -> Iterator[FakeDaraja]:  # type: ignore[no-untyped-def]
    """The fake Daraja; it sends no result by itself unless a test says so."""
    with FakeDaraja(consumer_key="test-key", consumer_secret="test-secret", passkeys={SHORTCODE: PASSKEY}) as fake:
        settings.MITA_MPESA_BASE_URL = fake.base_url
        settings.MITA_MPESA_CONSUMER_KEY = "test-key"
        settings.MITA_MPESA_CONSUMER_SECRET = "test-secret"
        settings.MITA_MPESA_TIMEOUT_SECONDS = 2.0
        yield fake


@pytest.fixture
def paybill_a(operator_a, admin_a) -> MpesaChannelConfig:  # type: ignore[no-untyped-def]
    charge(operator_a, "1000")
    return mpesa_channel_configure(operator=operator_a, acting_user=admin_a, shortcode=SHORTCODE, passkey=PASSKEY)


@pytest.fixture
def site(live_server, settings, daraja, paybill_a, admin_a):  # type: ignore[no-untyped-def]
    settings.MITA_PUBLIC_URL = live_server.url
    mpesa_urls_register(config=paybill_a, acting_user=admin_a)
    return live_server


@pytest.fixture
def cashier_a(operator_a):  # type: ignore[no-untyped-def]
    return member(Role.CASHIER, operator_a, name="Carla Cashier")


def form(**changes: str) -> dict[str, str]:
    return {
        "account_reference": HOLDER,
        "phone": KENYAN_PHONE,
        "amount": "250",
        "idempotency_key": str(uuid.uuid4()),
        **changes,
    }


def pending_push(operator: Any, pk_hint: str = "1") -> StkRequest:
    return StkRequest.objects.create(
        operator=operator,
        account_reference=HOLDER,
        amount=Decimal("250"),
        currency="RWF",
        phone="254708374149",
        checkout_request_id=f"ws_CO_TEST{pk_hint}",
    )


def home_cards(user: Any) -> set[str]:
    """The keys of the home cards the user sees in their first workspace."""
    workspaces = workspaces_of(user)
    return {card.key for card, _badge in cards_for(WorkspaceAccess(user, workspaces, workspaces[0]))}


# The page ------------------------------------------------------------------------------------------------------


def test_a_cashier_prompts_a_phone_and_follows_the_push_to_its_receipt(site, daraja, operator_a, cashier_a, client_for):
    client = client_for(cashier_a)
    # the form, from the home card
    assert "payments.mpesa_request" in home_cards(cashier_a)
    page = client.get(PAGE)
    assert page.status_code == 200 and 'data-testid="stk-form"' in page.content.decode()
    assert 'data-testid="stk-unavailable"' not in page.content.decode()
    # sent: the push is made and the cashier lands on its page, which polls its status while pending
    response = client.post(PAGE, form())
    stk = StkRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("mpesa:stk_detail", args=[stk.pk])
    assert (stk.account_reference, stk.amount, stk.phone, stk.requested_by) == (
        HOLDER,
        Decimal("250"),
        "254708374149",
        cashier_a,
    )
    [sent] = daraja.stk_pushes
    assert sent.checkout_request_id == stk.checkout_request_id
    detail = client.get(response["Location"]).content.decode()
    assert 'data-status="pending"' in detail and 'hx-trigger="every 2s"' in detail and "<html" in detail
    # htmx asks for the status part only
    part = client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in part and 'data-status="pending"' in part and 'hx-trigger="every 2s"' in part
    # the customer pays; the next poll shows the receipt and stops polling
    assert daraja.stk_complete(stk.checkout_request_id, 0).status == 200
    part = client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    payment = Payment.objects.get()
    assert 'data-status="paid"' in part and "hx-trigger" not in part
    assert reverse("payments:payment_detail", args=[payment.pk]) in part and "AAL-R-000001" in part
    assert receipt_number(daraja) in part


def receipt_number(daraja: FakeDaraja) -> str:
    return daraja.stk_pushes[0].receipt


def test_a_cancelled_push_shows_why_and_offers_a_new_prompt(site, daraja, operator_a, cashier_a, client_for):
    client = client_for(cashier_a)
    location = client.post(PAGE, form())["Location"]
    stk = StkRequest.objects.get()
    daraja.stk_complete(stk.checkout_request_id, 1032)
    part = client.get(location, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-status="failed"' in part and "hx-trigger" not in part
    assert "The customer cancelled the prompt on their phone." in part and "1032" in part
    again = f"{PAGE}?account_reference={HOLDER}&amp;phone=254708374149&amp;amount=250"
    assert again in part
    # the new prompt's form comes filled in
    refill = client.get(f"{PAGE}?account_reference={HOLDER}&phone=254708374149&amount=250").content.decode()
    assert f'value="{HOLDER}"' in refill and 'value="254708374149"' in refill


def test_ask_m_pesa_now_completes_a_push_whose_callback_was_lost(site, daraja, operator_a, cashier_a, client_for):
    client = client_for(cashier_a)
    location = client.post(PAGE, form())["Location"]
    stk = StkRequest.objects.get()
    check = reverse("mpesa:stk_check", args=[stk.pk])
    # still unanswered: M-Pesa says so
    assert 'data-status="pending"' in client.post(check, HTTP_HX_REQUEST="true").content.decode()
    assert client.post(check)["Location"] == location
    # paid, but the callback is lost: the cashier asks, and the query records the payment
    daraja.stk_complete(stk.checkout_request_id, 0, deliver=False)
    part = client.post(check, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-status="paid"' in part and "AAL-R-000001" in part
    stk.refresh_from_db()
    assert stk.completed_via == "query" and Payment.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"account_reference": "NOBODY"}, "account_reference", "No such customer account"),
        ({"phone": "12345"}, "phone", ""),
        ({"amount": "10.50"}, "amount", "whole amount"),
        ({"amount": "0"}, "amount", ""),
        ({"account_reference": ""}, "account_reference", "required"),
    ],
)
def test_bad_input_is_refused_next_to_its_field_and_prompts_nobody(
    daraja, paybill_a, cashier_a, client_for, changes, field, words
):
    response = client_for(cashier_a).post(PAGE, form(**changes))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors and words.lower() in " ".join(errors[field]).lower()
    assert StkRequest.objects.count() == 0 and daraja.stk_pushes == []
    # what was typed is still there
    assert response.context["form"].data["phone"] == changes.get("phone", KENYAN_PHONE)


def test_daraja_refusing_the_push_says_so_and_lists_it_as_failed(daraja, paybill_a, cashier_a, client_for):
    daraja.fail("http500", count=-1)
    client = client_for(cashier_a)
    sent = form()
    response = client.post(PAGE, sent)
    assert response.status_code == 400
    assert "M-Pesa did not take the request" in " ".join(response.context["form"].non_field_errors())
    stk = StkRequest.objects.get()
    assert stk.status == "failed" and f'data-testid="stk-row-{stk.pk}"' in response.content.decode()
    # the form shown again is a new attempt, with a new key
    assert response.context["form"].data["idempotency_key"] != sent["idempotency_key"]


def test_the_same_form_sent_twice_prompts_the_customer_once(daraja, paybill_a, cashier_a, client_for):
    client = client_for(cashier_a)
    sent = form()
    first, again = client.post(PAGE, sent), client.post(PAGE, sent)
    assert first["Location"] == again["Location"]
    assert StkRequest.objects.count() == 1 and len(daraja.stk_pushes) == 1


def test_an_operator_without_m_pesa_prompts_is_told_before_sending(operator_a, cashier_a, client_for):
    page = client_for(cashier_a).get(PAGE).content.decode()
    assert 'data-testid="stk-unavailable"' in page
    response = client_for(cashier_a).post(PAGE, form())
    assert response.status_code == 400 and StkRequest.objects.count() == 0
    assert "M-Pesa is not set up" in " ".join(response.context["form"].non_field_errors())


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.CASHIER, True),
        (Role.REVENUE_COLLECTOR, True),
        (Role.TREASURER, True),
        (Role.OPERATOR_ADMIN, True),
        (Role.BILLING_OFFICER, False),
        (Role.STOREKEEPER, False),
    ],
)
def test_who_may_prompt_phones(operator_a, client_for, role, allowed):
    stk = pending_push(operator_a)
    user = member(role, operator_a)
    client = client_for(user)
    expected = 200 if allowed else 403
    assert client.get(PAGE).status_code == expected
    assert client.get(reverse("mpesa:stk_detail", args=[stk.pk])).status_code == expected
    assert client.get(API).status_code == expected
    assert client.get(f"{API}/{stk.pk}").status_code == expected
    cards = home_cards(user)
    assert ("payments.mpesa_request" in cards, "payments.momo_request" in cards) == (allowed, allowed)


def test_the_momo_request_card_opens_the_momo_page(operator_a, cashier_a, client_for):
    home = client_for(cashier_a).get("/").content.decode()
    assert f'href="{reverse("momo:request")}"' in home and f'href="{reverse("mpesa:stk_request")}"' in home
    assert client_for(cashier_a).get(reverse("momo:request")).status_code == 200


def test_another_operators_push_is_a_404_on_every_page_and_endpoint(operator_a, admin_b, client_for):
    stk = pending_push(operator_a)
    client = client_for(admin_b)
    assert client.get(reverse("mpesa:stk_detail", args=[stk.pk])).status_code == 404
    assert client.get(reverse("mpesa:stk_detail", args=[stk.pk]), HTTP_HX_REQUEST="true").status_code == 404
    assert client.post(reverse("mpesa:stk_check", args=[stk.pk])).status_code == 404
    assert client.get(f"{API}/{stk.pk}").status_code == 404
    assert client.post(f"{API}/{stk.pk}/check").status_code == 404
    # nor is it listed
    assert client.get(API).json()["items"] == []
    assert f"stk-row-{stk.pk}" not in client.get(PAGE).content.decode()
    stk.refresh_from_db()
    assert (stk.status, stk.checks) == ("pending", 0)


# The API -------------------------------------------------------------------------------------------------------


def test_the_api_prompts_once_per_key_and_tells_how_the_push_ends(site, daraja, cashier_a, client_for):
    client = client_for(cashier_a)
    body = {"account_reference": HOLDER.lower(), "amount": "250", "phone": "+254708374149", "idempotency_key": "k-1"}
    created = client.post(API, body, content_type="application/json")
    assert created.status_code == 201
    push = created.json()
    assert (push["status"], push["account_reference"], push["amount"], push["phone"]) == (
        "pending",
        HOLDER,
        "250.00",
        "254708374149",
    )
    assert push["checkout_request_id"] == daraja.stk_pushes[0].checkout_request_id and push["receipt_number"] is None
    # the same key again: the same push, 200, no second prompt
    replay = client.post(API, body, content_type="application/json")
    assert (replay.status_code, replay.json()["id"]) == (200, push["id"]) and len(daraja.stk_pushes) == 1
    # the same key for another amount: 409
    conflict = client.post(API, {**body, "amount": "300"}, content_type="application/json")
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "idempotency_key_reused"
    # the customer pays (the callback is lost); asking now records it
    daraja.stk_complete(push["checkout_request_id"], 0, deliver=False)
    checked = client.post(f"{API}/{push['id']}/check").json()
    assert (checked["status"], checked["completed_via"], checked["receipt_number"]) == ("paid", "query", "AAL-R-000001")
    assert checked["payment_id"] == Payment.objects.get().pk and checked["reason"] == ""
    assert client.get(f"{API}/{push['id']}").json() == checked
    assert [item["id"] for item in client.get(API, {"status": "paid"}).json()["items"]] == [push["id"]]


def test_the_api_says_why_a_push_failed(site, daraja, cashier_a, client_for):
    client = client_for(cashier_a)
    push = client.post(
        API, {"account_reference": HOLDER, "amount": "250", "phone": KENYAN_PHONE}, content_type="application/json"
    ).json()
    daraja.stk_complete(push["checkout_request_id"], 1037)
    failed = client.get(f"{API}/{push['id']}").json()
    assert (failed["status"], failed["result_code"]) == ("failed", 1037)
    assert "could not be reached" in failed["reason"] and failed["result_desc"] == "DS timeout user cannot be reached"


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"amount": "10.5"}, 400, "amount_invalid", "amount"),
        ({"amount": "250.00"}, 201, None, None),
        ({"amount": 250}, 422, "invalid", "amount"),
        ({"phone": "not a phone"}, 400, "phone_invalid", "phone"),
        ({"account_reference": "NOBODY"}, 400, "account_unknown", "account_reference"),
    ],
)
def test_the_api_refuses_bad_input_clearly(daraja, paybill_a, cashier_a, client_for, body, status, code, field):
    sent = {"account_reference": HOLDER, "amount": "250", "phone": KENYAN_PHONE, **body}
    response = client_for(cashier_a).post(API, sent, content_type="application/json")
    assert response.status_code == status, response.content
    if code:
        assert response.json()["error"]["code"] == code and field in response.json()["error"]["fields"]
        assert StkRequest.objects.count() == 0


# In a real browser -------------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_cashier_sees_the_receipt_appear_when_the_customer_pays_in_a_browser(
    page, site, daraja, operator_a, cashier_a
):
    from playwright.sync_api import expect

    from mita.testing.browser import sign_in

    # the customer will answer the prompt by themselves, two seconds after it reaches their phone
    daraja.stk_result, daraja.stk_delay = 0, 2.0
    sign_in(page, cashier_a.phone, DEFAULT_PASSWORD)
    page.get_by_test_id("card-payments.mpesa_request").click()
    expect(page.locator("h1")).to_have_text("Request payment by M-Pesa")
    stk_form = page.get_by_test_id("stk-form")
    stk_form.locator("input[name=account_reference]").fill(HOLDER)
    stk_form.locator("input[name=phone]").fill(KENYAN_PHONE)
    stk_form.locator("input[name=amount]").fill("250")
    page.get_by_test_id("stk-submit").click()
    # the push's page waits for the customer...
    expect(page.get_by_test_id("stk-state")).to_have_text("Waiting for the customer")
    # ...and shows the receipt by itself once M-Pesa reports the payment (htmx polls the status)
    expect(page.get_by_test_id("stk-receipt")).to_have_text("AAL-R-000001", timeout=15_000)
    expect(page.get_by_test_id("stk-state")).to_have_text("Paid")
    expect(page.get_by_test_id("stk-mpesa-receipt")).to_have_text(daraja.stk_pushes[0].receipt)
    page.get_by_test_id("stk-receipt").click()
    expect(page.get_by_test_id("receipt-number")).to_have_text("AAL-R-000001")
    expect(page.get_by_test_id("receipt-amount")).to_contain_text("250")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_cashier_sees_why_a_prompt_failed_in_a_browser(page, site, daraja, operator_a, cashier_a):
    from playwright.sync_api import expect

    from mita.testing.browser import sign_in

    daraja.stk_result, daraja.stk_delay = 1032, 1.0
    sign_in(page, cashier_a.phone, DEFAULT_PASSWORD)
    page.goto(PAGE)
    stk_form = page.get_by_test_id("stk-form")
    stk_form.locator("input[name=account_reference]").fill(HOLDER)
    stk_form.locator("input[name=phone]").fill(KENYAN_PHONE)
    stk_form.locator("input[name=amount]").fill("250")
    page.get_by_test_id("stk-submit").click()
    expect(page.get_by_test_id("stk-reason")).to_have_text(
        "The customer cancelled the prompt on their phone.", timeout=15_000
    )
    page.get_by_test_id("stk-again").click()
    expect(page.get_by_test_id("stk-form").locator("input[name=account_reference]")).to_have_value(HOLDER)
