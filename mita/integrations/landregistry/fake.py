"""A fake land registry on loopback: the parcel endpoint of the real one, seeded with the demo's parcels, with
failures.

Protocol endpoint (as the real registry, see docs/integrations/land-registry.md):
  GET  /api/v1/parcels/{upi}   header X-Api-Key: {key} (401 if wrong); 200 the parcel,
                               404 {"error": "parcel_not_found"}
Inspection and control (the fake's own, for tests and the demo):
  GET  /__parcels              {"parcels": [...]} every parcel it knows, by UPI
  POST /__parcels              a parcel object (or a list of them): add it, or replace the one with its UPI
  POST /__fail                 {"mode": "http500"|"timeout"|"garbage"|"wrong_shape"|"none", "count": N,
                               "delay": seconds} the next N parcel requests fail (N < 0: until told otherwise)
  POST /__reset                back to the seed parcels, no failures
"""

import copy
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote, urlsplit

from mita.core.fakes import LoopbackFake, LoopbackHandler
from mita.integrations.landregistry.client import API_KEY_HEADER, PARCEL_PATH

FAILURE_MODES = frozenset({"http500", "timeout", "garbage", "wrong_shape", "none"})
DEFAULT_API_KEY = "fake-land-registry-key"  # the fake's own key, the default of MITA_LAND_REGISTRY_API_KEY


def _parcel(upi: str, district: str, sector: str, cell: str, village: str, area: str, use: str, *owners: str) -> Any:
    return {
        "upi": upi,
        "location": {"province": "East", "district": district, "sector": sector, "cell": cell, "village": village},
        "area_m2": area,
        "land_use": use,
        "owners": [{"name": owner, "share": "1" if len(owners) == 1 else f"1/{len(owners)}"} for owner in owners],
        "registered_on": "2013-06-14",
    }


# The demo's parcels: Bugesera (RW-21, East province "5", district "01"), one with two owners, one commercial.
SEED_PARCELS: list[dict[str, Any]] = [
    _parcel("5/01/02/03/1234", "Bugesera", "Nyamata", "Nyamata y'Umujyi", "Gasenga I", "450.00", "residential",
            "Jeanne Uwase"),
    _parcel("5/01/02/03/1235", "Bugesera", "Nyamata", "Nyamata y'Umujyi", "Gasenga I", "612.50", "residential",
            "Emmanuel Habimana", "Claudine Mukamana"),
    _parcel("5/01/04/01/0087", "Bugesera", "Ruhuha", "Gatanga", "Kabeza", "1250", "commercial",
            "Ruhuha Trading Ltd"),
    _parcel("5/01/04/01/0088", "Bugesera", "Ruhuha", "Gatanga", "Kabeza", "8300.75", "institutional",
            "G.S. Ruhuha"),
    _parcel("5/01/06/02/2041", "Bugesera", "Mayange", "Kagenge", "Rugarama", "300", "agricultural",
            "Innocent Mugisha"),
]  # fmt: skip


def parcel_upi(parcel: Any) -> str:
    """The UPI a parcel is stored under; anything else about it may be as wrong as a test wants."""
    upi = parcel.get("upi") if isinstance(parcel, dict) else None
    if not isinstance(upi, str) or not upi.strip():
        raise ValueError("every parcel needs a upi")
    return upi.strip()


class FakeLandRegistry(LoopbackFake):
    """Serve the fake in a background thread: `with FakeLandRegistry() as registry: ... registry.base_url ...`."""

    failure_modes = FAILURE_MODES
    thread_name = "fake-land-registry"

    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        host: str = "127.0.0.1",
        port: int = 0,
        parcels: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(handler=_handler_for(self), host=host, port=port)
        self.api_key = api_key
        self._seed = {
            parcel_upi(entry): copy.deepcopy(entry) for entry in (SEED_PARCELS if parcels is None else parcels)
        }
        self._parcels: dict[str, dict[str, Any]] = {}
        self.requests = 0
        self.reset()

    @property
    def parcels(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(self._parcels[upi]) for upi in sorted(self._parcels)]

    def put(self, *parcels: Any) -> None:
        """Add parcels, or replace the ones with their UPIs; all or none."""
        keyed = {parcel_upi(parcel): copy.deepcopy(parcel) for parcel in parcels}
        with self._lock:
            self._parcels.update(keyed)

    def reset(self) -> None:
        with self._lock:
            self._parcels = copy.deepcopy(self._seed)
            self.requests = 0
            self._clear_failures()

    def _find(self, upi: str) -> dict[str, Any] | None:
        with self._lock:
            self.requests += 1
            parcel = self._parcels.get(upi.strip())
            return copy.deepcopy(parcel) if parcel is not None else None


def _handler_for(fake: FakeLandRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(LoopbackHandler):
        fake_label = "fake land registry"
        server_version = "FakeLandRegistry/1"

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path.startswith(PARCEL_PATH):
                self._parcel(unquote(path[len(PARCEL_PATH) :]))
            elif path == "/__parcels":
                self._reply(200, {"parcels": fake.parcels})
            else:
                self._reply(404, "Not found", "text/plain")

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            if path == "/__parcels":
                payload = self._json_body()
                parcels = payload if isinstance(payload, list) else [payload]
                try:
                    fake.put(*parcels)
                except ValueError as error:
                    self._reply(400, {"error": str(error)})
                    return
                self._reply(200, {"stored": [parcel["upi"] for parcel in parcels]})
            elif path == "/__fail":
                self._fail_from(fake, self._json_body())
            elif path == "/__reset":
                self._body()
                fake.reset()
                self._reply(200, {"reset": True})
            else:
                self._reply(404, "Not found", "text/plain")

        def _parcel(self, upi: str) -> None:
            if self.headers.get(API_KEY_HEADER) != fake.api_key:
                self._reply(401, {"error": "invalid_api_key"})
                return
            mode, delay = fake._take_failure()
            if self._play_common_failure(fake, mode, delay, server_error={"error": "internal"}):
                return
            parcel = fake._find(upi)
            if parcel is None:
                self._reply(404, {"error": "parcel_not_found"})
                return
            if mode == "wrong_shape":
                # What an older registry might send: a flat record without location or owners.
                parcel = {"upi": parcel["upi"], "district": "Bugesera", "owner": "see the file"}
            self._reply(200, parcel)

    return Handler
