"""The real client speaking HTTP to the fake CLMS on loopback: what a fetch returns, and each way it can fail."""

import datetime
import json
import socket

import httpx
import pytest

from mita.integrations.clms.client import ClmsClient, ClmsDistrict, ClmsError
from mita.integrations.clms.fake import seed_licences

NUMBER = "RURA/WSS/2024/017"


def test_a_licence_is_fetched_by_its_number_with_every_field(clms_client):
    licence = clms_client.licence(NUMBER)
    assert licence.licence_number == NUMBER
    assert (licence.holder_name, licence.holder_tin, licence.holder_email, licence.holder_phone) == (
        "Amazi Meza Ltd",
        "102345678",
        "info@amazimeza.example",
        "+250788300000",
    )
    assert licence.status == "valid"
    assert (licence.issue_date, licence.expiry_date) == (datetime.date(2024, 7, 1), datetime.date(2027, 6, 30))
    assert licence.services == ("water_supply",)
    assert licence.districts == (ClmsDistrict("RW-21", "Bugesera"), ClmsDistrict("RW-27", "Rwamagana"))
    assert licence.raw["holder"]["name"] == "Amazi Meza Ltd"


def test_the_number_travels_url_encoded_with_the_bearer_token():
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404, json={"error": "not_found"})

    client = ClmsClient(base_url="http://clms.invalid/", token="t0k", transport=httpx.MockTransport(answer))
    with pytest.raises(ClmsError):
        client.licence("RURA/WSS/2024/017")
    assert seen[0].url.raw_path == b"/api/v1/licences/RURA%2FWSS%2F2024%2F017"
    assert seen[0].headers["Authorization"] == "Bearer t0k"


def test_clms_may_spell_the_number_in_its_own_case(clms_client):
    assert clms_client.licence(" rura/wss/2024/017 ").licence_number == NUMBER


def test_an_unknown_number_is_not_found(clms_client):
    with pytest.raises(ClmsError) as raised:
        clms_client.licence("RURA/WSS/1999/000")
    assert (raised.value.kind, raised.value.status_code) == ("not_found", 404)


def test_a_blank_number_is_not_found_without_asking(clms_client):
    with pytest.raises(ClmsError) as raised:
        clms_client.licence("  ")
    assert raised.value.kind == "not_found"
    assert raised.value.status_code is None


def test_a_wrong_token_is_refused(fake_clms):
    client = ClmsClient(base_url=fake_clms.base_url, token="not-the-token", timeout=0.5)
    with pytest.raises(ClmsError) as raised:
        client.licence(NUMBER)
    assert (raised.value.kind, raised.value.status_code) == ("refused", 401)


def test_a_server_error_is_unreachable_for_one_request_only(fake_clms, clms_client):
    fake_clms.fail("http500")
    with pytest.raises(ClmsError) as raised:
        clms_client.licence(NUMBER)
    assert (raised.value.kind, raised.value.status_code) == ("unreachable", 500)
    assert clms_client.licence(NUMBER).status == "valid"


def test_no_answer_in_time_is_unreachable(fake_clms, clms_client):
    fake_clms.fail("timeout", delay=2.0)
    with pytest.raises(ClmsError) as raised:
        clms_client.licence(NUMBER)
    assert raised.value.kind == "unreachable"
    assert "no answer from CLMS within 0.5s" in str(raised.value)


def test_nothing_listening_is_unreachable():
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ClmsClient(base_url=f"http://127.0.0.1:{port}", token="t", timeout=0.5)
    with pytest.raises(ClmsError) as raised:
        client.licence(NUMBER)
    assert raised.value.kind == "unreachable"
    assert raised.value.status_code is None


def test_a_body_that_is_not_json_is_an_invalid_response(fake_clms, clms_client):
    fake_clms.fail("garbage")
    with pytest.raises(ClmsError) as raised:
        clms_client.licence(NUMBER)
    assert raised.value.kind == "invalid_response"
    assert "not JSON" in str(raised.value)


def test_json_of_the_wrong_shape_is_an_invalid_response(fake_clms, clms_client):
    fake_clms.fail("wrong_shape")
    with pytest.raises(ClmsError) as raised:
        clms_client.licence(NUMBER)
    assert raised.value.kind == "invalid_response"
    assert "unexpected shape" in str(raised.value)


def _amazi(**changes: object) -> dict:
    licence = next(entry for entry in seed_licences() if entry["licence_number"] == NUMBER)
    licence.update(changes)
    return licence


def _without(field: str) -> dict:
    licence = _amazi()
    del licence[field]
    return licence


@pytest.mark.parametrize(
    ("licence", "why"),
    [
        (_without("status"), "status"),
        (_without("holder"), "holder"),
        (_without("expiry_date"), "expiry_date"),
        (_without("districts"), "districts"),
        (_amazi(status="active"), "status 'active'"),
        (_amazi(status=["valid"]), "unhashable"),
        (_amazi(issue_date="01/07/2024"), "issue_date"),
        (_amazi(expiry_date="2027-02-30"), "expiry_date"),
        (_amazi(expiry_date="2027-W26-3"), "expiry_date"),
        (_amazi(expiry_date="2020-01-01"), "before issue_date"),
        (_amazi(holder="Amazi Meza Ltd"), "holder"),
        (_amazi(holder={"name": ""}), "holder name"),
        (_amazi(holder={"name": "Amazi", "phone": 250788300000}), "holder phone"),
        (_amazi(services="water_supply"), "services"),
        (_amazi(services=[None]), "a service"),
        (_amazi(districts=[{"code": "", "name": ""}]), "neither a code nor a name"),
        (_amazi(districts=["Bugesera"]), "a district"),
    ],
)
def test_a_licence_of_the_wrong_shape_is_an_invalid_response(fake_clms, clms_client, licence, why):
    # given CLMS holds a licence that breaks the documented shape
    fake_clms.put(licence)
    # then the client refuses it and says what is wrong
    with pytest.raises(ClmsError) as raised:
        clms_client.licence(NUMBER)
    assert raised.value.kind == "invalid_response"
    assert "unexpected shape" in str(raised.value)


def test_optional_holder_fields_may_be_null_or_absent(fake_clms, clms_client):
    fake_clms.put(_amazi(holder={"name": "Amazi Meza Ltd", "tin": None}))
    licence = clms_client.licence(NUMBER)
    assert (licence.holder_tin, licence.holder_email, licence.holder_phone) == ("", "", "")


def test_an_answer_about_another_licence_is_an_invalid_response():
    other = _amazi(licence_number="RURA/WSS/2024/018")
    client = ClmsClient(
        base_url="http://clms.invalid",
        token="t",
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json=other)),
    )
    with pytest.raises(ClmsError) as raised:
        client.licence(NUMBER)
    assert raised.value.kind == "invalid_response"
    assert "RURA/WSS/2024/018" in str(raised.value)


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (404, b"<html>Not Found</html>", "invalid_response"),  # a wrong base URL, not an unknown licence
        (403, b"", "refused"),
        (429, b"slow down", "unreachable"),
        (503, b"maintenance", "unreachable"),
        (400, b'{"error": "bad_request"}', "invalid_response"),
        (302, b"", "invalid_response"),
        (200, b"[]", "invalid_response"),
        (200, b"null", "invalid_response"),
        (200, b"\xff\xfe garbage", "invalid_response"),
        (200, json.dumps({"licence_number": NUMBER}).encode(), "invalid_response"),
        (200, b"[" * 100_000 + b"]" * 100_000, "invalid_response"),
        (404, b"[" * 100_000 + b"]" * 100_000, "invalid_response"),
    ],
)
def test_every_other_answer_is_an_error_of_a_kind_never_a_crash(status, body, kind):
    transport = httpx.MockTransport(lambda request: httpx.Response(status, content=body))
    client = ClmsClient(base_url="http://clms.invalid", token="t", transport=transport)
    with pytest.raises(ClmsError) as raised:
        client.licence(NUMBER)
    assert (raised.value.kind, raised.value.status_code) == (kind, status)


def test_a_malformed_base_url_is_unreachable():
    with pytest.raises(ClmsError) as raised:
        ClmsClient(base_url="http://[::1", token="t", timeout=0.5).licence(NUMBER)
    assert raised.value.kind == "unreachable"
