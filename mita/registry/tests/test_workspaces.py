import pytest
from django.urls import reverse

from mita.accounts.models import Membership
from mita.accounts.roles import Role
from mita.testing.factories import OperatorFactory

pytestmark = pytest.mark.django_db


def test_a_district_officer_sees_only_the_operators_of_their_district(
    client_for, district_officer_a, operator_a, operator_b
):
    page = client_for(district_officer_a).get(reverse("registry:operator_list")).content.decode()
    assert "Amazi Alpha Ltd" in page
    assert "Bravo Water Co" not in page
    assert (
        client_for(district_officer_a).get(reverse("registry:operator_detail", args=[operator_b.pk])).status_code == 404
    )


def test_the_regulator_sees_every_operator_sorted_as_asked(client_for, regulator_viewer, operator_a, operator_b):
    client = client_for(regulator_viewer)
    ascending = client.get(reverse("registry:operator_list"), {"sort": "name"}).content.decode()
    descending = client.get(reverse("registry:operator_list"), {"sort": "-name"}).content.decode()
    assert ascending.index("Amazi Alpha Ltd") < ascending.index("Bravo Water Co")
    assert descending.index("Bravo Water Co") < descending.index("Amazi Alpha Ltd")
    # an unknown sort falls back to the default instead of failing
    assert client.get(reverse("registry:operator_list"), {"sort": "password", "page": "x"}).status_code == 200


def test_the_operator_list_is_paginated(client_for, regulator_viewer):
    OperatorFactory.create_batch(30)
    client = client_for(regulator_viewer)
    first = client.get(reverse("registry:operator_list")).content.decode()
    second = client.get(reverse("registry:operator_list"), {"page": 2}).content.decode()
    assert "Page 1 of 2" in first and "Page 2 of 2" in second


def test_a_user_of_two_operators_switches_between_them(client_for, admin_a, operator_a, operator_b):
    # given an admin of A who is also a cashier at B
    Membership.objects.create(user=admin_a, role=Role.CASHIER, operator=operator_b)
    client = client_for(admin_a)
    assert "Amazi Alpha Ltd · Operator admin" in client.get("/").content.decode()
    # when they switch to B
    response = client.post(
        reverse("registry:workspace_switch"), {"workspace": f"operator:{operator_b.pk}", "next": "/"}
    )
    assert response.status_code == 302
    # then B is active with B's roles, and A's admin pages are closed to them
    assert "Bravo Water Co · Cashier" in client.get("/").content.decode()
    assert client.get(reverse("accounts:user_list")).status_code == 403


def test_switching_to_an_operator_you_have_no_role_at_is_refused(client_for, admin_a, operator_b):
    client = client_for(admin_a)
    client.post(reverse("registry:workspace_switch"), {"workspace": f"operator:{operator_b.pk}"})
    assert "Amazi Alpha Ltd · Operator admin" in client.get("/").content.decode()


def test_a_user_without_any_role_is_told_so(client_for):
    from mita.testing.factories import UserFactory

    page = client_for(UserFactory()).get("/").content.decode()
    assert "You have no role yet" in page


def test_the_api_workspace_header_picks_the_operator(client_for, admin_a, operator_a, operator_b):
    Membership.objects.create(user=admin_a, role=Role.CASHIER, operator=operator_b)
    response = client_for(admin_a).get("/api/v1/me", headers={"X-Mita-Workspace": f"operator:{operator_b.pk}"})
    assert response.json()["workspace"]["label"] == "Bravo Water Co"
