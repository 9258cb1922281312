"""Writing tariffs: codes, applicability and its ties, versions validated by the engine, publishing, packages."""

import datetime
from decimal import Decimal

import pytest

from mita.core.errors import Conflict
from mita.core.models import AuditEntry
from mita.tariffs import pricing
from mita.tariffs.models import Package, Tariff, TariffVersion
from mita.tariffs.services import (
    TariffError,
    tariff_create,
    tariff_update,
    version_create,
    version_publish,
    version_update,
)
from mita.tariffs.services_packages import package_create, package_update
from mita.tariffs.tests.world_tariffs import WASAC_2019, connection_at, officer_of, supply_system_of, tariff_of, water

JAN = datetime.date(2026, 1, 1)


@pytest.mark.django_db
def test_a_tariff_is_created_with_where_it_applies_and_audited(operator_a):
    officer = officer_of(operator_a)
    system = supply_system_of(operator_a)
    connection_at(operator_a, "AAL-7")
    tariff = tariff_create(
        operator=operator_a,
        acting_user=officer,
        code="RES-2026",
        name="Residential",
        utility="water",
        property_types="residential, public_tap",
        connection_types=["yard_tap"],
        supply_system_ids=[system.pk],
        connection_numbers=["aal-7"],
    )
    assert tariff.property_types == ["residential", "public_tap"]
    assert list(tariff.supply_systems.all()) == [system]
    assert [c.number for c in tariff.connections.all()] == ["AAL-7"]
    entry = AuditEntry.objects.get(action="tariff.created")
    assert entry.actor_id == officer.pk and entry.operator_id == operator_a.pk
    assert entry.after["connection_ids"] == [tariff.connections.get().pk]


@pytest.mark.django_db
def test_a_tariff_code_is_unique_per_operator_whatever_its_case(operator_a, operator_b):
    tariff_of(operator_a, "RES")
    with pytest.raises(Conflict) as caught:
        tariff_of(operator_a, "res", property_types=["commercial"])
    assert caught.value.code == "tariff_code_taken"
    assert tariff_of(operator_b, "RES").operator == operator_b  # another operator may use it


@pytest.mark.django_db
def test_bad_applicability_is_refused_field_by_field(operator_a, operator_b):
    foreign_system = supply_system_of(operator_b, code="WSS-B-1")
    connection_at(operator_b, "BWC-1")
    with pytest.raises(TariffError) as caught:
        tariff_create(
            operator=operator_a,
            acting_user=None,
            code="has space",
            name="",
            utility="gas",
            property_types=["palace"],
            supply_system_ids=[foreign_system.pk],
            connection_numbers=["BWC-1"],
        )
    assert set(caught.value.fields) == {
        "code",
        "name",
        "utility",
        "property_types",
        "supply_system_ids",
        "connection_numbers",
    }
    assert "palace" in caught.value.fields["property_types"][0]
    assert Tariff.objects.count() == 0


@pytest.mark.django_db
def test_two_equally_specific_overlapping_tariffs_are_refused_unless_priorities_differ(operator_a):
    tariff_of(operator_a, "COMMERCIAL", property_types=["commercial"])
    with pytest.raises(Conflict) as caught:
        tariff_create(
            operator=operator_a, acting_user=None, code="C2", name="C2", utility="water", property_types=["commercial"]
        )
    assert caught.value.code == "tariff_tie"
    # not overlapping, less specific, or another priority: all fine
    tariff_create(
        operator=operator_a, acting_user=None, code="I", name="I", utility="water", property_types=["industrial"]
    )
    tariff_create(operator=operator_a, acting_user=None, code="ALL", name="All", utility="water")
    tariff_create(
        operator=operator_a,
        acting_user=None,
        code="C3",
        name="C3",
        utility="water",
        property_types=["commercial"],
        priority=1,
    )
    # and a change that would make a tie is refused too, leaving the tariff as it was
    industrial = Tariff.objects.get(code="I")
    with pytest.raises(Conflict):
        tariff_update(tariff=industrial, acting_user=None, property_types=["industrial", "commercial"], priority=1)
    industrial.refresh_from_db()
    assert industrial.property_types == ["industrial"] and industrial.priority == 0


@pytest.mark.django_db
def test_a_tariff_update_changes_applicability_keeps_the_code_and_is_audited(operator_a):
    officer = officer_of(operator_a)
    tariff = tariff_of(operator_a, "RES", property_types=["residential"])
    tariff_update(tariff=tariff, acting_user=officer, name="Households", property_types=["residential", "other"])
    tariff.refresh_from_db()
    assert tariff.name == "Households" and tariff.property_types == ["residential", "other"]
    entry = AuditEntry.objects.get(action="tariff.updated")
    assert entry.before == {"name": "Tariff RES", "property_types": ["residential"]}
    with pytest.raises(TariffError) as caught:
        tariff_update(tariff=tariff, acting_user=officer, code="OTHER")
    assert caught.value.code == "code_not_editable"


# Versions -------------------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_version_is_saved_as_a_draft_then_published(operator_a):
    officer = officer_of(operator_a)
    tariff = tariff_create(operator=operator_a, acting_user=officer, code="W", name="Water", utility="water")
    version = version_create(tariff=tariff, acting_user=officer, effective_from="2026-01-01", definition=WASAC_2019)
    assert version.status == TariffVersion.Status.DRAFT and version.effective_from == JAN
    version_publish(version=version, acting_user=officer)
    version.refresh_from_db()
    assert version.status == TariffVersion.Status.PUBLISHED
    assert version.published_by == officer and version.published_at is not None
    assert {e.action for e in AuditEntry.objects.filter(target_type="tariffs.tariffversion")} == {
        "tariff.version_created",
        "tariff.version_published",
    }


@pytest.mark.django_db
def test_a_definition_that_does_not_validate_is_refused_with_its_paths_and_nothing_is_saved(operator_a):
    tariff = tariff_create(operator=operator_a, acting_user=None, code="W", name="Water", utility="water")
    bad = water((5, 340), (20, -720))
    with pytest.raises(TariffError) as caught:
        version_create(tariff=tariff, acting_user=None, effective_from=JAN, definition=bad)
    assert caught.value.code == "definition_invalid"
    problems = caught.value.fields["definition"]
    assert any(problem.startswith("components[0].bands[1].rate:") for problem in problems)
    assert TariffVersion.objects.count() == 0


@pytest.mark.django_db
def test_a_definition_in_another_currency_or_utility_is_refused(operator_a):
    tariff = tariff_create(operator=operator_a, acting_user=None, code="W", name="Water", utility="water")
    with pytest.raises(TariffError) as caught:
        version_create(tariff=tariff, acting_user=None, effective_from=JAN, definition=water((None, 2), currency="INR"))
    assert any(problem.startswith("currency:") for problem in caught.value.fields["definition"])
    electricity = {**water((None, 89)), "utility": "electricity", "unit": "kWh"}
    with pytest.raises(TariffError) as caught:
        version_create(tariff=tariff, acting_user=None, effective_from=JAN, definition=electricity)
    assert any(problem.startswith("utility:") for problem in caught.value.fields["definition"])


@pytest.mark.django_db
def test_a_definition_that_is_not_an_object_or_a_bad_date_is_refused(operator_a):
    tariff = tariff_create(operator=operator_a, acting_user=None, code="W", name="Water", utility="water")
    with pytest.raises(TariffError):
        version_create(tariff=tariff, acting_user=None, effective_from=JAN, definition=[1, 2])
    with pytest.raises(TariffError) as caught:
        version_create(tariff=tariff, acting_user=None, effective_from="1 Jan", definition=WASAC_2019)
    assert "effective_from" in caught.value.fields


@pytest.mark.django_db
def test_floats_in_a_definition_are_kept_as_their_exact_decimal_text(operator_a):
    tariff = tariff_create(operator=operator_a, acting_user=None, code="W", name="Water", utility="water")
    version = version_create(tariff=tariff, acting_user=None, effective_from=JAN, definition=water((None, 2.5)))
    version.refresh_from_db()
    assert version.definition["components"][0]["bands"][0]["rate"] == "2.5"
    assert pricing.quote(version.definition, pricing.Usage(quantity=Decimal("3"))).total == Decimal("8")  # 7.5 -> 8


@pytest.mark.django_db
def test_a_published_version_is_never_changed_nor_published_again(operator_a):
    tariff = tariff_of(operator_a, "W", rate=100)
    version = tariff.versions.get()
    with pytest.raises(TariffError) as caught:
        version_update(version=version, acting_user=None, definition=water((None, 1)))
    assert caught.value.code == "version_published" and caught.value.status == 409
    with pytest.raises(TariffError):
        version_publish(version=version, acting_user=None)
    version.refresh_from_db()
    assert version.definition["components"][0]["bands"][0]["rate"] == 100


@pytest.mark.django_db
def test_a_draft_can_be_changed_and_a_bad_change_keeps_the_draft(operator_a):
    tariff = tariff_of(operator_a, "W", rate=100, publish=False)
    draft = tariff.versions.get()
    version_update(version=draft, acting_user=None, definition=water((None, 120)), note="RURA 2026")
    draft.refresh_from_db()
    assert draft.note == "RURA 2026"
    with pytest.raises(TariffError):
        version_update(version=draft, acting_user=None, definition=water((10, 1)))
    draft.refresh_from_db()
    assert draft.definition == water((None, 120))


@pytest.mark.django_db
def test_two_published_versions_cannot_share_a_day(operator_a):
    tariff = tariff_of(operator_a, "W", rate=100, effective_from=JAN)
    draft = version_create(tariff=tariff, acting_user=None, effective_from=JAN, definition=water((None, 200)))
    with pytest.raises(Conflict) as caught:
        version_publish(version=draft, acting_user=None)
    assert caught.value.code == "version_date_taken"
    draft.refresh_from_db()
    assert draft.status == TariffVersion.Status.DRAFT


# Packages -------------------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_package_gets_its_code_from_its_parts_and_a_published_price(operator_a):
    officer = officer_of(operator_a)
    package = package_create(
        operator=operator_a,
        acting_user=officer,
        name="Lights and phone",
        load_limit_w=100,
        hours_per_day=24,
        charging="flat",
        payment="postpaid",
        price="3000",
        effective_from=JAN,
        deposit_amount="5000",
    )
    assert package.code == "MG-100W-24H-FLAT"
    assert package.tariff.kind == Tariff.Kind.PACKAGE and package.tariff.code == package.code
    version = package.tariff.versions.get()
    assert version.status == TariffVersion.Status.PUBLISHED
    quote = pricing.quote(version.definition, pricing.Usage(quantity=Decimal("12")))
    assert quote.total == Decimal("3000")
    assert package.deposit_amount == Decimal("5000")
    assert AuditEntry.objects.filter(action="tariff.package_created", target_id=str(package.pk)).exists()


@pytest.mark.django_db
def test_a_per_kwh_prepaid_package_prices_each_kwh(operator_a):
    package = package_create(
        operator=operator_a,
        acting_user=None,
        name="Shop",
        load_limit_w=250,
        hours_per_day=12,
        charging="per_kwh",
        payment="prepaid",
        price="400",
        effective_from=JAN,
    )
    assert package.code == "MG-250W-12H-KWH-PRE"
    quote = pricing.quote(package.tariff.versions.get().definition, pricing.Usage(quantity=Decimal("7")))
    assert quote.total == Decimal("2800")


@pytest.mark.django_db
def test_bad_package_input_is_refused_field_by_field_and_the_same_parts_twice_conflict(operator_a):
    with pytest.raises(TariffError) as caught:
        package_create(
            operator=operator_a,
            acting_user=None,
            name="",
            load_limit_w=0,
            hours_per_day=25,
            charging="daily",
            payment="later",
            price="-1",
            effective_from=JAN,
            deposit_amount="abc",
        )
    assert set(caught.value.fields) == {
        "name",
        "load_limit_w",
        "hours_per_day",
        "charging",
        "payment",
        "price",
        "deposit_amount",
    }
    values = {
        "operator": operator_a,
        "acting_user": None,
        "name": "Lights",
        "load_limit_w": 100,
        "hours_per_day": 24,
        "charging": "flat",
        "payment": "postpaid",
        "price": "3000",
        "effective_from": JAN,
    }
    package_create(**values)
    with pytest.raises(Conflict) as conflict:
        package_create(**{**values, "name": "Again"})
    assert conflict.value.code == "package_exists"
    assert Package.objects.count() == 1 and Tariff.objects.count() == 1


@pytest.mark.django_db
def test_a_package_is_renamed_or_withdrawn_but_its_parts_never_change(operator_a):
    package = package_create(
        operator=operator_a,
        acting_user=None,
        name="Lights",
        load_limit_w=100,
        hours_per_day=24,
        charging="flat",
        payment="postpaid",
        price="3000",
        effective_from=JAN,
    )
    package_update(package=package, acting_user=None, name="Lights 100", active=False)
    package.refresh_from_db()
    package.tariff.refresh_from_db()
    assert package.name == "Lights 100" and not package.active and not package.tariff.active
    with pytest.raises(TariffError):
        package_update(package=package, acting_user=None, load_limit_w=200)


@pytest.mark.django_db
def test_a_packages_tariff_is_changed_only_through_its_package(operator_a):
    package = package_create(
        operator=operator_a,
        acting_user=None,
        name="Lights",
        load_limit_w=100,
        hours_per_day=24,
        charging="flat",
        payment="postpaid",
        price="3000",
        effective_from=JAN,
    )
    with pytest.raises(TariffError) as caught:
        tariff_update(tariff=package.tariff, acting_user=None, name="Renamed")
    assert caught.value.code == "package_tariff"
