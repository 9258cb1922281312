"""POST /api/v1/tariffs/quote: the engine over HTTP, for any signed-in user; bad definitions are 400s that say why."""

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

URL = "/api/v1/tariffs/quote"
WASAC = json.loads((Path(__file__).resolve().parents[3] / "docs" / "tariffs" / "wasac-2019.json").read_text())


def post(client, body, **headers):
    return client.post(URL, json.dumps(body), content_type="application/json", headers=headers)


def test_a_signed_in_user_gets_the_lines_and_total_as_decimal_strings(client_for, staff_a):
    # given a billing officer and the WASAC 2019 tariff
    client = client_for(staff_a)
    # when 25 m3 of residential use is quoted
    response = post(client, {"definition": WASAC, "usage": {"quantity": "25", "property_type": "residential"}})
    # then the lines are the three bands reached, and the total their sum
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"lines", "total"}
    assert [(line["label"], line["quantity"], line["rate"], line["amount"]) for line in body["lines"]] == [
        ("Water 0-5 m3", "5", "340", "1700"),
        ("Water 5-20 m3", "15", "720", "10800"),
        ("Water 20-50 m3", "5", "845", "4225"),
    ]
    assert body["total"] == "16725"


def test_decimals_sent_as_json_numbers_stay_exact(client_for, admin_a):
    definition = {
        "currency": "INR",
        "utility": "water",
        "unit": "kL",
        "components": [{"type": "blocks", "bands": [{"upto": 10, "rate": 2.5}, {"upto": None, "rate": 0.1}]}],
    }
    response = post(client_for(admin_a), {"definition": definition, "usage": {"quantity": 10.3}})
    assert response.status_code == 200, response.content
    assert response.json()["total"] == "25.03"  # 10 x 2.5 + 0.3 x 0.1


def test_days_indigent_and_counts_reach_the_engine(client_for, admin_a):
    definition = {
        "currency": "RWF",
        "utility": "water",
        "unit": "m3",
        "components": [
            {"type": "blocks", "free": 2, "indigent_free": 4, "bands": [{"upto": None, "rate": 100}]},
            {"type": "per_unit", "count": "taps", "rate": 300},
        ],
    }
    usage = {"quantity": "10", "days": 15, "indigent": True, "counts": {"taps": 2}}
    response = post(client_for(admin_a), {"definition": definition, "usage": usage})
    assert response.status_code == 200, response.content
    assert response.json()["total"] == str(8 * 100 + 2 * 300 // 2)  # 2 of the 4 free m3 (half a month), taps halved


def test_an_invalid_definition_is_a_400_with_each_problem_under_its_path(client_for, admin_a):
    definition = {**WASAC, "currency": "XYZ", "colour": "blue"}
    definition["components"] = [
        {"type": "blocks", "bands": [{"upto": 5, "rate": -340}, {"upto": 3, "rate": 720}]},
    ]
    response = post(client_for(admin_a), {"definition": definition, "usage": {"quantity": 1}})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "tariff_invalid"
    assert "not valid" in error["message"]
    assert set(error["fields"]) == {
        "colour",
        "currency",
        "components[0].bands[0].rate",
        "components[0].bands[1].upto",
    }
    assert error["fields"]["components[0].bands[0].rate"] == ["-340 is negative; rates and amounts must be 0 or more."]


def test_a_usage_the_tariff_cannot_price_is_a_400_naming_the_usage_field(client_for, admin_a):
    response = post(client_for(admin_a), {"definition": WASAC, "usage": {"quantity": 3}})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "usage_invalid"
    assert list(error["fields"]) == ["usage.property_type"]


@pytest.mark.parametrize(
    "body",
    [
        {"usage": {"quantity": 1}},
        {"definition": "WASAC", "usage": {"quantity": 1}},
        {"definition": WASAC, "usage": {"quantity": -1}},
        {"definition": WASAC, "usage": {"quantity": "lots"}},
        {"definition": WASAC, "usage": {"days": 0}},
    ],
)
def test_a_malformed_request_is_a_4xx_in_the_error_shape_never_a_500(client_for, admin_a, body):
    response = post(client_for(admin_a), body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"


def test_anonymous_callers_are_refused(client):
    response = post(client, {"definition": WASAC, "usage": {"quantity": 1, "property_type": "residential"}})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_users_of_any_operator_or_the_regulator_get_the_same_quote_and_nothing_of_an_operator(
    client_for, admin_a, admin_b, regulator_admin
):
    body = {"definition": WASAC, "usage": {"quantity": "51", "property_type": "residential"}}
    answers = [post(client_for(user), body) for user in (admin_a, admin_b, regulator_admin)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert answers[0].json() == answers[1].json() == answers[2].json()
    assert answers[0].json()["total"] == "38727"
    assert "Amazi Alpha" not in answers[1].content.decode()


def test_a_bearer_token_works_too(client, admin_b, password):
    token = client.post(
        "/api/v1/auth/token", {"phone": admin_b.phone, "password": password}, content_type="application/json"
    ).json()["token"]
    response = post(
        client,
        {"definition": WASAC, "usage": {"quantity": "5", "property_type": "public_tap"}},
        Authorization=f"Bearer {token}",
    )
    assert response.status_code == 200, response.content
    assert response.json()["total"] == "1615"


def test_the_endpoint_is_in_the_openapi_schema(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert "post" in schema["paths"]["/api/v1/tariffs/quote"]
