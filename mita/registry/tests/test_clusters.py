"""Clusters, their assignments to operators and supply systems: who may bill when, the rules of assigning and
moving, supply systems by kind, and who sees and changes what, on the pages and in the API."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from django.utils.formats import date_format

from mita.core.audit import audit_for
from mita.core.errors import Conflict, DomainError
from mita.registry.models import Cluster, ClusterAssignment, SupplySystem
from mita.registry.selectors_clusters import cluster_billable, cluster_holder, clusters_expiring
from mita.registry.services.clusters import cluster_assign, cluster_create, cluster_move, supply_system_register
from mita.testing.factories import DistrictFactory, OperatorFactory

pytestmark = pytest.mark.django_db

JAN_1 = datetime.date(2025, 1, 1)
DEC_31 = datetime.date(2025, 12, 31)
DAY = datetime.timedelta(days=1)


def a_cluster(regulator_admin, *, code="BUG-01", districts=()):
    return cluster_create(name=f"Cluster {code}", code=code, districts=list(districts), acting_user=regulator_admin)


def assigned(regulator_admin, operator, *, code="BUG-01", starts_on=JAN_1, expires_on=DEC_31, districts=()):
    cluster = a_cluster(regulator_admin, code=code, districts=districts)
    cluster_assign(
        cluster=cluster, operator=operator, starts_on=starts_on, expires_on=expires_on, acting_user=regulator_admin
    )
    return cluster


def water_system(regulator_admin, cluster, *, code="WSS-1", name="Ruhuha gravity scheme"):
    return supply_system_register(
        cluster=cluster,
        kind="water",
        name=name,
        code=code,
        technology="gravity",
        capacity_m3_per_day=Decimal("120"),
        source="Spring",
        acting_user=regulator_admin,
    )


# --- who may bill on which day -------------------------------------------------------------------------------


def test_a_cluster_is_billable_from_its_start_day_and_not_the_day_before(regulator_admin, operator_a):
    # given a cluster assigned to operator A for 2025
    cluster = assigned(regulator_admin, operator_a)
    # then A bills from 1 January, not on 31 December 2024
    assert cluster_billable(cluster, JAN_1, operator_a)
    assert cluster_holder(cluster, JAN_1) == operator_a
    assert not cluster_billable(cluster, JAN_1 - DAY)
    assert cluster_holder(cluster, JAN_1 - DAY) is None


def test_the_expiry_day_is_billable_and_the_day_after_is_not(regulator_admin, operator_a):
    # given a cluster assigned to operator A until 31 December 2025
    cluster = assigned(regulator_admin, operator_a)
    # then the expiry day itself is billable, the next day no new bills
    assert cluster_billable(cluster, DEC_31)
    assert cluster_billable(cluster, DEC_31, operator_a)
    assert not cluster_billable(cluster, DEC_31 + DAY)
    assert not cluster_billable(cluster, DEC_31 + DAY, operator_a)
    assert cluster_holder(cluster, DEC_31 + DAY) is None


def test_on_the_move_day_the_new_holder_bills_and_the_old_one_no_longer(regulator_admin, operator_a, operator_b):
    # given a cluster of operator A for 2025, moved to operator B on 1 July
    cluster = assigned(regulator_admin, operator_a)
    move_day = datetime.date(2025, 7, 1)
    cluster_move(
        cluster=cluster,
        to_operator=operator_b,
        on=move_day,
        expires_on=datetime.date(2026, 6, 30),
        acting_user=regulator_admin,
    )
    # then on the move day B bills and A does not
    assert cluster_billable(cluster, move_day, operator_b)
    assert not cluster_billable(cluster, move_day, operator_a)
    assert cluster_holder(cluster, move_day) == operator_b
    # and on the day before the move A still holds it and B does not yet
    assert cluster_billable(cluster, move_day - DAY, operator_a)
    assert not cluster_billable(cluster, move_day - DAY, operator_b)
    assert cluster_holder(cluster, move_day - DAY) == operator_a
    # and B's own expiry applies after that, not A's
    assert cluster_billable(cluster, DEC_31 + DAY, operator_b)


def test_another_operator_may_not_bill_a_cluster_it_does_not_hold(regulator_admin, operator_a, operator_b):
    cluster = assigned(regulator_admin, operator_a)
    assert cluster_billable(cluster, JAN_1)
    assert not cluster_billable(cluster, JAN_1, operator_b)


# --- assigning and moving ----------------------------------------------------------------------------------------


def test_an_assignment_overlapping_another_is_refused(regulator_admin, operator_a, operator_b):
    # given a cluster assigned to operator A for 2025
    cluster = assigned(regulator_admin, operator_a)
    # when the regulator assigns it to B from its last day
    with pytest.raises(Conflict) as refused:
        cluster_assign(
            cluster=cluster,
            operator=operator_b,
            starts_on=DEC_31,
            expires_on=DEC_31 + 100 * DAY,
            acting_user=regulator_admin,
        )
    # then it is refused, and A stays the only holder
    assert refused.value.code == "assignment_overlaps"
    assert "starts_on" in refused.value.fields
    assert list(cluster.assignments.values_list("operator_id", flat=True)) == [operator_a.pk]


def test_an_assignment_from_the_day_after_expiry_is_accepted(regulator_admin, operator_a, operator_b):
    cluster = assigned(regulator_admin, operator_a)
    cluster_assign(
        cluster=cluster,
        operator=operator_b,
        starts_on=DEC_31 + DAY,
        expires_on=DEC_31 + 365 * DAY,
        acting_user=regulator_admin,
    )
    assert cluster_holder(cluster, DEC_31) == operator_a
    assert cluster_holder(cluster, DEC_31 + DAY) == operator_b


def test_an_assignment_expiring_before_it_starts_is_refused(regulator_admin, operator_a):
    cluster = a_cluster(regulator_admin)
    with pytest.raises(DomainError) as refused:
        cluster_assign(
            cluster=cluster, operator=operator_a, starts_on=DEC_31, expires_on=JAN_1, acting_user=regulator_admin
        )
    assert refused.value.code == "expires_before_start"
    assert not cluster.assignments.exists()


def test_a_move_keeps_the_history(regulator_admin, operator_a, operator_b):
    # given a cluster of operator A for 2025
    cluster = assigned(regulator_admin, operator_a)
    move_day = datetime.date(2025, 7, 1)
    # when it moves to B on 1 July
    new = cluster_move(
        cluster=cluster, to_operator=operator_b, on=move_day, expires_on=DEC_31, acting_user=regulator_admin
    )
    # then A's assignment is kept, ended on the move day (its last day the day before), and B's starts that day
    old = ClusterAssignment.objects.get(cluster=cluster, operator=operator_a)
    assert (old.starts_on, old.ended_on, old.last_day, old.expires_on) == (JAN_1, move_day, move_day - DAY, DEC_31)
    assert (new.operator, new.starts_on, new.expires_on, new.ended_on) == (operator_b, move_day, DEC_31, None)
    assert cluster.assignments.count() == 2
    # and the audit trail says who moved it where
    actions = list(audit_for(cluster).values_list("action", flat=True))
    assert actions[0] == "cluster.moved"
    assert "cluster.assigned" in actions


def test_a_move_needs_a_holder_and_another_operator(regulator_admin, operator_a):
    cluster = assigned(regulator_admin, operator_a)
    with pytest.raises(DomainError) as nobody:
        cluster_move(
            cluster=cluster,
            to_operator=OperatorFactory(),
            on=DEC_31 + DAY,
            expires_on=DEC_31 + 30 * DAY,
            acting_user=regulator_admin,
        )
    assert nobody.value.code == "cluster_not_held"
    with pytest.raises(DomainError) as same:
        cluster_move(
            cluster=cluster,
            to_operator=operator_a,
            on=datetime.date(2025, 6, 1),
            expires_on=DEC_31,
            acting_user=regulator_admin,
        )
    assert same.value.code == "same_operator"
    assert cluster.assignments.get().ended_on is None


def test_a_move_may_not_run_into_a_later_assignment(regulator_admin, operator_a, operator_b):
    # given A holds the cluster in 2025 and B is already assigned it for 2026
    cluster = assigned(regulator_admin, operator_a)
    cluster_assign(
        cluster=cluster,
        operator=operator_b,
        starts_on=DEC_31 + DAY,
        expires_on=DEC_31 + 365 * DAY,
        acting_user=regulator_admin,
    )
    # when a third operator is given it from July until mid-2026, then it is refused and nothing changes
    with pytest.raises(Conflict):
        cluster_move(
            cluster=cluster,
            to_operator=OperatorFactory(),
            on=datetime.date(2025, 7, 1),
            expires_on=datetime.date(2026, 6, 30),
            acting_user=regulator_admin,
        )
    assert cluster_holder(cluster, datetime.date(2025, 8, 1)) == operator_a


def test_cluster_codes_are_unique_and_districts_are_districts(regulator_admin, district_a):
    a_cluster(regulator_admin, code="BUG-01")
    with pytest.raises(Conflict) as taken:
        a_cluster(regulator_admin, code="bug-01")
    assert taken.value.code == "cluster_code_taken"
    province = DistrictFactory(type__code="province", type__name="Province", type__depth=1)
    with pytest.raises(DomainError) as not_district:
        a_cluster(regulator_admin, code="BUG-02", districts=[province])
    assert "districts" in not_district.value.fields
    assert Cluster.objects.count() == 1


# --- supply systems by kind --------------------------------------------------------------------------------------


def _register(regulator_admin, cluster, **fields):
    return supply_system_register(cluster=cluster, name="Plant", code="SYS-1", acting_user=regulator_admin, **fields)


def test_a_water_supply_system_needs_its_technology(regulator_admin, operator_a):
    cluster = assigned(regulator_admin, operator_a)
    with pytest.raises(DomainError) as refused:
        _register(regulator_admin, cluster, kind="water", capacity_m3_per_day=Decimal("50"))
    assert list(refused.value.fields) == ["technology"]
    assert not SupplySystem.objects.exists()


def test_a_water_supply_system_has_no_kilowatts_or_generation_mix(regulator_admin, operator_a):
    cluster = assigned(regulator_admin, operator_a)
    with pytest.raises(DomainError) as refused:
        _register(
            regulator_admin,
            cluster,
            kind="water",
            technology="solar",
            capacity_kw=Decimal("10"),
            generation_mix={"solar": 100},
        )
    assert set(refused.value.fields) == {"capacity_kw", "generation_mix"}


def test_a_mini_grid_needs_its_capacity_in_kw(regulator_admin, operator_a):
    cluster = assigned(regulator_admin, operator_a)
    with pytest.raises(DomainError) as refused:
        _register(regulator_admin, cluster, kind="mini_grid", generation_mix={"solar": 100})
    assert list(refused.value.fields) == ["capacity_kw"]


@pytest.mark.parametrize(
    ("mix", "why"),
    [
        ({"solar": 90, "diesel": 5}, "add up to 95"),
        ({"solar": 120, "diesel": -20}, "from 0 to 100"),
        ({"solar": "ninety", "diesel": 10}, "from 0 to 100"),
        ({"solar": True}, "from 0 to 100"),
    ],
)
def test_a_generation_mix_is_shares_from_0_to_100_adding_up_to_100(regulator_admin, operator_a, mix, why):
    cluster = assigned(regulator_admin, operator_a)
    with pytest.raises(DomainError) as refused:
        _register(regulator_admin, cluster, kind="mini_grid", capacity_kw=Decimal("60"), generation_mix=mix)
    assert list(refused.value.fields) == ["generation_mix"]
    assert why in " ".join(refused.value.fields["generation_mix"])


def test_a_mini_grid_plant_is_registered_with_its_mix(regulator_admin, operator_a):
    cluster = assigned(regulator_admin, operator_a)
    plant = _register(
        regulator_admin,
        cluster,
        kind="mini_grid",
        capacity_kw=Decimal("60"),
        generation_mix={"Solar": Decimal("33.3"), "hydro": 33.3, "diesel": Decimal("33.4")},
    )
    plant.refresh_from_db()
    assert plant.capacity_kw == Decimal("60")
    assert plant.generation_mix == {"solar": 33.3, "hydro": 33.3, "diesel": 33.4}
    assert audit_for(plant).get().action == "supply_system.registered"


def test_a_supply_system_lies_in_one_of_its_clusters_districts(regulator_admin, operator_a, district_a, district_b):
    cluster = assigned(regulator_admin, operator_a, districts=[district_a])
    with pytest.raises(DomainError) as refused:
        _register(regulator_admin, cluster, kind="water", technology="gravity", district=district_b)
    assert list(refused.value.fields) == ["district"]


# --- pages -------------------------------------------------------------------------------------------------------


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def cluster_a(regulator_admin, operator_a, district_a, today):
    """Operator A's cluster in Bugesera, current for another year, with a water supply system."""
    cluster = assigned(
        regulator_admin,
        operator_a,
        code="BUG-01",
        starts_on=today - 200 * DAY,
        expires_on=today + 365 * DAY,
        districts=[district_a],
    )
    water_system(regulator_admin, cluster)
    return cluster


def test_the_regulator_sees_every_cluster_with_operator_district_and_expiry(
    client_for, regulator_admin, cluster_a, operator_b, today
):
    # given A's cluster and B's cluster
    assigned(regulator_admin, operator_b, code="NYA-01", starts_on=today, expires_on=today + 400 * DAY)
    # when the regulator opens the cluster list
    response = client_for(regulator_admin).get("/registry/clusters/")
    # then both show, with their operator, district and expiry
    page = response.content.decode()
    assert response.status_code == 200
    assert "BUG-01" in page and "NYA-01" in page
    assert "Amazi Alpha Ltd" in page and "Bravo Water Co" in page
    assert "Bugesera" in page
    assert date_format(today + 365 * DAY) in page
    assert 'data-testid="expiry-warning"' not in page


def test_the_list_warns_of_a_cluster_expiring_within_30_days(client_for, regulator_admin, operator_a, today):
    # given one cluster expiring in 12 days and one in 45
    assigned(regulator_admin, operator_a, code="SOON-01", starts_on=today - 300 * DAY, expires_on=today + 12 * DAY)
    assigned(regulator_admin, operator_a, code="LATER-01", starts_on=today - 300 * DAY, expires_on=today + 45 * DAY)
    # when the regulator opens the list
    page = client_for(regulator_admin).get("/registry/clusters/").content.decode()
    # then the first carries a warning and the second does not
    assert page.count('data-testid="expiry-warning"') == 1
    assert "Expires in 12 days" in page
    assert 'data-testid="cluster-expiry-warnings"' in page
    rows = [row for row in page.split("<tr>") if "SOON-01" in row or "LATER-01" in row]
    assert any("SOON-01" in row and "expiry-warning" in row for row in rows)
    assert not any("LATER-01" in row and "expiry-warning" in row for row in rows)


def test_no_warning_when_the_cluster_is_renewed_or_moved_without_a_gap(
    client_for, regulator_admin, operator_a, operator_b, today
):
    # given a cluster expiring in 10 days and renewed from the next day, and one moving to B in 5 days
    renewed = assigned(
        regulator_admin, operator_a, code="RENEW-01", starts_on=today - 300 * DAY, expires_on=today + 10 * DAY
    )
    cluster_assign(
        cluster=renewed,
        operator=operator_a,
        starts_on=today + 11 * DAY,
        expires_on=today + 400 * DAY,
        acting_user=regulator_admin,
    )
    moving = assigned(
        regulator_admin, operator_a, code="MOVE-01", starts_on=today - 300 * DAY, expires_on=today + 20 * DAY
    )
    cluster_move(
        cluster=moving,
        to_operator=operator_b,
        on=today + 5 * DAY,
        expires_on=today + 400 * DAY,
        acting_user=regulator_admin,
    )
    # when the regulator and operator A look
    page = client_for(regulator_admin).get("/registry/clusters/").content.decode()
    detail = client_for(regulator_admin).get(f"/registry/clusters/{renewed.pk}/").content.decode()
    # then nothing warns: someone holds each cluster the day after
    assert 'data-testid="expiry-warning"' not in page
    assert 'data-testid="cluster-expiry-warnings"' not in page
    assert 'data-testid="expiry-warning"' not in detail
    assert "RENEW-01" in page and "MOVE-01" in page


def test_the_operator_is_warned_of_its_own_cluster_expiring(client_for, regulator_admin, admin_a, operator_a, today):
    assigned(regulator_admin, operator_a, code="SOON-01", starts_on=today - 300 * DAY, expires_on=today + 3 * DAY)
    page = client_for(admin_a).get("/registry/clusters/ours/").content.decode()
    assert "Expires in 3 days" in page


def test_the_list_marks_an_expired_cluster(client_for, regulator_admin, operator_a, today):
    assigned(regulator_admin, operator_a, code="OLD-01", starts_on=today - 300 * DAY, expires_on=today - DAY)
    page = client_for(regulator_admin).get("/registry/clusters/?attention=on").content.decode()
    assert "OLD-01" in page
    assert "Expired" in page


def test_the_expiring_list_and_badge_count_only_clusters_within_the_window(
    regulator_admin, operator_a, today, settings
):
    settings.MITA_EXPIRY_WARNING_DAYS = 30
    assigned(regulator_admin, operator_a, code="EDGE-30", starts_on=today, expires_on=today + 30 * DAY)
    assigned(regulator_admin, operator_a, code="EDGE-31", starts_on=today, expires_on=today + 31 * DAY)
    from mita.registry.access import WorkspaceAccess, workspaces_of

    access = WorkspaceAccess(regulator_admin, workspaces_of(regulator_admin), workspaces_of(regulator_admin)[0])
    assert [c.code for c in clusters_expiring(access, today=today)] == ["EDGE-30"]


def test_the_cluster_page_shows_history_supply_systems_and_audit(client_for, regulator_admin, cluster_a):
    response = client_for(regulator_admin).get(f"/registry/clusters/{cluster_a.pk}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Amazi Alpha Ltd" in page
    assert "Ruhuha gravity scheme" in page
    assert "cluster.assigned" in page
    assert f"/registry/clusters/{cluster_a.pk}/move/" in page


@pytest.mark.parametrize("suffix", ["assign/", "move/", "supply-systems/new/"])
def test_the_regulators_forms_render(client_for, regulator_admin, cluster_a, suffix):
    response = client_for(regulator_admin).get(f"/registry/clusters/{cluster_a.pk}/{suffix}")
    assert response.status_code == 200
    assert "<form" in response.content.decode()


def test_the_regulator_creates_a_cluster_from_the_form(client_for, regulator_admin, district_a):
    client = client_for(regulator_admin)
    assert client.get("/registry/clusters/new/").status_code == 200
    response = client.post(
        "/registry/clusters/new/", {"code": "bug-02", "name": "Bugesera East", "districts": [district_a.pk]}
    )
    cluster = Cluster.objects.get(code="BUG-02")
    assert response.status_code == 302
    assert response["Location"] == f"/registry/clusters/{cluster.pk}/"
    assert list(cluster.districts.all()) == [district_a]


def test_an_overlapping_assignment_is_shown_next_to_the_start_date(client_for, regulator_admin, cluster_a, operator_b):
    response = client_for(regulator_admin).post(
        f"/registry/clusters/{cluster_a.pk}/assign/",
        {
            "operator": operator_b.pk,
            "starts_on": timezone.localdate().isoformat(),
            "expires_on": (timezone.localdate() + 10 * DAY).isoformat(),
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    field = page.split('name="starts_on"')[1].split("</div>")[0]
    assert "already assigned to Amazi Alpha Ltd" in field
    assert cluster_a.assignments.count() == 1


def test_the_regulator_moves_a_cluster_from_the_form(client_for, regulator_admin, cluster_a, operator_b, today):
    response = client_for(regulator_admin).post(
        f"/registry/clusters/{cluster_a.pk}/move/",
        {"to_operator": operator_b.pk, "on": today.isoformat(), "expires_on": (today + 100 * DAY).isoformat()},
    )
    assert response.status_code == 302
    assert cluster_holder(cluster_a, today) == operator_b
    assert cluster_holder(cluster_a, today - DAY).name == "Amazi Alpha Ltd"


def test_supply_system_form_errors_stand_next_to_their_fields(client_for, regulator_admin, cluster_a):
    response = client_for(regulator_admin).post(
        f"/registry/clusters/{cluster_a.pk}/supply-systems/new/",
        {"kind": "mini_grid", "code": "MG-1", "name": "Plant", "generation_mix": "solar 80, diesel 10"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "needs its capacity in kW" in page.split('name="capacity_kw"')[1].split("</div>")[0]
    assert "add up to 90" in page.split('name="generation_mix"')[1].split("</div>")[0]
    assert not SupplySystem.objects.filter(code="MG-1").exists()


def test_the_regulator_registers_a_mini_grid_from_the_form(client_for, regulator_admin, cluster_a):
    response = client_for(regulator_admin).post(
        f"/registry/clusters/{cluster_a.pk}/supply-systems/new/",
        {
            "kind": "mini_grid",
            "code": "MG-1",
            "name": "Plant",
            "capacity_kw": "60",
            "generation_mix": "solar 90, diesel 10",
        },
    )
    assert response.status_code == 302
    assert SupplySystem.objects.get(code="MG-1").generation_mix == {"solar": 90, "diesel": 10}


def test_a_regulator_viewer_reads_but_cannot_create(client_for, regulator_viewer, cluster_a):
    client = client_for(regulator_viewer)
    assert client.get("/registry/clusters/").status_code == 200
    assert client.get(f"/registry/clusters/{cluster_a.pk}/").status_code == 200
    assert client.get("/registry/clusters/new/").status_code == 403
    assert client.post("/registry/clusters/new/", {"code": "X-1", "name": "X"}).status_code == 403
    response = client.post("/api/v1/clusters", {"code": "X-1", "name": "X"}, content_type="application/json")
    assert response.status_code == 403
    assert not Cluster.objects.filter(code="X-1").exists()


def test_an_operator_admin_cannot_assign_even_its_own_cluster(client_for, admin_a, cluster_a, operator_a, today):
    client = client_for(admin_a)
    body = {"operator_id": operator_a.pk, "starts_on": "2040-01-01", "expires_on": "2040-12-31"}
    assert client.get(f"/registry/clusters/{cluster_a.pk}/assign/").status_code == 403
    assert (
        client.post(f"/api/v1/clusters/{cluster_a.pk}/assignments", body, content_type="application/json").status_code
        == 403
    )
    assert client.post(f"/registry/clusters/{cluster_a.pk}/supply-systems/new/", {}).status_code == 403
    assert cluster_a.assignments.count() == 1


def test_the_operator_sees_its_own_clusters_and_supply_systems(
    client_for, admin_a, staff_a, cluster_a, regulator_admin, operator_b
):
    # given A's cluster and one of B's
    assigned(regulator_admin, operator_b, code="NYA-01")
    for user in (admin_a, staff_a):
        # when someone of A opens "our clusters"
        page = client_for(user).get("/registry/clusters/ours/").content.decode()
        # then A's cluster and its supply system show, B's do not
        assert "BUG-01" in page and "Ruhuha gravity scheme" in page
        assert "NYA-01" not in page
    assert client_for(staff_a).get(f"/registry/clusters/{cluster_a.pk}/").status_code == 200
    supply_system = cluster_a.supply_systems.get()
    assert client_for(staff_a).get(f"/registry/supply-systems/{supply_system.pk}/").status_code == 200


def test_the_outsider_gets_404_on_operator_a_cluster_pages_and_api(client_for, admin_b, cluster_a):
    client = client_for(admin_b)
    supply_system = cluster_a.supply_systems.get()
    assert client.get(f"/registry/clusters/{cluster_a.pk}/").status_code == 404
    assert client.get(f"/registry/supply-systems/{supply_system.pk}/").status_code == 404
    assert client.get(f"/api/v1/clusters/{cluster_a.pk}").status_code == 404
    assert client.get(f"/api/v1/supply-systems/{supply_system.pk}").status_code == 404
    body = {"operator_id": 1, "starts_on": "2040-01-01", "expires_on": "2040-12-31"}
    response = client.post(f"/api/v1/clusters/{cluster_a.pk}/assignments", body, content_type="application/json")
    assert response.status_code == 404
    assert client.get("/api/v1/clusters").json() == {"items": [], "count": 0}
    assert "BUG-01" not in client.get("/registry/clusters/ours/").content.decode()


def test_a_district_officer_sees_the_clusters_of_its_districts_operators(client_for, district_officer_a, cluster_a):
    client = client_for(district_officer_a)
    assert "BUG-01" in client.get("/registry/clusters/").content.decode()
    assert client.get(f"/registry/clusters/{cluster_a.pk}/").status_code == 200
    assert client.get("/api/v1/clusters").json()["count"] == 1


def test_a_district_officer_of_another_district_gets_404(client_for, district_b, cluster_a):
    from mita.accounts.roles import Role
    from mita.testing.factories import member

    officer_b = member(Role.DISTRICT_OFFICER, district_b, name="Dora District-B")
    client = client_for(officer_b)
    assert client.get(f"/registry/clusters/{cluster_a.pk}/").status_code == 404
    assert client.get(f"/api/v1/clusters/{cluster_a.pk}").status_code == 404
    assert "BUG-01" not in client.get("/registry/clusters/").content.decode()


def test_after_a_move_each_operator_sees_only_its_own_part_of_the_history(
    client_for, regulator_admin, admin_b, cluster_a, operator_b, today
):
    # given A's cluster moved to B today
    cluster_move(
        cluster=cluster_a, to_operator=operator_b, on=today, expires_on=today + 100 * DAY, acting_user=regulator_admin
    )
    # when B's admin opens it
    page = client_for(admin_b).get(f"/registry/clusters/{cluster_a.pk}/").content.decode()
    # then B sees its own assignment, not A's dealings
    assert "Bravo Water Co" in page
    assert "Amazi Alpha Ltd" not in page


# --- API ---------------------------------------------------------------------------------------------------------


def test_the_regulator_creates_assigns_moves_and_registers_through_the_api(
    client_for, regulator_admin, operator_a, operator_b, district_a
):
    client = client_for(regulator_admin)

    def post(url, body):
        return client.post(url, body, content_type="application/json")

    created = post("/api/v1/clusters", {"code": "api-1", "name": "API cluster", "district_ids": [district_a.pk]})
    assert created.status_code == 201, created.content
    cluster_id = created.json()["id"]
    assert created.json()["code"] == "API-1"
    assigned_ = post(
        f"/api/v1/clusters/{cluster_id}/assignments",
        {"operator_id": operator_a.pk, "starts_on": "2025-01-01", "expires_on": "2025-12-31"},
    )
    assert assigned_.status_code == 201, assigned_.content
    overlap = post(
        f"/api/v1/clusters/{cluster_id}/assignments",
        {"operator_id": operator_b.pk, "starts_on": "2025-06-01", "expires_on": "2026-05-31"},
    )
    assert overlap.status_code == 409
    assert overlap.json()["error"]["code"] == "assignment_overlaps"
    moved = post(
        f"/api/v1/clusters/{cluster_id}/move",
        {"to_operator_id": operator_b.pk, "on": "2025-07-01", "expires_on": "2026-06-30"},
    )
    assert moved.status_code == 201, moved.content
    assert moved.json()["operator_id"] == operator_b.pk
    history = client.get(f"/api/v1/clusters/{cluster_id}").json()["assignments"]
    assert [(a["operator_id"], a["starts_on"], a["last_day"]) for a in history] == [
        (operator_b.pk, "2025-07-01", "2026-06-30"),
        (operator_a.pk, "2025-01-01", "2025-06-30"),
    ]
    invalid = post(
        f"/api/v1/clusters/{cluster_id}/supply-systems",
        {"kind": "mini_grid", "name": "Plant", "code": "MG-9", "generation_mix": {"solar": 50}},
    )
    assert invalid.status_code == 400
    assert set(invalid.json()["error"]["fields"]) == {"capacity_kw", "generation_mix"}
    plant = post(
        f"/api/v1/clusters/{cluster_id}/supply-systems",
        {"kind": "mini_grid", "name": "Plant", "code": "MG-9", "capacity_kw": "45.5", "generation_mix": {"solar": 100}},
    )
    assert plant.status_code == 201, plant.content
    listed = client.get(f"/api/v1/supply-systems?cluster_id={cluster_id}").json()
    assert listed["count"] == 1
    assert listed["items"][0]["generation_mix"] == {"solar": 100}


def test_an_operator_lists_only_its_clusters_through_the_api(
    client_for, admin_a, cluster_a, regulator_admin, operator_b
):
    assigned(regulator_admin, operator_b, code="NYA-01")
    clusters = client_for(admin_a).get("/api/v1/clusters").json()
    assert [c["code"] for c in clusters["items"]] == ["BUG-01"]
    assert clusters["items"][0]["operator_id"] == cluster_a.assignments.get().operator_id
    systems = client_for(admin_a).get("/api/v1/supply-systems").json()
    assert [s["code"] for s in systems["items"]] == ["WSS-1"]


def test_a_district_sees_a_cluster_moved_away_without_the_new_operator_or_a_false_expiry(
    client_for, regulator_admin, district_officer_a, cluster_a, operator_b, today
):
    # given operator A's cluster moved yesterday to operator B, which works in another district
    cluster_a.assignments.update(starts_on=today - 200 * DAY)
    cluster_move(
        cluster=cluster_a,
        to_operator=operator_b,
        on=today - DAY,
        expires_on=today + 100 * DAY,
        acting_user=regulator_admin,
    )
    # when A's district officer opens the list
    page = client_for(district_officer_a).get("/registry/clusters/").content.decode()
    # then the cluster shows with nobody holding it for them, no expiry warning, and not B's name
    assert "BUG-01" in page
    assert "Bravo Water Co" not in page
    assert 'data-testid="expiry-warning"' not in page
