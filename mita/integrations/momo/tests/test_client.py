"""The real client speaking HTTP to the fake on loopback: tokens, request-to-pay, status, and each way they fail."""

import socket
from decimal import Decimal

import pytest

from mita.integrations.momo.client import MomoClient, MomoError, amount_text, new_reference_id, parse_status

from .conftest import API_KEY, API_USER, SUBSCRIPTION_KEY

PAYER = "250788123456"


def _pay(client: MomoClient, reference_id: str = "", **fields: object) -> str:
    reference_id = reference_id or new_reference_id()
    arguments: dict = {
        "reference_id": reference_id,
        "amount": Decimal("1500"),
        "currency": "RWF",
        "external_id": "AAL-000123",
        "payer_msisdn": PAYER,
        "payer_message": "Account AAL-000123",
        "payee_note": "AAL-000123",
        **fields,
    }
    client.request_to_pay(**arguments)
    return reference_id


def _client(fake_momo, **changes: object) -> MomoClient:
    arguments: dict = {
        "base_url": fake_momo.base_url,
        "subscription_key": SUBSCRIPTION_KEY,
        "api_user": API_USER,
        "api_key": API_KEY,
        "timeout": 0.5,
        **changes,
    }
    return MomoClient(**arguments)


def test_a_request_to_pay_reaches_mtn_with_its_fields_and_waits_for_the_payer(fake_momo, momo_client):
    # when the client asks a payer for 1,500 RWF with a callback URL
    reference_id = _pay(momo_client, callback_url="http://127.0.0.1:1/cb?referenceId=x")
    # then MTN holds the request as sent, pending
    request = fake_momo.request(reference_id)
    assert (request.amount, request.currency, request.external_id) == ("1500", "RWF", "AAL-000123")
    assert request.payer == {"partyIdType": "MSISDN", "partyId": PAYER}
    assert (request.payer_message, request.payee_note) == ("Account AAL-000123", "AAL-000123")
    assert request.callback_url == "http://127.0.0.1:1/cb?referenceId=x"
    assert request.target_environment == "sandbox"
    status = momo_client.request_to_pay_status(reference_id)
    assert status.is_pending and not status.is_successful and not status.is_failed
    assert status.amount == Decimal("1500") and status.external_id == "AAL-000123"
    assert status.financial_transaction_id == ""


def test_a_paid_request_reports_the_amount_and_mtn_s_transaction_id(fake_momo, momo_client):
    reference_id = _pay(momo_client)
    fake_momo.settle(reference_id, "SUCCESSFUL")
    status = momo_client.request_to_pay_status(reference_id)
    assert status.is_successful
    assert status.amount == Decimal("1500") and status.currency == "RWF"
    assert status.financial_transaction_id == fake_momo.request(reference_id).financial_transaction_id != ""
    assert (status.payer_party_id_type, status.payer_party_id) == ("MSISDN", PAYER)


def test_a_failed_request_carries_mtn_s_reason(fake_momo, momo_client):
    reference_id = _pay(momo_client)
    fake_momo.settle(reference_id, "FAILED", reason_code="PAYER_NOT_FOUND", reason_message="Payer not found")
    status = momo_client.request_to_pay_status(reference_id)
    assert status.is_failed
    assert (status.reason_code, status.reason_message) == ("PAYER_NOT_FOUND", "Payer not found")


def test_cents_are_sent_only_when_there_are_some(fake_momo, momo_client):
    reference_id = _pay(momo_client, amount=Decimal("12.50"), currency="EUR")
    assert fake_momo.request(reference_id).amount == "12.5"
    assert amount_text(Decimal("1500.00")) == "1500"
    with pytest.raises(ValueError):
        amount_text(Decimal("0"))


def test_one_token_serves_many_calls_and_a_refused_one_is_renewed_once(fake_momo, momo_client):
    reference_id = _pay(momo_client)
    momo_client.request_to_pay_status(reference_id)
    assert fake_momo.tokens_issued == 1
    # when MTN ends the token early
    fake_momo.expire_tokens()
    # then the next call gets a new token and succeeds
    assert momo_client.request_to_pay_status(reference_id).is_pending
    assert fake_momo.tokens_issued == 2


def test_the_same_reference_id_twice_is_a_duplicate(fake_momo, momo_client):
    reference_id = _pay(momo_client)
    with pytest.raises(MomoError) as raised:
        _pay(momo_client, reference_id, amount=Decimal("99"))
    assert (raised.value.kind, raised.value.status_code, raised.value.code) == (
        "duplicate",
        409,
        "RESOURCE_ALREADY_EXIST",
    )
    assert fake_momo.request(reference_id).amount == "1500"


def test_a_request_mtn_refuses_is_rejected_with_mtn_s_code(fake_momo, momo_client):
    with pytest.raises(MomoError) as raised:
        _pay(momo_client, currency="rwf")
    assert (raised.value.kind, raised.value.status_code, raised.value.code) == ("rejected", 400, "INVALID_PARAMETER")
    assert fake_momo.requests == []


def test_a_wrong_target_environment_is_rejected(fake_momo):
    with pytest.raises(MomoError) as raised:
        _pay(_client(fake_momo, target_environment="mtnrwanda"))
    assert raised.value.kind == "rejected"


@pytest.mark.parametrize("change", [{"subscription_key": "wrong"}, {"api_key": "wrong"}, {"api_user": "someone"}])
def test_wrong_credentials_are_refused(fake_momo, change):
    with pytest.raises(MomoError) as raised:
        _pay(_client(fake_momo, **change))
    assert (raised.value.kind, raised.value.status_code) == ("refused", 401)
    assert fake_momo.requests == []


def test_an_unknown_reference_id_is_not_found(momo_client):
    with pytest.raises(MomoError) as raised:
        momo_client.request_to_pay_status(new_reference_id())
    assert (raised.value.kind, raised.value.status_code, raised.value.code) == ("not_found", 404, "RESOURCE_NOT_FOUND")


def test_a_bare_404_is_a_wrong_base_url_not_an_unknown_request(fake_momo):
    client = _client(fake_momo, base_url=fake_momo.base_url + "/elsewhere")
    with pytest.raises(MomoError) as raised:
        client.request_to_pay_status(new_reference_id())
    assert raised.value.kind in {"invalid_response", "refused"}
    assert raised.value.kind != "not_found"


def test_a_server_error_is_unreachable(fake_momo, momo_client):
    fake_momo.fail("http500")
    with pytest.raises(MomoError) as raised:
        _pay(momo_client)
    assert (raised.value.kind, raised.value.status_code) == ("unreachable", 500)
    # and the next call goes through
    _pay(momo_client)


def test_no_answer_in_time_is_unreachable(fake_momo, momo_client):
    reference_id = _pay(momo_client)
    fake_momo.fail("timeout", delay=2)
    with pytest.raises(MomoError) as raised:
        momo_client.request_to_pay_status(reference_id)
    assert raised.value.kind == "unreachable"
    assert "within 0.5s" in str(raised.value)


def test_a_request_mtn_took_but_did_not_answer_is_there_all_the_same(fake_momo, momo_client):
    fake_momo.fail("accept_then_timeout", delay=2)
    reference_id = new_reference_id()
    with pytest.raises(MomoError) as raised:
        _pay(momo_client, reference_id)
    assert raised.value.kind == "unreachable"
    assert momo_client.request_to_pay_status(reference_id).is_pending


def test_an_answer_that_is_not_json_is_an_invalid_response(fake_momo, momo_client):
    reference_id = _pay(momo_client)
    fake_momo.fail("garbage")
    with pytest.raises(MomoError) as raised:
        momo_client.request_to_pay_status(reference_id)
    assert raised.value.kind == "invalid_response"


def test_nobody_listening_is_unreachable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = MomoClient(
        base_url=f"http://127.0.0.1:{port}", subscription_key="k", api_user="u", api_key="p", timeout=0.5
    )
    with pytest.raises(MomoError) as raised:
        client.request_to_pay_status(new_reference_id())
    assert raised.value.kind == "unreachable"


def test_a_reference_id_must_be_a_uuid_and_a_payer_an_msisdn(momo_client, fake_momo):
    with pytest.raises(ValueError):
        momo_client.request_to_pay_status("AAL-000123")
    with pytest.raises(ValueError):
        _pay(momo_client, payer_msisdn="+250 788 123 456")
    assert fake_momo.requests == []


def test_a_status_is_read_whatever_the_spelling_of_its_reason_and_amount():
    status = parse_status(
        {"amount": 1500, "currency": "RWF", "externalId": "A-1", "status": "REJECTED", "reason": "APPROVAL_REJECTED"}
    )
    assert status.is_failed and status.amount == Decimal("1500")
    assert (status.reason_code, status.reason_message) == ("APPROVAL_REJECTED", "")
    assert parse_status({"amount": "10", "currency": "EUR", "status": "ONGOING"}).is_pending


@pytest.mark.parametrize(
    "body",
    [
        {"amount": "10", "currency": "RWF", "status": "DONE"},
        {"amount": "-10", "currency": "RWF", "status": "SUCCESSFUL"},
        {"amount": "ten", "currency": "RWF", "status": "SUCCESSFUL"},
        {"amount": "10", "status": "SUCCESSFUL"},
        {"amount": "10", "currency": "RWF", "status": "SUCCESSFUL", "payer": "250788123456"},
        ["SUCCESSFUL"],
    ],
)
def test_a_status_of_the_wrong_shape_is_refused(body):
    with pytest.raises((KeyError, TypeError, ValueError)):
        parse_status(body)
