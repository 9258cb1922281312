"""The fake land registry's own HTTP controls, used by the demo and by the customers tests."""

import re

import httpx

from mita.integrations.landregistry.fake import SEED_PARCELS

from .conftest import API_KEY

UPI_FORMAT = re.compile(r"[1-5]/\d{2}/\d{2}/\d{2}/\d{1,6}")


def _get(base_url: str, upi: str) -> httpx.Response:
    return httpx.get(base_url + "/api/v1/parcels/" + upi.replace("/", "%2F"), headers={"X-Api-Key": API_KEY})


def test_the_seed_parcels_have_well_formed_distinct_upis():
    upis = [parcel["upi"] for parcel in SEED_PARCELS]
    assert all(UPI_FORMAT.fullmatch(upi) for upi in upis)
    assert len(set(upis)) == len(upis)


def test_a_parcel_is_added_over_http_and_served(fake_registry):
    added = {**SEED_PARCELS[0], "upi": "5/01/02/03/7777"}
    response = httpx.post(fake_registry.base_url + "/__parcels", json=added)
    assert response.json() == {"stored": ["5/01/02/03/7777"]}
    assert _get(fake_registry.base_url, "5/01/02/03/7777").json()["owners"] == SEED_PARCELS[0]["owners"]


def test_a_parcel_without_a_upi_is_refused_and_nothing_is_stored(fake_registry):
    before = fake_registry.parcels
    response = httpx.post(fake_registry.base_url + "/__parcels", json=[{"upi": "5/01/02/03/7778"}, {"area_m2": 1}])
    assert response.status_code == 400
    assert fake_registry.parcels == before


def test_failures_are_set_over_http_and_reset_clears_them(fake_registry):
    assert httpx.post(fake_registry.base_url + "/__fail", json={"mode": "http500", "count": -1}).status_code == 200
    assert _get(fake_registry.base_url, SEED_PARCELS[0]["upi"]).status_code == 500
    assert _get(fake_registry.base_url, SEED_PARCELS[0]["upi"]).status_code == 500
    httpx.post(fake_registry.base_url + "/__reset")
    assert _get(fake_registry.base_url, SEED_PARCELS[0]["upi"]).status_code == 200
    assert httpx.post(fake_registry.base_url + "/__fail", json={"mode": "flood"}).status_code == 400
