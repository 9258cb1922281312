import json

import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


def _token(client, phone, password):
    return client.post("/api/v1/auth/token", {"phone": phone, "password": password}, content_type="application/json")


def test_a_bearer_token_from_auth_token_works(client, admin_a, password, operator_a):
    # given a token for operator A's admin
    response = _token(client, admin_a.phone, password)
    assert response.status_code == 200
    token = response.json()["token"]
    # when it is used as a bearer token
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    # then the API knows who is asking and for which operator
    assert me.status_code == 200
    assert me.json()["phone"] == admin_a.phone
    assert me.json()["workspace"]["key"] == f"operator:{operator_a.pk}"
    operators = client.get("/api/v1/operators", headers={"Authorization": f"Bearer {token}"}).json()
    assert operators["count"] == 1
    assert operators["items"][0]["name"] == "Amazi Alpha Ltd"


def test_a_wrong_or_missing_token_is_a_401_in_the_error_shape(client):
    for headers in ({}, {"Authorization": "Bearer mita_nonsense"}):
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"


def test_wrong_passwords_on_the_token_endpoint_are_throttled(client, admin_a, password):
    codes = [_token(client, admin_a.phone, "wrong-password").status_code for _ in range(11)]
    assert codes[:9] == [401] * 9
    assert codes[9:] == [429, 429]
    response = _token(client, admin_a.phone, password)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "login_throttled"


@pytest.mark.parametrize(
    "body",
    ["{not json", "[]", json.dumps({"phone": "+250788000001"}), json.dumps({"phone": 5, "password": None}), ""],
)
def test_bad_input_is_a_4xx_with_the_error_shape_never_a_500(client, body):
    response = client.post("/api/v1/auth/token", body, content_type="application/json")
    assert 400 <= response.status_code < 500, response.content
    error = response.json()["error"]
    assert error["code"] and error["message"]
    assert isinstance(error["fields"], dict)


def test_a_missing_field_is_named_in_the_error(client):
    response = client.post("/api/v1/auth/token", {"phone": "+250788000001"}, content_type="application/json")
    assert response.status_code == 422
    assert "password" in response.json()["error"]["fields"]


def test_lists_are_paginated_as_items_and_count(client_for, regulator_admin, operator_a, operator_b):
    response = client_for(regulator_admin).get("/api/v1/operators?limit=1")
    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert len(response.json()["items"]) == 1


def test_another_operators_object_is_a_404_in_the_api(client_for, admin_b, operator_a):
    response = client_for(admin_b).get(f"/api/v1/operators/{operator_a.pk}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_session_api_refuses_a_post_without_csrf(admin_a):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_a)
    response = client.post("/api/v1/auth/token", {"phone": "x", "password": "y"}, content_type="application/json")
    assert response.status_code != 500


def test_openapi_is_valid_openapi_3(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    validate(schema)
    assert "/api/v1/auth/token" in schema["paths"]


def test_the_docs_page_is_served(client):
    assert client.get("/api/v1/docs").status_code == 200
