"""The real land registry client speaking HTTP to the fake on loopback: what a lookup returns, and each way it fails."""

import copy
import json
import socket
from decimal import Decimal

import httpx
import pytest

from mita.integrations.landregistry.client import LandRegistryClient, LandRegistryError
from mita.integrations.landregistry.fake import SEED_PARCELS

from .conftest import API_KEY

UPI = "5/01/02/03/1235"


def _seed(upi: str = UPI, **changes: object) -> dict:
    parcel = copy.deepcopy(next(entry for entry in SEED_PARCELS if entry["upi"] == upi))
    parcel.update(changes)
    return parcel


def test_a_parcel_is_fetched_by_its_upi_with_its_place_area_use_and_owners(registry_client):
    parcel = registry_client.parcel(UPI)
    assert parcel.upi == UPI
    assert (parcel.district, parcel.sector, parcel.cell, parcel.village) == (
        "Bugesera",
        "Nyamata",
        "Nyamata y'Umujyi",
        "Gasenga I",
    )
    assert parcel.area_m2 == Decimal("612.50")
    assert parcel.land_use == "residential"
    assert parcel.owner_names == ("Emmanuel Habimana", "Claudine Mukamana")


def test_a_whole_number_area_is_read_exactly_as_a_decimal(registry_client):
    assert registry_client.parcel("5/01/04/01/0087").area_m2 == Decimal("1250.00")


def test_the_upi_travels_url_encoded_with_the_api_key():
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404, json={"error": "parcel_not_found"})

    client = LandRegistryClient(base_url="http://land.invalid/", api_key="k3y", transport=httpx.MockTransport(answer))
    with pytest.raises(LandRegistryError):
        client.parcel("5/01/02/03/1234")
    assert seen[0].url.raw_path == b"/api/v1/parcels/5%2F01%2F02%2F03%2F1234"
    assert seen[0].headers["X-Api-Key"] == "k3y"


def test_an_unknown_upi_is_not_found(registry_client):
    with pytest.raises(LandRegistryError) as raised:
        registry_client.parcel("5/01/02/03/9999")
    assert (raised.value.kind, raised.value.status_code) == ("not_found", 404)


def test_a_wrong_key_is_refused(fake_registry):
    client = LandRegistryClient(base_url=fake_registry.base_url, api_key="not-the-key", timeout=2.0)
    with pytest.raises(LandRegistryError) as raised:
        client.parcel(UPI)
    assert (raised.value.kind, raised.value.status_code) == ("refused", 401)


def test_a_server_error_is_unreachable_for_one_request_only(fake_registry, registry_client):
    fake_registry.fail("http500")
    with pytest.raises(LandRegistryError) as raised:
        registry_client.parcel(UPI)
    assert (raised.value.kind, raised.value.status_code) == ("unreachable", 500)
    assert registry_client.parcel(UPI).upi == UPI


def test_no_answer_in_time_is_unreachable(fake_registry, registry_client):
    fake_registry.fail("timeout", delay=4.0)
    with pytest.raises(LandRegistryError) as raised:
        registry_client.parcel(UPI)
    assert raised.value.kind == "unreachable"
    assert "within 2s" in str(raised.value)


def test_nothing_listening_is_unreachable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = LandRegistryClient(base_url=f"http://127.0.0.1:{port}", api_key=API_KEY, timeout=0.5)
    with pytest.raises(LandRegistryError) as raised:
        client.parcel(UPI)
    assert (raised.value.kind, raised.value.status_code) == ("unreachable", None)


def test_a_body_that_is_not_json_is_an_invalid_response(fake_registry, registry_client):
    fake_registry.fail("garbage")
    with pytest.raises(LandRegistryError) as raised:
        registry_client.parcel(UPI)
    assert raised.value.kind == "invalid_response"
    assert "not JSON" in str(raised.value)


def test_json_of_the_wrong_shape_is_an_invalid_response(fake_registry, registry_client):
    fake_registry.fail("wrong_shape")
    with pytest.raises(LandRegistryError) as raised:
        registry_client.parcel(UPI)
    assert raised.value.kind == "invalid_response"
    assert "unexpected shape" in str(raised.value)


@pytest.mark.parametrize(
    "parcel",
    [
        _seed(area_m2=-5),
        _seed(area_m2="about 600"),
        _seed(area_m2=True),
        _seed(area_m2="NaN"),
        _seed(owners="Emmanuel Habimana"),
        _seed(owners=[{"name": ""}]),
        _seed(location={"district": "Bugesera"}),
        _seed(location="Bugesera"),
        _seed(land_use=7),
    ],
)
def test_a_parcel_of_the_wrong_shape_is_an_invalid_response(fake_registry, registry_client, parcel):
    fake_registry.put(parcel)
    with pytest.raises(LandRegistryError) as raised:
        registry_client.parcel(UPI)
    assert raised.value.kind == "invalid_response"


def test_an_answer_about_another_parcel_is_an_invalid_response():
    other = {**_seed(), "upi": "5/01/02/03/1236"}
    client = LandRegistryClient(
        base_url="http://land.invalid",
        api_key="k",
        transport=httpx.MockTransport(lambda request: httpx.Response(200, json=other)),
    )
    with pytest.raises(LandRegistryError) as raised:
        client.parcel(UPI)
    assert raised.value.kind == "invalid_response"
    assert "5/01/02/03/1236" in str(raised.value)


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (404, b"<html>Not Found</html>", "invalid_response"),  # a wrong base URL, not an unknown parcel
        (403, b"", "refused"),
        (429, b"slow down", "unreachable"),
        (503, b"maintenance", "unreachable"),
        (400, b'{"error": "bad_upi"}', "invalid_response"),
        (200, b"[]", "invalid_response"),
        (200, b"\xff\xfe garbage", "invalid_response"),
        (200, json.dumps({"upi": UPI}).encode(), "invalid_response"),
    ],
)
def test_every_other_answer_is_an_error_of_a_kind_never_a_crash(status, body, kind):
    transport = httpx.MockTransport(lambda request: httpx.Response(status, content=body))
    client = LandRegistryClient(base_url="http://land.invalid", api_key="k", transport=transport)
    with pytest.raises(LandRegistryError) as raised:
        client.parcel(UPI)
    assert (raised.value.kind, raised.value.status_code) == (kind, status)
