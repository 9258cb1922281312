import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from mita.integrations.mpesa.client import DarajaClient
from mita.integrations.mpesa.fake import FakeDaraja

KEY, SECRET = "test-consumer-key", "test-consumer-secret"
SHORTCODE, PASSKEY = "600638", "test-passkey"


class Receiver:
    """Our side of Safaricom's callbacks, reduced to a recorder: each path answers what the test says."""

    def __init__(self) -> None:
        self.received: list[tuple[str, Any]] = []
        self.answers: dict[str, tuple[int, Any]] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append((self.path, json.loads(raw)))
                status, body = receiver.answers.get(self.path, (200, {"ResultCode": "0", "ResultDesc": "Accepted"}))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def paths(self) -> list[str]:
        return [path for path, _body in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def fake_daraja() -> Iterator[FakeDaraja]:
    """The fake Daraja on a free loopback port, knowing one paybill's passkey."""
    with FakeDaraja(consumer_key=KEY, consumer_secret=SECRET, passkeys={SHORTCODE: PASSKEY}) as fake:
        yield fake


@pytest.fixture
def daraja(fake_daraja: FakeDaraja) -> DarajaClient:
    return DarajaClient(base_url=fake_daraja.base_url, consumer_key=KEY, consumer_secret=SECRET, timeout=1.0)
