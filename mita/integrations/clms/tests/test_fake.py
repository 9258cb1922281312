"""The fake CLMS's own HTTP controls, used by the demo and by the registry's tests."""

import httpx

from mita.integrations.clms.fake import FakeClms, seed_licences

from .conftest import TOKEN

NUMBER = "RURA/WSS/2024/017"


def _get(fake: FakeClms, number: str) -> httpx.Response:
    return httpx.get(
        fake.base_url + "/api/v1/licences/" + number.replace("/", "%2F"),
        headers={"Authorization": f"Bearer {TOKEN}"},
    )


def test_the_seed_has_a_licence_in_every_state_with_valid_phones():
    import phonenumbers

    licences = seed_licences()
    assert {licence["status"] for licence in licences} == {"valid", "expired", "revoked", "suspended"}
    for licence in licences:
        assert phonenumbers.is_valid_number(phonenumbers.parse(licence["holder"]["phone"])), licence["licence_number"]
    assert len({licence["licence_number"] for licence in licences}) == len(licences)


def test_a_licence_is_added_or_replaced_over_http(fake_clms):
    changed = {**seed_licences()[0], "status": "suspended"}
    added = {**seed_licences()[0], "licence_number": "RURA/WSS/2026/001"}
    response = httpx.post(fake_clms.base_url + "/__licences", json=[changed, added])
    assert response.json() == {"stored": [NUMBER, "RURA/WSS/2026/001"]}
    assert _get(fake_clms, NUMBER).json()["status"] == "suspended"
    assert _get(fake_clms, "RURA/WSS/2026/001").status_code == 200


def test_a_licence_without_a_number_is_refused_and_nothing_is_stored(fake_clms):
    before = fake_clms.licences
    response = httpx.post(
        fake_clms.base_url + "/__licences", json=[{**seed_licences()[0], "status": "revoked"}, {"status": "valid"}]
    )
    assert response.status_code == 400
    assert fake_clms.licences == before


def test_failures_are_injected_over_http_for_a_number_of_requests(fake_clms):
    response = httpx.post(fake_clms.base_url + "/__fail", json={"mode": "http500", "count": 2})
    assert response.status_code == 200
    assert [_get(fake_clms, NUMBER).status_code for _ in range(3)] == [500, 500, 200]


def test_an_unknown_failure_mode_is_refused(fake_clms):
    assert httpx.post(fake_clms.base_url + "/__fail", json={"mode": "meteor"}).status_code == 400


def test_reset_brings_back_the_seed_and_forgets_failures(fake_clms):
    fake_clms.change(NUMBER, status="revoked")
    fake_clms.fail("garbage", count=-1)
    httpx.post(fake_clms.base_url + "/__reset")
    assert _get(fake_clms, NUMBER).json()["status"] == "valid"


def test_the_licences_are_listed(fake_clms):
    listed = httpx.get(fake_clms.base_url + "/__licences").json()["licences"]
    assert NUMBER in [licence["licence_number"] for licence in listed]


def test_an_unencoded_number_is_understood_too(fake_clms):
    response = httpx.get(
        fake_clms.base_url + "/api/v1/licences/" + NUMBER, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.json()["licence_number"] == NUMBER


def test_a_licence_is_forgotten_over_http(fake_clms):
    response = httpx.delete(fake_clms.base_url + "/__licences/" + NUMBER.replace("/", "%2F"))
    assert response.json() == {"removed": NUMBER}
    assert _get(fake_clms, NUMBER).status_code == 404
    assert httpx.delete(fake_clms.base_url + "/__licences/" + NUMBER.replace("/", "%2F")).status_code == 404
