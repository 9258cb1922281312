"""Tariff pages: who reads and writes, forms with their errors next to the fields, the simulator and comparison,
packages, and another operator's objects are 404."""

import datetime
import json

import pytest
from django.urls import reverse

from mita.accounts.roles import Role
from mita.tariffs.models import Package, Tariff, TariffVersion
from mita.tariffs.services_packages import package_create
from mita.tariffs.tests.world_tariffs import WASAC_2019, officer_of, tariff_of, version_of, water
from mita.testing.factories import member

JAN = datetime.date(2026, 1, 1)


def _package(operator):  # type: ignore[no-untyped-def]
    return package_create(
        operator=operator,
        acting_user=None,
        name="Lights",
        load_limit_w=100,
        hours_per_day=24,
        charging="flat",
        payment="postpaid",
        price="3000",
        effective_from=JAN,
    )


@pytest.mark.django_db
def test_the_list_shows_the_operators_tariffs_to_its_staff(client_for, operator_a, operator_b):
    tariff_of(operator_a, "RES-A")
    tariff_of(operator_b, "RES-B")
    cashier = member(Role.CASHIER, operator_a)
    body = client_for(cashier).get(reverse("tariffs:tariff_list")).content.decode()
    assert "RES-A" in body and "RES-B" not in body
    assert reverse("tariffs:tariff_create") not in body  # a cashier reads only


@pytest.mark.django_db
def test_the_regulator_reads_every_operators_tariffs_and_a_district_those_it_oversees(
    client_for, operator_a, operator_b, regulator_viewer, district_officer_a
):
    tariff_a = tariff_of(operator_a, "RES-A")
    tariff_of(operator_b, "RES-B")
    body = client_for(regulator_viewer).get(reverse("tariffs:tariff_list")).content.decode()
    assert "RES-A" in body and "RES-B" in body and "Amazi Alpha Ltd" in body
    district = client_for(district_officer_a)
    body = district.get(reverse("tariffs:tariff_list")).content.decode()
    assert "RES-A" in body and "RES-B" not in body
    assert district.get(reverse("tariffs:tariff_detail", args=[tariff_a.pk])).status_code == 200
    # neither may write
    assert client_for(regulator_viewer).get(reverse("tariffs:tariff_create")).status_code == 403
    assert district.get(reverse("tariffs:version_create", args=[tariff_a.pk])).status_code == 403


@pytest.mark.django_db
def test_a_billing_officer_creates_a_tariff_then_its_first_version(client_for, operator_a):
    client = client_for(officer_of(operator_a))
    response = client.post(
        reverse("tariffs:tariff_create"),
        {
            "code": "RES",
            "name": "Residential",
            "utility": "water",
            "property_types": ["residential"],
            "priority": 0,
            "active": "on",
            "connection_types": "",
            "connection_numbers": "",
        },
    )
    tariff = Tariff.objects.get(code="RES")
    assert response.status_code == 302 and response["Location"] == reverse("tariffs:version_create", args=[tariff.pk])
    # when the first version is saved
    response = client.post(
        reverse("tariffs:version_create", args=[tariff.pk]),
        {"effective_from": "2026-01-01", "definition": json.dumps(WASAC_2019), "note": "WASAC 2019"},
    )
    version = TariffVersion.objects.get(tariff=tariff)
    assert response.status_code == 302 and version.status == TariffVersion.Status.DRAFT
    # then it can be published from its page
    response = client.post(reverse("tariffs:version_publish", args=[version.pk]))
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.status == TariffVersion.Status.PUBLISHED
    body = client.get(reverse("tariffs:tariff_detail", args=[tariff.pk])).content.decode()
    assert "2026-01-01" in body and "in force" in body
    # and its history says who did what
    assert "tariff.created" in body and "tariff.version_published" in body and "by Bea Billing" in body


@pytest.mark.django_db
def test_tariff_form_errors_are_shown_next_to_their_fields(client_for, operator_a):
    tariff_of(operator_a, "RES")
    client = client_for(officer_of(operator_a))
    response = client.post(
        reverse("tariffs:tariff_create"),
        {
            "code": "res",
            "name": "Again",
            "utility": "water",
            "priority": 0,
            "connection_numbers": "",
            "connection_types": "",
        },
    )
    assert response.status_code == 400
    assert "Already in use." in response.content.decode()
    response = client.post(
        reverse("tariffs:tariff_create"),
        {
            "code": "NEW",
            "name": "New",
            "utility": "water",
            "priority": 0,
            "connection_numbers": "NO-SUCH-1",
            "connection_types": "",
        },
    )
    assert response.status_code == 400 and "No connection NO-SUCH-1" in response.content.decode()
    assert Tariff.objects.count() == 1


@pytest.mark.django_db
def test_a_definition_with_mistakes_is_refused_with_their_paths_and_the_text_is_kept(client_for, operator_a):
    tariff = tariff_create_plain(operator_a)
    client = client_for(officer_of(operator_a))
    text = json.dumps(water((5, 340), (20, "seven")), indent=1)
    response = client.post(
        reverse("tariffs:version_create", args=[tariff.pk]),
        {"effective_from": "2026-01-01", "definition": text, "note": ""},
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "components[0].bands[1].rate" in body  # the problem's place, next to the field
    assert "&quot;seven&quot;" in body  # the text as typed
    # and text that is not JSON says where it breaks
    response = client.post(
        reverse("tariffs:version_create", args=[tariff.pk]),
        {"effective_from": "2026-01-01", "definition": '{"currency": "RWF",\n "utility": }', "note": ""},
    )
    assert response.status_code == 400 and "line 2" in response.content.decode()
    assert TariffVersion.objects.count() == 0


def tariff_create_plain(operator):  # type: ignore[no-untyped-def]
    from mita.tariffs.services import tariff_create

    return tariff_create(operator=operator, acting_user=None, code="W", name="Water", utility="water")


@pytest.mark.django_db
def test_a_published_version_page_has_no_form_and_a_draft_can_be_changed(client_for, operator_a):
    tariff = tariff_of(operator_a, "RES", rate=100)
    draft = version_of(tariff, datetime.date(2026, 6, 1), 120, publish=False)
    client = client_for(officer_of(operator_a))
    published_page = client.get(reverse("tariffs:version_detail", args=[tariff.versions.get(status="published").pk]))
    assert 'data-testid="version-form"' not in published_page.content.decode()
    response = client.post(
        reverse("tariffs:version_detail", args=[draft.pk]),
        {"effective_from": "2026-07-01", "definition": json.dumps(water((None, 130))), "note": "later"},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.effective_from == datetime.date(2026, 7, 1) and draft.note == "later"


@pytest.mark.django_db
def test_publishing_on_a_taken_day_says_why(client_for, operator_a):
    tariff = tariff_of(operator_a, "RES", rate=100, effective_from=JAN)
    draft = version_of(tariff, JAN, 120, publish=False)
    client = client_for(officer_of(operator_a))
    response = client.post(reverse("tariffs:version_publish", args=[draft.pk]), follow=True)
    assert "already published" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == TariffVersion.Status.DRAFT


@pytest.mark.django_db
def test_the_simulator_shows_the_quote_lines_and_total(client_for, operator_a, staff_a):
    tariff = tariff_create_plain(operator_a)
    from mita.tariffs.services import version_create, version_publish

    version_publish(
        version=version_create(tariff=tariff, acting_user=None, effective_from=JAN, definition=WASAC_2019),
        acting_user=None,
    )
    client = client_for(member(Role.COMMITTEE_VIEWER, operator_a))
    page = client.get(reverse("tariffs:tariff_detail", args=[tariff.pk])).content.decode()
    assert 'data-testid="simulate-form"' in page
    response = client.get(
        reverse("tariffs:tariff_simulate", args=[tariff.pk]),
        {"usage": "25", "property_type": "residential"},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    # 5 x 340 + 15 x 720 + 5 x 845 = 16,725
    assert response.status_code == 200 and 'data-testid="quote-total">16725<' in body
    assert "<html" not in body  # a fragment for htmx
    bad = client.get(
        reverse("tariffs:tariff_simulate", args=[tariff.pk]), {"usage": "-3"}, headers={"HX-Request": "true"}
    )
    assert bad.status_code == 400 and "Usage" in bad.content.decode()


@pytest.mark.django_db
def test_the_comparison_shows_old_and_new_totals_and_the_difference(client_for, operator_a):
    tariff = tariff_of(operator_a, "RES", rate=100, effective_from=JAN)
    new = version_of(tariff, datetime.date(2026, 7, 1), 120, publish=False)
    old = tariff.versions.get(status="published")
    client = client_for(officer_of(operator_a))
    response = client.get(
        reverse("tariffs:tariff_compare", args=[tariff.pk]), {"old": old.pk, "new": new.pk, "up_to": "20", "step": "10"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    # usages 0, 10, 20: 0/0, 1000/1200 (+200, 20%), 2000/2400 (+400)
    assert '<td class="num">10</td><td class="num">1000</td><td class="num">1200</td><td class="num">200</td>' in body
    assert '<td class="num">20.0</td>' in body
    too_many = client.get(
        reverse("tariffs:tariff_compare", args=[tariff.pk]),
        {"old": old.pk, "new": new.pk, "up_to": "1000", "step": "1"},
    )
    assert too_many.status_code == 400 and "At most 200 rows" in too_many.content.decode()


@pytest.mark.django_db
def test_packages_are_listed_and_created(client_for, operator_a):
    _package(operator_a)
    client = client_for(officer_of(operator_a))
    body = client.get(reverse("tariffs:package_list")).content.decode()
    assert "MG-100W-24H-FLAT" in body and "3000" in body
    response = client.post(
        reverse("tariffs:package_create"),
        {
            "name": "Shop",
            "load_limit_w": 250,
            "hours_per_day": 12,
            "charging": "per_kwh",
            "price": "400",
            "payment": "prepaid",
            "effective_from": "2026-01-01",
            "deposit_amount": "",
        },
    )
    assert response.status_code == 302 and Package.objects.filter(code="MG-250W-12H-KWH-PRE").exists()
    again = client.post(
        reverse("tariffs:package_create"),
        {
            "name": "Shop",
            "load_limit_w": 250,
            "hours_per_day": 12,
            "charging": "per_kwh",
            "price": "400",
            "payment": "prepaid",
            "effective_from": "2026-01-01",
            "deposit_amount": "",
        },
    )
    assert again.status_code == 400 and "already offered" in again.content.decode()


@pytest.mark.django_db
def test_staff_who_only_read_cannot_open_the_writing_pages(client_for, operator_a):
    tariff = tariff_of(operator_a, "RES")
    client = client_for(member(Role.CASHIER, operator_a))
    version = tariff.versions.get()
    for url in (
        reverse("tariffs:tariff_create"),
        reverse("tariffs:tariff_edit", args=[tariff.pk]),
        reverse("tariffs:version_create", args=[tariff.pk]),
        reverse("tariffs:package_create"),
        reverse("tariffs:package_edit", args=[_package(operator_a).pk]),
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("tariffs:version_publish", args=[version.pk])).status_code == 403


@pytest.mark.django_db
def test_another_operators_tariff_pages_are_404(client_for, operator_a, admin_b):
    tariff = tariff_of(operator_a, "RES")
    version = version_of(tariff, datetime.date(2026, 6, 1), 120, publish=False)
    package = _package(operator_a)
    client = client_for(admin_b)
    urls = [
        reverse("tariffs:tariff_detail", args=[tariff.pk]),
        reverse("tariffs:tariff_edit", args=[tariff.pk]),
        reverse("tariffs:tariff_simulate", args=[tariff.pk]) + "?usage=3",
        reverse("tariffs:tariff_compare", args=[tariff.pk]),
        reverse("tariffs:version_create", args=[tariff.pk]),
        reverse("tariffs:version_detail", args=[version.pk]),
        reverse("tariffs:tariff_detail", args=[package.tariff_id]),
        reverse("tariffs:package_edit", args=[package.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("tariffs:version_publish", args=[version.pk])).status_code == 404
    assert client.post(reverse("tariffs:version_detail", args=[version.pk]), {"note": "x"}).status_code == 404
    for url in (reverse("tariffs:tariff_list"), reverse("tariffs:package_list")):
        body = client.get(url).content.decode()
        assert "RES" not in body and "MG-100W" not in body
    version.refresh_from_db()
    assert version.status == TariffVersion.Status.DRAFT


@pytest.mark.django_db
def test_the_lists_do_not_grow_their_query_count_with_more_tariffs(
    client_for, operator_a, django_assert_max_num_queries
):
    client = client_for(officer_of(operator_a))
    for index in range(3):
        tariff_of(operator_a, f"T{index}", connection_types=[f"type{index}"])
        package_create(
            operator=operator_a,
            acting_user=None,
            name=f"P{index}",
            load_limit_w=100 + index,
            hours_per_day=24,
            charging="flat",
            payment="postpaid",
            price="3000",
            effective_from=JAN,
        )
    counts = {}
    for url in (reverse("tariffs:tariff_list"), reverse("tariffs:package_list"), "/api/v1/tariffs"):
        with django_assert_max_num_queries(100) as few:
            client.get(url)
        counts[url] = len(few.captured_queries)
    for index in range(3, 13):
        tariff_of(operator_a, f"T{index}", connection_types=[f"type{index}"])
        package_create(
            operator=operator_a,
            acting_user=None,
            name=f"P{index}",
            load_limit_w=100 + index,
            hours_per_day=24,
            charging="flat",
            payment="postpaid",
            price="3000",
            effective_from=JAN,
        )
    for url, before in counts.items():
        with django_assert_max_num_queries(before):
            response = client.get(url)
        assert response.status_code == 200
        assert "T12" in response.content.decode() or "MG-112W" in response.content.decode()


@pytest.mark.django_db
def test_a_package_is_renamed_and_withdrawn_from_its_page(client_for, operator_a):
    package = _package(operator_a)
    client = client_for(officer_of(operator_a))
    bad = client.post(reverse("tariffs:package_edit", args=[package.pk]), {"name": "", "deposit_amount": "-5"})
    assert bad.status_code == 400
    response = client.post(
        reverse("tariffs:package_edit", args=[package.pk]), {"name": "Lights 100", "deposit_amount": "4000"}
    )
    assert response.status_code == 302
    package.refresh_from_db()
    assert package.name == "Lights 100" and not package.active and str(package.deposit_amount) == "4000.00"
