"""A fake CLMS on loopback: the licence endpoint of the real one, seeded with the demo's licences, with failures.

Protocol endpoint (as the real CLMS, see docs/clms.md):
  GET  /api/v1/licences/{number}   header Authorization: Bearer {token} (401 if wrong); 200 the licence,
                                   404 {"error": "not_found"}
Inspection and control (the fake's own, for tests and the demo):
  GET  /__licences                 {"licences": [...]} every licence it knows, by number
  POST /__licences                 a licence object (or a list of them): add it, or replace the one with its number
  DELETE /__licences/{number}      forget a licence (CLMS answers 404 for it from then on)
  POST /__fail                     {"mode": "http500"|"timeout"|"garbage"|"wrong_shape"|"none", "count": N,
                                   "delay": seconds} the next N licence requests fail (N < 0: until told otherwise)
  POST /__reset                    back to the seed licences, no failures
"""

import copy
import json
import logging
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from mita.core.fakes import LoopbackFake, LoopbackHandler
from mita.integrations.clms.client import LICENCE_PATH

logger = logging.getLogger(__name__)

SEED_FILE = Path(__file__).parent / "fake_licences.json"
FAILURE_MODES = frozenset({"http500", "timeout", "garbage", "wrong_shape", "none"})


def seed_licences(path: Path = SEED_FILE) -> list[dict[str, Any]]:
    """The demo's licences, one in every state (docs/clms.md lists them)."""
    licences = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(licences, list):
        raise ValueError(f"{path} must hold a list of licences")
    for licence in licences:
        licence_number(licence)
    return licences


def licence_number(licence: Any) -> str:
    """The number a licence is stored under; anything else about it may be as wrong as a test wants."""
    number = licence.get("licence_number") if isinstance(licence, dict) else None
    if not isinstance(number, str) or not number.strip():
        raise ValueError("every licence needs a licence_number")
    return number.strip()


class FakeClms(LoopbackFake):
    """Serve the fake in a background thread: `with FakeClms() as clms: ... clms.base_url ...`."""

    failure_modes = FAILURE_MODES
    thread_name = "fake-clms"

    def __init__(
        self,
        *,
        token: str = "fake-clms-token",  # noqa: S107 - the fake's own token, the default of MITA_CLMS_TOKEN
        host: str = "127.0.0.1",
        port: int = 0,
        licences: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(handler=_handler_for(self), host=host, port=port)
        self.token = token
        self._seed = {
            licence_number(entry): copy.deepcopy(entry) for entry in (seed_licences() if licences is None else licences)
        }
        self._licences: dict[str, dict[str, Any]] = {}
        self.reset()

    # What the tests and the demo use directly.

    @property
    def licences(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(self._licences[number]) for number in sorted(self._licences)]

    def put(self, *licences: Any) -> None:
        """Add licences, or replace the ones with their numbers; all or none. Anything with a licence_number is
        kept as given, so a test can store a licence of the wrong shape and see what the client makes of it."""
        numbered = {licence_number(licence): copy.deepcopy(licence) for licence in licences}
        with self._lock:
            self._licences.update(numbered)

    def remove(self, number: str) -> bool:
        """Forget a licence; returns whether there was one."""
        with self._lock:
            return self._licences.pop(number.strip(), None) is not None

    def change(self, number: str, **fields: Any) -> dict[str, Any]:
        """Change some fields of a stored licence (e.g. status="suspended"); returns the licence as now stored."""
        with self._lock:
            licence = self._licences[number]
            licence.update(copy.deepcopy(fields))
            return copy.deepcopy(licence)

    def reset(self) -> None:
        with self._lock:
            self._licences = copy.deepcopy(self._seed)
            self._clear_failures()

    # The protocol side, called from the handler threads.

    def _find(self, number: str) -> dict[str, Any] | None:
        """The licence with this number; like a registry clerk, CLMS does not mind the case of the letters."""
        wanted = number.strip().casefold()
        with self._lock:
            for stored, licence in self._licences.items():
                if stored.casefold() == wanted:
                    return copy.deepcopy(licence)
        return None


def _handler_for(fake: FakeClms) -> type[BaseHTTPRequestHandler]:
    class Handler(LoopbackHandler):
        fake_label = "fake CLMS"
        server_version = "FakeClms/1"

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path.startswith(LICENCE_PATH):
                # The number arrives URL-encoded ("/" as %2F); an unencoded one is understood too.
                self._licence(unquote(path[len(LICENCE_PATH) :]))
            elif path == "/__licences":
                self._reply(200, {"licences": fake.licences})
            else:
                self._reply(404, "Not found", "text/plain")

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            if path == "/__licences":
                self._put()
            elif path == "/__fail":
                self._fail_from(fake, self._json_body())
            elif path == "/__reset":
                self._body()
                fake.reset()
                self._reply(200, {"reset": True})
            else:
                self._reply(404, "Not found", "text/plain")

        def do_DELETE(self) -> None:
            path = urlsplit(self.path).path
            prefix = "/__licences/"
            if path.startswith(prefix) and fake.remove(unquote(path[len(prefix) :])):
                self._reply(200, {"removed": unquote(path[len(prefix) :])})
            else:
                self._reply(404, {"error": "not_found"})

        def _licence(self, number: str) -> None:
            if self.headers.get("Authorization") != f"Bearer {fake.token}":
                self._reply(401, {"error": "unauthorized"})
                return
            mode, delay = fake._take_failure()
            if self._play_common_failure(fake, mode, delay):
                return
            licence = fake._find(number)
            if licence is None:
                self._reply(404, {"error": "not_found"})
                return
            if mode == "wrong_shape":
                # What an older or misconfigured CLMS might send: flat fields, a status we do not know, no dates.
                licence = {
                    "licence_number": licence.get("licence_number"),
                    "holder": "see the file",
                    "status": "active",
                }
            self._reply(200, licence)

        def _put(self) -> None:
            payload = self._json_body()
            licences = payload if isinstance(payload, list) else [payload]
            try:
                fake.put(*licences)
            except ValueError as error:
                self._reply(400, {"error": str(error)})
                return
            self._reply(200, {"stored": [licence["licence_number"] for licence in licences]})

    return Handler
