"""The harness every fake outside system uses: an HTTP server on loopback in a thread, with failure injection.

A fake subclasses LoopbackFake, gives its request handler class and its failure modes, and keeps its own
state under self._lock. Tests and the demo use `with FakeX() as fake: ... fake.base_url ...`.
"""

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

logger = logging.getLogger(__name__)


class LoopbackFake:
    failure_modes: frozenset[str] = frozenset({"none"})
    thread_name = "fake"

    def __init__(self, *, handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._lock = threading.Lock()
        self._failure_mode = "none"
        self._failure_count = 0
        self._failure_delay = 2.0
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=self.thread_name, daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread (the `mita fake-...` commands)."""
        self._server.serve_forever()

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail(self, mode: str, count: int = 1, *, delay: float | None = None) -> None:
        """Answer the next `count` requests with a failure (count < 0: until told otherwise)."""
        if mode not in self.failure_modes:
            raise ValueError(f"unknown failure mode {mode!r}; choose one of {sorted(self.failure_modes)}")
        with self._lock:
            self._failure_mode = mode
            self._failure_count = 0 if mode == "none" else count
            if delay is not None:
                self._failure_delay = delay

    def _clear_failures(self) -> None:
        """Call with self._lock held."""
        self._failure_mode, self._failure_count = "none", 0

    def _take_failure(self) -> tuple[str, float]:
        """The failure to play for this request, if any: (mode, delay for timeouts)."""
        with self._lock:
            if self._failure_mode == "none" or self._failure_count == 0:
                return "none", 0.0
            mode = self._failure_mode
            if self._failure_count > 0:
                self._failure_count -= 1
                if self._failure_count == 0:
                    self._failure_mode = "none"
            return mode, self._failure_delay


class LoopbackHandler(BaseHTTPRequestHandler):
    """The request handler base of the fakes: quiet logs, reading bodies, writing JSON answers."""

    fake_label = "fake"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug(f"{self.fake_label}: " + format, *args)

    def _reply(self, status: int, body: Any = None, content_type: str = "application/json") -> None:
        if body is None:
            raw = b""
        elif isinstance(body, bytes):
            raw = body
        else:
            raw = json.dumps(body, default=str).encode() if content_type == "application/json" else str(body).encode()
        try:
            self.send_response(status)
            if raw:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (the timeout modes)
            logger.debug("%s: the client hung up before the answer", self.fake_label)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _json_body(self) -> Any:
        """The request's JSON, {} for an empty body, None for a body that is not JSON."""
        try:
            return json.loads(self._body() or b"{}")
        except ValueError:
            return None

    def _fail_from(self, fake: LoopbackFake, payload: Any) -> None:
        """The `POST /__fail {"mode", "count", "delay"}` control endpoint every fake has."""
        if not isinstance(payload, dict) or payload.get("mode") not in fake.failure_modes:
            self._reply(400, {"error": f"mode must be one of {sorted(fake.failure_modes)}"})
            return
        try:
            count = int(payload.get("count", 1))
            delay = float(payload["delay"]) if "delay" in payload else None
        except (TypeError, ValueError):
            self._reply(400, {"error": "count must be an integer and delay a number"})
            return
        fake.fail(str(payload["mode"]), count, delay=delay)
        self._reply(200, {"mode": payload["mode"], "count": count})

    def _play_common_failure(
        self,
        fake: LoopbackFake,
        mode: str,
        delay: float,
        *,
        server_error: Any = "Internal Server Error",
        garbage: bytes = b"<html><body><h1>Service temporarily unavailable</h1></body></html>",
        garbage_status: int = 200,
    ) -> bool:
        """Answer as a broken provider for the modes all fakes share; True if `mode` was one of them.

        http500: a 500 with the provider's own error body; timeout: hang past the client's timeout, then a 504;
        garbage: an HTML page where JSON was expected.
        """
        if mode == "http500":
            self._reply(500, server_error, "text/plain" if isinstance(server_error, str) else "application/json")
        elif mode == "timeout":
            fake._stopping.wait(delay)
            self._reply(504, "Gateway Timeout", "text/plain")
        elif mode == "garbage":
            self._reply(garbage_status, garbage, "text/html")
        else:
            return False
        return True
