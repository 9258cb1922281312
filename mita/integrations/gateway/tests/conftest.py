import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mita.integrations.gateway.client import FlutterwaveClient
from mita.integrations.gateway.fake import FakeFlutterwave

SECRET_KEY = "FLWSECK_TEST-0b1c2d3e4f5061728394a5b6c7d8e9f0-X"


@pytest.fixture
def fake_gateway() -> Iterator[FakeFlutterwave]:
    """The fake gateway on a free loopback port, knowing one merchant (SECRET_KEY)."""
    with FakeFlutterwave(secret_key=SECRET_KEY) as fake:
        yield fake


@pytest.fixture
def gateway_client(fake_gateway: FakeFlutterwave) -> FlutterwaveClient:
    return FlutterwaveClient(base_url=fake_gateway.base_url, secret_key=SECRET_KEY, timeout=0.5)


class Recorder:
    """A webhook receiver on loopback: keeps every request (path, headers, body) and answers `status`."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self._lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with recorder._lock:
                    recorder.requests.append((self.path, dict(self.headers), body))
                self.send_response(recorder.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook/"

    def __enter__(self) -> "Recorder":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def webhook_receiver() -> Iterator[Recorder]:
    with Recorder() as recorder:
        yield recorder
