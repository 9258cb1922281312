"""The regulator onboards operators through the pages, over HTTP to the fake CLMS."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from mita.integrations.clms.fake import FakeClms
from mita.registry.models import GracePeriod, Licence, Operator

pytestmark = pytest.mark.django_db


@pytest.fixture
def clms(settings):
    with FakeClms() as fake:
        settings.MITA_CLMS_BASE_URL = fake.base_url
        settings.MITA_CLMS_TOKEN = fake.token
        yield fake


ONBOARD = {
    "licence_number": "RURA/WSS/2025/050",
    "name": "",
    "kind": "private_operator",
    "utility": "water",
    "country_code": "RW",
    "currency": "RWF",
    "language": "rw",
}


def test_the_regulator_looks_a_licence_up_then_onboards_it(client_for, regulator_admin, clms):
    client = client_for(regulator_admin)
    preview = client.get(reverse("registry:operator_onboard"), {"licence_number": "RURA/WSS/2025/050"})
    assert preview.status_code == 200
    assert "Umucyo" in preview.content.decode() or "RURA/WSS/2025/050" in preview.content.decode()
    assert not Licence.objects.exists()  # looking up saves nothing
    response = client.post(reverse("registry:operator_onboard"), ONBOARD)
    operator = Operator.objects.get()
    assert response.status_code == 302 and response.url == reverse("registry:operator_detail", args=[operator.pk])
    page = client.get(response.url).content.decode()
    assert operator.prefix in page and "May bill today" in page


def test_an_expired_licence_is_refused_on_the_page_with_the_way_forward(client_for, regulator_admin, clms):
    client = client_for(regulator_admin)
    response = client.post(reverse("registry:operator_onboard"), ONBOARD | {"licence_number": "RURA/WSS/2022/031"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Onboarding needs a valid licence" in page
    licence = Licence.objects.get(number="RURA/WSS/2022/031")
    assert reverse("registry:licence_detail", args=[licence.pk]) in page
    # when the regulator grants a grace period on the licence page, onboarding goes through
    today = timezone.localdate()
    granted = client.post(
        reverse("registry:grace_period_grant", args=[licence.pk]),
        {
            "starts_on": today.isoformat(),
            "ends_on": (today + datetime.timedelta(days=90)).isoformat(),
            "reason": "Renewal filed with the regulator",
        },
    )
    assert granted.status_code == 302 and GracePeriod.objects.filter(licence=licence).exists()
    response = client.post(reverse("registry:operator_onboard"), ONBOARD | {"licence_number": "RURA/WSS/2022/031"})
    assert response.status_code == 302


def test_clms_down_shows_a_clear_error_and_creates_nothing(client_for, regulator_admin, settings):
    settings.MITA_CLMS_BASE_URL = "http://127.0.0.1:9"  # nothing listens there
    settings.MITA_CLMS_TIMEOUT_SECONDS = 1
    response = client_for(regulator_admin).post(reverse("registry:operator_onboard"), ONBOARD)
    assert response.status_code == 502
    assert "did not answer" in response.content.decode()
    assert not Operator.objects.exists() and not Licence.objects.exists()


def test_only_the_regulator_admin_onboards(client_for, regulator_viewer, admin_a, clms):
    for user in (regulator_viewer, admin_a):
        assert client_for(user).get(reverse("registry:operator_onboard")).status_code == 403
        assert client_for(user).post(reverse("registry:operator_onboard"), ONBOARD).status_code == 403
    assert not Licence.objects.exists()
    assert list(Operator.objects.values_list("name", flat=True)) == ["Amazi Alpha Ltd"]


def test_the_operator_list_warns_of_licences_expiring_within_30_days(client_for, regulator_viewer, operator_a):
    today = timezone.localdate()
    Licence.objects.create(
        number="RURA/X/1",
        operator=operator_a,
        holder_name="A",
        status="valid",
        issued_on=today - datetime.timedelta(days=700),
        expires_on=today + datetime.timedelta(days=12),
        fetched_at=timezone.now(),
    )
    page = client_for(regulator_viewer).get(reverse("registry:operator_list")).content.decode()
    assert "Licence expires in 12 days" in page
    assert 'data-testid="expiry-warnings"' in page


def test_an_operator_admin_uploads_a_logo_shown_to_their_users_only(
    client_for, admin_a, staff_a, admin_b, operator_a, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    response = client_for(admin_a).post(
        reverse("registry:operator_profile"), {"logo": SimpleUploadedFile("logo.png", png)}
    )
    assert response.status_code == 302
    logo_url = reverse("registry:operator_logo", args=[operator_a.pk])
    assert b"".join(client_for(staff_a).get(logo_url).streaming_content) == png
    assert client_for(admin_b).get(logo_url).status_code == 404
    # a billing officer sees the profile but cannot change the logo
    assert (
        client_for(staff_a)
        .post(reverse("registry:operator_profile"), {"logo": SimpleUploadedFile("x.png", png)})
        .status_code
        == 403
    )


def test_a_bad_logo_is_refused_next_to_the_field(client_for, admin_a, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    response = client_for(admin_a).post(
        reverse("registry:operator_profile"), {"logo": SimpleUploadedFile("logo.png", b"not an image")}
    )
    assert response.status_code == 400
    assert "must be a PNG, JPEG or SVG" in response.content.decode()


def test_the_operator_list_shows_clusters_and_warns_of_clusters_expiring(client_for, regulator_admin, operator_a):
    from mita.registry.services.clusters import cluster_assign, cluster_create

    today = timezone.localdate()
    district = operator_a.districts.first()
    cluster = cluster_create(name="Ruhuha", code="BUG-02", districts=[district], acting_user=regulator_admin)
    cluster_assign(
        cluster=cluster,
        operator=operator_a,
        starts_on=today - datetime.timedelta(days=300),
        expires_on=today + datetime.timedelta(days=10),
        acting_user=regulator_admin,
    )
    page = client_for(regulator_admin).get(reverse("registry:operator_list")).content.decode()
    assert "BUG-02 (0)" in page
    assert 'data-testid="cluster-warnings"' in page and "Ruhuha" in page


def test_the_regulator_invites_a_district_officer_who_then_sees_that_districts_operators(
    client_for, regulator_admin, operator_a, district_a
):
    from mita.accounts.models import Membership

    response = client_for(regulator_admin).post(
        reverse("registry:district_officer_invite"),
        {
            "district": district_a.pk,
            "phone": "+250788123987",
            "name": "Odette Officer",
            "email": "",
            "language": "fr",
        },
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user__phone="+250788123987")
    assert membership.role == "district_officer" and membership.district == district_a
    page = client_for(membership.user).get(reverse("registry:operator_list")).content.decode()
    assert "Amazi Alpha Ltd" in page


def test_only_the_regulator_admin_invites_district_officers(client_for, admin_a, regulator_viewer):
    for user in (admin_a, regulator_viewer):
        assert client_for(user).get(reverse("registry:district_officer_invite")).status_code == 403
