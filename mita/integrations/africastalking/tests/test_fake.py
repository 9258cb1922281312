"""The fake's own HTTP controls, used by the demo and by other apps' tests."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import httpx
import pytest


@pytest.fixture
def callback() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A tiny HTTP server standing in for Mita's delivery-report URL; it records the forms posted to it."""
    received: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            received.append({key: values[0] for key, values in parse_qs(body).items()})
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/notifications/at/delivery/s3cret/", received
    server.shutdown()
    server.server_close()


def test_messages_are_listed_as_json(fake_at, at_client):
    at_client.send_sms(to=["+250788123456"], message="first")
    at_client.send_sms(to=["+250788123457"], message="second")
    listed = httpx.get(fake_at.base_url + "/__messages").json()["messages"]
    assert [(m["to"], m["message"]) for m in listed] == [("+250788123456", "first"), ("+250788123457", "second")]


def test_failures_are_injected_over_http_for_a_number_of_requests(fake_at, at_client):
    response = httpx.post(fake_at.base_url + "/__fail", json={"mode": "http500", "count": 2})
    assert response.status_code == 200
    statuses = [
        httpx.post(
            fake_at.base_url + "/version1/messaging",
            data={"username": "sandbox", "to": "+250788123456", "message": "x"},
            headers={"apiKey": fake_at.api_key},
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [500, 500, 201]


def test_an_unknown_failure_mode_is_refused(fake_at):
    response = httpx.post(fake_at.base_url + "/__fail", json={"mode": "meteor", "count": 1})
    assert response.status_code == 400


def test_a_request_missing_a_field_is_a_400(fake_at):
    response = httpx.post(
        fake_at.base_url + "/version1/messaging",
        data={"username": "sandbox", "to": "+250788123456"},
        headers={"apiKey": fake_at.api_key},
    )
    assert response.status_code == 400
    assert "message" in response.text


def test_a_delivery_report_is_posted_to_the_callback_as_at_does(fake_at, at_client, callback):
    url, received = callback
    message_id = at_client.send_sms(to=["+250788123456"], message="x").recipients[0].message_id
    # when the fake is told over HTTP to report a failed delivery
    response = httpx.post(
        fake_at.base_url + "/__deliver",
        json={"id": message_id, "status": "Failed", "failureReason": "UserInBlacklist", "callback_url": url},
    )
    # then the callback got AT's form fields
    assert response.json() == {"callback_status": 200}
    assert received == [
        {
            "id": message_id,
            "status": "Failed",
            "phoneNumber": "+250788123456",
            "networkCode": "63510",
            "failureReason": "UserInBlacklist",
            "retryCount": "0",
        }
    ]


def test_a_successful_delivery_report_has_no_failure_reason(fake_at, at_client, callback):
    url, received = callback
    message_id = at_client.send_sms(to=["+250788123456"], message="x").recipients[0].message_id
    assert fake_at.deliver(message_id, "Success", callback_url=url) == 200
    assert received[0]["status"] == "Success"
    assert "failureReason" not in received[0]


def test_reset_forgets_messages_and_failures(fake_at, at_client):
    at_client.send_sms(to=["+250788123456"], message="x")
    fake_at.fail("http500", count=-1)
    httpx.post(fake_at.base_url + "/__reset")
    assert fake_at.messages == []
    assert at_client.send_sms(to=["+250788123456"], message="x").recipients[0].accepted
