"""The tariffs API: tariffs, versions (draft, publish), packages, a tariff's quote; roles; another operator's 404."""

import datetime

import pytest

from mita.accounts.roles import Role
from mita.tariffs.models import TariffVersion
from mita.tariffs.services_packages import package_create
from mita.tariffs.tests.world_tariffs import WASAC_2019, connection_at, officer_of, tariff_of, version_of, water
from mita.testing.factories import member

JSON = "application/json"


@pytest.mark.django_db
def test_a_tariff_is_created_given_a_version_published_and_quoted(client_for, operator_a):
    connection_at(operator_a, "AAL-9")
    client = client_for(officer_of(operator_a))
    # when a tariff is created
    response = client.post(
        "/api/v1/tariffs",
        {
            "code": "RES",
            "name": "Residential",
            "utility": "water",
            "property_types": ["residential"],
            "connection_numbers": ["aal-9"],
        },
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    tariff = response.json()
    assert tariff["connection_numbers"] == ["AAL-9"] and tariff["version_in_force_id"] is None
    # and a draft version added and published
    response = client.post(
        f"/api/v1/tariffs/{tariff['id']}/versions",
        {"effective_from": "2019-02-01", "definition": WASAC_2019, "note": "WASAC 2019"},
        content_type=JSON,
    )
    assert response.status_code == 201 and response.json()["status"] == "draft"
    version_id = response.json()["id"]
    published = client.post(f"/api/v1/tariff-versions/{version_id}/publish")
    assert published.status_code == 200 and published.json()["status"] == "published"
    # then the tariff quotes with it: 5 x 340 + 5 x 720
    quote = client.post(f"/api/v1/tariffs/{tariff['id']}/quote", {"usage": "10"}, content_type=JSON)
    assert quote.status_code == 200
    assert quote.json()["total"] == "5300" and quote.json()["version_id"] == version_id
    assert [line["amount"] for line in quote.json()["lines"]] == ["1700", "3600"]
    assert client.get(f"/api/v1/tariffs/{tariff['id']}").json()["version_in_force_id"] == version_id


@pytest.mark.django_db
def test_a_definition_that_does_not_validate_is_a_400_with_its_problems(client_for, operator_a):
    tariff = tariff_of(operator_a, "RES")
    client = client_for(officer_of(operator_a))
    response = client.post(
        f"/api/v1/tariffs/{tariff.pk}/versions",
        {"effective_from": "2026-05-01", "definition": water((5, 340), (20, 720))},
        content_type=JSON,
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "definition_invalid"
    assert any(problem.startswith("components[0].bands[1].upto:") for problem in error["fields"]["definition"])
    assert TariffVersion.objects.filter(tariff=tariff).count() == 1


@pytest.mark.django_db
def test_a_published_version_cannot_be_changed_or_republished(client_for, operator_a):
    tariff = tariff_of(operator_a, "RES")
    version = tariff.versions.get()
    client = client_for(officer_of(operator_a))
    response = client.patch(f"/api/v1/tariff-versions/{version.pk}", {"note": "x"}, content_type=JSON)
    assert response.status_code == 409 and response.json()["error"]["code"] == "version_published"
    assert client.post(f"/api/v1/tariff-versions/{version.pk}/publish").status_code == 409


@pytest.mark.django_db
def test_the_quote_uses_the_version_in_force_on_the_day_asked(client_for, operator_a, staff_a):
    tariff = tariff_of(operator_a, "RES", rate=100, effective_from=datetime.date(2026, 1, 1))
    version_of(tariff, datetime.date(2026, 7, 1), 150)
    draft = version_of(tariff, datetime.date(2026, 9, 1), 175, publish=False)
    client = client_for(member(Role.CASHIER, operator_a))
    url = f"/api/v1/tariffs/{tariff.pk}/quote"
    assert client.post(url, {"usage": "2", "on": "2026-06-30"}, content_type=JSON).json()["total"] == "200"
    assert client.post(url, {"usage": "2", "on": "2026-07-01"}, content_type=JSON).json()["total"] == "300"
    assert client.post(url, {"usage": "2", "version_id": draft.pk}, content_type=JSON).json()["total"] == "350"
    before = client.post(url, {"usage": "2", "on": "2025-01-01"}, content_type=JSON)
    assert before.status_code == 404 and before.json()["error"]["code"] == "no_version_in_force"
    bad = client.post(url, {"usage": "lots"}, content_type=JSON)
    assert bad.status_code == 400 and bad.json()["error"]["fields"] == {"usage": ["Write a number."]}
    negative = client.post(url, {"usage": "-1"}, content_type=JSON)
    assert negative.status_code == 400 and negative.json()["error"]["code"] == "quote_invalid"


@pytest.mark.django_db
def test_applicability_is_changed_with_patch_and_a_tie_is_a_409(client_for, operator_a):
    tariff_of(operator_a, "COMMERCIAL", property_types=["commercial"])
    other = tariff_of(operator_a, "INDUSTRIAL", property_types=["industrial"])
    client = client_for(officer_of(operator_a))
    response = client.patch(f"/api/v1/tariffs/{other.pk}", {"property_types": ["commercial"]}, content_type=JSON)
    assert response.status_code == 409 and response.json()["error"]["code"] == "tariff_tie"
    response = client.patch(
        f"/api/v1/tariffs/{other.pk}", {"property_types": ["commercial"], "priority": 2}, content_type=JSON
    )
    assert response.status_code == 200 and response.json()["priority"] == 2


@pytest.mark.django_db
def test_packages_are_offered_and_listed(client_for, operator_a):
    client = client_for(officer_of(operator_a))
    response = client.post(
        "/api/v1/packages",
        {
            "name": "Lights",
            "load_limit_w": 100,
            "hours_per_day": 24,
            "charging": "flat",
            "payment": "postpaid",
            "price": "3000",
            "effective_from": "2026-01-01",
            "deposit_amount": "5000",
        },
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    package = response.json()
    assert package["code"] == "MG-100W-24H-FLAT" and package["deposit_amount"] == "5000.00"
    assert [p["code"] for p in client.get("/api/v1/packages").json()] == ["MG-100W-24H-FLAT"]
    quote = client.post(f"/api/v1/tariffs/{package['tariff_id']}/quote", {"usage": "40"}, content_type=JSON)
    assert quote.json()["total"] == "3000"
    bad = client.post(
        "/api/v1/packages",
        {"name": "", "load_limit_w": 0, "charging": "x", "payment": "y", "price": "1", "effective_from": "2026-01-01"},
        content_type=JSON,
    )
    assert bad.status_code == 400 and {"name", "load_limit_w", "charging", "payment"} <= set(
        bad.json()["error"]["fields"]
    )


@pytest.mark.django_db
def test_readers_cannot_write_and_the_regulator_reads_across_operators(
    client_for, operator_a, operator_b, regulator_viewer
):
    tariff = tariff_of(operator_a, "RES-A")
    tariff_of(operator_b, "RES-B")
    cashier = client_for(member(Role.CASHIER, operator_a))
    assert (
        cashier.post("/api/v1/tariffs", {"code": "X", "name": "X", "utility": "water"}, content_type=JSON).status_code
        == 403
    )
    assert cashier.patch(f"/api/v1/tariffs/{tariff.pk}", {"name": "Y"}, content_type=JSON).status_code == 403
    regulator = client_for(regulator_viewer)
    assert {t["code"] for t in regulator.get("/api/v1/tariffs").json()} == {"RES-A", "RES-B"}
    assert regulator.post(f"/api/v1/tariffs/{tariff.pk}/quote", {"usage": "1"}, content_type=JSON).status_code == 200
    assert (
        regulator.post(
            f"/api/v1/tariffs/{tariff.pk}/versions",
            {"effective_from": "2026-01-01", "definition": {}},
            content_type=JSON,
        ).status_code
        == 403
    )


@pytest.mark.django_db
def test_another_operators_tariffs_versions_and_packages_are_404(client_for, operator_a, admin_b):
    tariff = tariff_of(operator_a, "RES")
    draft = version_of(tariff, datetime.date(2026, 6, 1), 120, publish=False)
    package = package_create(
        operator=operator_a,
        acting_user=None,
        name="Lights",
        load_limit_w=100,
        hours_per_day=24,
        charging="flat",
        payment="postpaid",
        price="3000",
        effective_from=datetime.date(2026, 1, 1),
    )
    client = client_for(admin_b)
    assert client.get(f"/api/v1/tariffs/{tariff.pk}").status_code == 404
    assert client.patch(f"/api/v1/tariffs/{tariff.pk}", {"name": "Mine"}, content_type=JSON).status_code == 404
    assert client.get(f"/api/v1/tariffs/{tariff.pk}/versions").status_code == 404
    assert (
        client.post(
            f"/api/v1/tariffs/{tariff.pk}/versions",
            {"effective_from": "2026-01-01", "definition": WASAC_2019},
            content_type=JSON,
        ).status_code
        == 404
    )
    assert client.post(f"/api/v1/tariffs/{tariff.pk}/quote", {"usage": "1"}, content_type=JSON).status_code == 404
    assert client.get(f"/api/v1/tariff-versions/{draft.pk}").status_code == 404
    assert client.patch(f"/api/v1/tariff-versions/{draft.pk}", {"note": "x"}, content_type=JSON).status_code == 404
    assert client.post(f"/api/v1/tariff-versions/{draft.pk}/publish").status_code == 404
    assert client.get(f"/api/v1/packages/{package.pk}").status_code == 404
    assert client.patch(f"/api/v1/packages/{package.pk}", {"name": "Mine"}, content_type=JSON).status_code == 404
    assert client.get("/api/v1/tariffs").json() == [] and client.get("/api/v1/packages").json() == []
    draft.refresh_from_db()
    assert draft.status == TariffVersion.Status.DRAFT


@pytest.mark.django_db
def test_a_draft_saved_with_a_key_is_saved_once_and_the_key_with_other_contents_is_a_409(client_for, operator_a):
    tariff = tariff_of(operator_a, "RES")
    client = client_for(officer_of(operator_a))
    body = {"effective_from": "2026-07-01", "definition": water((None, 120)), "idempotency_key": "draft-2026-07"}
    first = client.post(f"/api/v1/tariffs/{tariff.pk}/versions", body, content_type=JSON)
    again = client.post(f"/api/v1/tariffs/{tariff.pk}/versions", body, content_type=JSON)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert TariffVersion.objects.filter(tariff=tariff).count() == 2  # the published one and this draft
    other = client.post(
        f"/api/v1/tariffs/{tariff.pk}/versions", {**body, "definition": water((None, 130))}, content_type=JSON
    )
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"
