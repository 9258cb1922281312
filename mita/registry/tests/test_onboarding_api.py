"""The onboarding API, over HTTP to the fake CLMS."""

import datetime

import pytest
from django.utils import timezone

from mita.integrations.clms.fake import FakeClms
from mita.registry.models import Licence, Operator

pytestmark = pytest.mark.django_db


@pytest.fixture
def clms(settings):
    with FakeClms() as fake:
        settings.MITA_CLMS_BASE_URL = fake.base_url
        settings.MITA_CLMS_TOKEN = fake.token
        yield fake


BODY = {
    "licence_number": "RURA/MG/2025/007",
    "kind": "mini_grid",
    "utility": "electricity",
    "currency": "RWF",
    "country_code": "RW",
}


def test_the_regulator_onboards_through_the_api(client_for, regulator_admin, clms):
    response = client_for(regulator_admin).post("/api/v1/onboarding", BODY, content_type="application/json")
    assert response.status_code == 201, response.content
    operator = Operator.objects.get(pk=response.json()["id"])
    assert response.json()["prefix"] == operator.prefix


def test_an_expired_licence_is_a_400_with_the_reason(client_for, regulator_admin, clms):
    response = client_for(regulator_admin).post(
        "/api/v1/onboarding", BODY | {"licence_number": "RURA/WSS/2022/031"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "licence_not_valid"
    assert "licence_number" in response.json()["error"]["fields"]


def test_an_operator_admin_cannot_onboard(client_for, admin_a, clms):
    response = client_for(admin_a).post("/api/v1/onboarding", BODY, content_type="application/json")
    assert response.status_code == 403
    assert not Licence.objects.exists()


def test_grace_periods_and_may_bill_through_the_api(client_for, regulator_admin, admin_a, admin_b, operator_a):
    today = timezone.localdate()
    licence = Licence.objects.create(
        number="L-A",
        operator=operator_a,
        holder_name="A",
        status="expired",
        issued_on=today - datetime.timedelta(days=800),
        expires_on=today - datetime.timedelta(days=5),
        fetched_at=timezone.now(),
    )
    may_bill = f"/api/v1/operators/{operator_a.pk}/may-bill"
    assert client_for(admin_a).get(may_bill).json()["allowed"] is False
    granted = client_for(regulator_admin).post(
        f"/api/v1/licences/{licence.pk}/grace-periods",
        {
            "starts_on": today.isoformat(),
            "ends_on": (today + datetime.timedelta(days=30)).isoformat(),
            "reason": "Renewal",
        },
        content_type="application/json",
    )
    assert granted.status_code == 201
    answer = client_for(admin_a).get(may_bill).json()
    assert answer["allowed"] is True and answer["grace_period_id"] == granted.json()["id"]
    # operator B's admin cannot ask about operator A, nor grant anything
    assert client_for(admin_b).get(may_bill).status_code == 404
    assert (
        client_for(admin_a)
        .post(
            f"/api/v1/licences/{licence.pk}/grace-periods",
            {"starts_on": today.isoformat(), "ends_on": today.isoformat(), "reason": "x"},
            content_type="application/json",
        )
        .status_code
        == 403
    )
