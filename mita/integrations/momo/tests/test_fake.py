"""The fake's own behaviour: sandbox numbers, callbacks sent once as MTN does, and its control endpoints."""

import json
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from mita.integrations.momo.client import MomoClient, new_reference_id
from mita.integrations.momo.fake import FakeMomo

from .conftest import API_KEY, API_USER, SUBSCRIPTION_KEY


class Receiver:
    """A callback receiver on loopback that records what it is sent."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, dict[str, str], Any]] = []
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                receiver.received.append((self.command, self.path, dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                receiver.arrived.set()

            do_POST = do_PUT = _record

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/momo/callback"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


def _client(fake: FakeMomo) -> MomoClient:
    return MomoClient(
        base_url=fake.base_url, subscription_key=SUBSCRIPTION_KEY, api_user=API_USER, api_key=API_KEY, timeout=2
    )


def _ask(client: MomoClient, payer: str, callback_url: str) -> str:
    reference_id = new_reference_id()
    client.request_to_pay(
        reference_id=reference_id,
        amount=Decimal("500"),
        currency="RWF",
        external_id="AAL-000123",
        payer_msisdn=payer,
        callback_url=callback_url + "?referenceId=" + reference_id,
    )
    return reference_id


def test_settling_sends_one_callback_with_the_status_body_and_no_reference_id(fake_momo, momo_client, receiver):
    reference_id = _ask(momo_client, "250788123456", receiver.url)
    assert fake_momo.settle(reference_id) == 200
    [(method, path, _headers, body)] = receiver.received
    assert method == "POST" and path.endswith(f"?referenceId={reference_id}")
    assert body == momo_client.request_to_pay_status(reference_id).raw
    assert body["status"] == "SUCCESSFUL" and "referenceId" not in body
    assert fake_momo.request(reference_id).callbacks_sent == 1


def test_a_settled_request_without_callback_sends_nothing(fake_momo, momo_client, receiver):
    reference_id = _ask(momo_client, "250788123456", receiver.url)
    assert fake_momo.settle(reference_id, callback=False) is None
    assert receiver.received == []
    assert momo_client.request_to_pay_status(reference_id).is_successful


@pytest.mark.parametrize(
    ("payer", "status", "reason"),
    [
        ("250788123456", "SUCCESSFUL", ""),
        ("46733123450", "FAILED", "INTERNAL_PROCESSING_ERROR"),
        ("46733123451", "REJECTED", "APPROVAL_REJECTED"),
        ("46733123452", "TIMEOUT", "EXPIRED"),
    ],
)
def test_with_auto_settle_the_payer_s_number_decides_as_in_mtn_s_sandbox(receiver, payer, status, reason):
    with FakeMomo(
        subscription_key=SUBSCRIPTION_KEY, api_user=API_USER, api_key=API_KEY, auto_settle=True, settle_delay=0.05
    ) as fake:
        client = _client(fake)
        reference_id = _ask(client, payer, receiver.url)
        assert receiver.arrived.wait(5)
        answer = client.request_to_pay_status(reference_id)
        assert (answer.status, answer.reason_code) == (status, reason)


def test_with_auto_settle_the_sandbox_s_pending_numbers_stay_pending(receiver):
    with FakeMomo(
        subscription_key=SUBSCRIPTION_KEY, api_user=API_USER, api_key=API_KEY, auto_settle=True, settle_delay=0.05
    ) as fake:
        client = _client(fake)
        reference_id = _ask(client, "46733123454", receiver.url)
        time.sleep(0.3)
        assert client.request_to_pay_status(reference_id).is_pending
        assert receiver.received == []


def test_the_control_endpoints_list_settle_call_back_fail_and_reset(fake_momo, momo_client, receiver):
    reference_id = _ask(momo_client, "250788123456", receiver.url)
    listed = httpx.get(fake_momo.base_url + "/__requests").json()["requests"]
    assert [(r["referenceId"], r["status"]) for r in listed] == [(reference_id, "PENDING")]

    answer = httpx.post(
        fake_momo.base_url + "/__settle",
        json={"referenceId": reference_id, "status": "FAILED", "reason": {"code": "NOT_ENOUGH_FUNDS"}},
    )
    assert answer.json() == {"settled": reference_id, "callback_status": 200}
    assert momo_client.request_to_pay_status(reference_id).reason_code == "NOT_ENOUGH_FUNDS"

    # a lying callback: the fake sends what it is told to
    answer = httpx.post(
        fake_momo.base_url + "/__callback",
        json={"referenceId": reference_id, "overrides": {"status": "SUCCESSFUL", "amount": "999999"}},
    )
    assert answer.json() == {"callback_status": 200}
    assert receiver.received[-1][3]["amount"] == "999999"
    assert momo_client.request_to_pay_status(reference_id).is_failed

    assert httpx.post(fake_momo.base_url + "/__fail", json={"mode": "http500"}).status_code == 200
    assert httpx.post(fake_momo.base_url + "/__fail", json={"mode": "explode"}).status_code == 400
    assert httpx.post(fake_momo.base_url + "/__settle", json={"referenceId": "nope"}).status_code == 404
    assert httpx.post(fake_momo.base_url + "/__reset").json() == {"reset": True}
    assert fake_momo.requests == []
