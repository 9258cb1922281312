"""Which tariff prices a connection on a day (the most specific applicable one), and the versions over a period."""

import datetime
from decimal import Decimal

import pytest

from mita.customers.models import Connection
from mita.tariffs import pricing
from mita.tariffs.selectors import ConnectionFacts, tariff_book, tariff_for, versions_for_period
from mita.tariffs.services import tariff_update
from mita.tariffs.services_packages import package_create, package_update
from mita.tariffs.tests.world_tariffs import (
    connection_at,
    flat_rate,
    supply_system_of,
    tariff_of,
    version_of,
)

JAN = datetime.date(2026, 1, 1)
FEB = datetime.date(2026, 2, 1)
MAR = datetime.date(2026, 3, 1)


def _code(connection: Connection, on: datetime.date = FEB) -> str | None:
    found = tariff_for(connection, on)
    return found[0].code if found else None


@pytest.mark.django_db
def test_a_tariff_without_criteria_is_the_utility_default(operator_a):
    # given only a default water tariff
    tariff_of(operator_a, "DEFAULT")
    # then every water connection is priced by it, whatever its property type
    assert _code(connection_at(operator_a, "AAL-1")) == "DEFAULT"
    assert _code(connection_at(operator_a, "AAL-2", property_type="commercial")) == "DEFAULT"


@pytest.mark.django_db
def test_no_tariff_of_the_connections_utility_means_none(operator_a):
    tariff_of(operator_a, "DEFAULT")
    electricity = connection_at(operator_a, "AAL-E1", utility="electricity")
    assert tariff_for(electricity, FEB) is None


@pytest.mark.django_db
def test_the_more_specific_tariff_wins_at_each_level(operator_a):
    # given a connection that matches every level
    system = supply_system_of(operator_a)
    connection = connection_at(
        operator_a, "AAL-1", property_type="commercial", connection_type="yard_tap", supply_system=system
    )
    other = connection_at(operator_a, "AAL-2", property_type="residential")
    # when tariffs of each level are added one by one, the most specific one takes over each time
    tariff_of(operator_a, "DEFAULT")
    assert _code(connection) == "DEFAULT"
    tariff_of(operator_a, "COMMERCIAL", property_types=["commercial"])
    assert _code(connection) == "COMMERCIAL"
    tariff_of(operator_a, "YARD", connection_types=["YARD_TAP"])  # connection types match whatever their case
    assert _code(connection) == "YARD"
    tariff_of(operator_a, "SYSTEM", supply_system_ids=[system.pk])
    assert _code(connection) == "SYSTEM"
    tariff_of(operator_a, "NAMED", connection_numbers=["aal-1"])
    assert _code(connection) == "NAMED"
    # and a connection matching none of the specific ones keeps the default
    assert _code(other) == "DEFAULT"


@pytest.mark.django_db
def test_every_criterion_a_tariff_sets_must_match(operator_a):
    tariff_of(operator_a, "DEFAULT")
    tariff_of(operator_a, "COMM-YARD", property_types=["commercial"], connection_types=["yard_tap"])
    # a commercial connection of another connection type does not match the two-criteria tariff
    assert _code(connection_at(operator_a, "AAL-1", property_type="commercial", connection_type="house")) == "DEFAULT"
    assert _code(connection_at(operator_a, "AAL-2", property_type="commercial", connection_type="yard_tap")) == (
        "COMM-YARD"
    )


@pytest.mark.django_db
def test_a_supply_system_tariff_beats_one_with_connection_and_property_types(operator_a):
    system = supply_system_of(operator_a)
    connection = connection_at(
        operator_a, "AAL-1", property_type="commercial", connection_type="yard_tap", supply_system=system
    )
    tariff_of(operator_a, "TYPES", property_types=["commercial"], connection_types=["yard_tap"])
    tariff_of(operator_a, "SYSTEM", supply_system_ids=[system.pk])
    assert _code(connection) == "SYSTEM"


@pytest.mark.django_db
def test_priority_decides_between_equally_specific_tariffs(operator_a):
    connection = connection_at(operator_a, "AAL-1", property_type="commercial", connection_type="kiosk")
    tariff_of(operator_a, "BY-PROPERTY", property_types=["commercial"])
    tariff_of(operator_a, "BY-PROPERTY-2", property_types=["commercial", "industrial"], priority=5)
    assert _code(connection) == "BY-PROPERTY-2"


@pytest.mark.django_db
def test_an_inactive_tariff_does_not_apply(operator_a):
    tariff_of(operator_a, "DEFAULT")
    commercial = tariff_of(operator_a, "COMMERCIAL", property_types=["commercial"])
    connection = connection_at(operator_a, "AAL-1", property_type="commercial")
    tariff_update(tariff=commercial, acting_user=None, active=False)
    assert _code(connection) == "DEFAULT"


@pytest.mark.django_db
def test_a_tariff_applies_from_its_first_published_version_and_drafts_never_price(operator_a):
    # given a default tariff, a commercial one from March, and a draft-only one for the connection by name
    connection = connection_at(operator_a, "AAL-1", property_type="commercial")
    tariff_of(operator_a, "DEFAULT", effective_from=JAN)
    tariff_of(operator_a, "COMMERCIAL", property_types=["commercial"], effective_from=MAR)
    tariff_of(operator_a, "DRAFT-ONLY", connection_numbers=["AAL-1"], publish=False)
    # then before March the default prices it, from March 1st the commercial one
    assert _code(connection, datetime.date(2026, 2, 28)) == "DEFAULT"
    assert _code(connection, MAR) == "COMMERCIAL"
    # and before any version at all nothing does
    assert _code(connection, datetime.date(2025, 12, 31)) is None


@pytest.mark.django_db
def test_the_version_in_force_changes_on_its_effective_date(operator_a):
    tariff = tariff_of(operator_a, "DEFAULT", rate=100, effective_from=JAN)
    version_of(tariff, MAR, 150)
    connection = connection_at(operator_a, "AAL-1")
    found_feb = tariff_for(connection, datetime.date(2026, 2, 28))
    found_mar = tariff_for(connection, MAR)
    assert found_feb is not None and found_mar is not None
    assert found_feb[1].effective_from == JAN
    assert found_mar[1].effective_from == MAR


@pytest.mark.django_db
def test_a_connection_on_a_package_is_priced_by_that_package_only(operator_a):
    # given an electricity default tariff and a 100 W package
    tariff_of(operator_a, "ELEC", utility="electricity", effective_from=datetime.date(2025, 1, 1))
    package = package_create(
        operator=operator_a,
        acting_user=None,
        name="Lights",
        load_limit_w=100,
        hours_per_day=24,
        charging="flat",
        payment="prepaid",
        price=Decimal("3000"),
        effective_from=JAN,
    )
    on_package = connection_at(operator_a, "AAL-P1", utility="electricity")
    Connection.objects.filter(pk=on_package.pk).update(package=package.code.lower())
    on_other = connection_at(operator_a, "AAL-P2", utility="electricity")
    Connection.objects.filter(pk=on_other.pk).update(package="DOMESTIC-PLUS")
    plain = connection_at(operator_a, "AAL-P3", utility="electricity")
    # then the package prices its connection (its code whatever the case), the default the plain one
    assert _code(Connection.objects.get(pk=on_package.pk)) == package.code
    assert _code(plain) == "ELEC"
    # and a package code that is no package of the operator (a service level for deposits) leaves the usual rules
    assert _code(Connection.objects.get(pk=on_other.pk)) == "ELEC"
    # a package no longer offered still prices the connections on it
    package_update(package=package, acting_user=None, active=False)
    assert _code(Connection.objects.get(pk=on_package.pk)) == package.code
    # and before its first price, nothing prices them (billing lists it) rather than another tariff
    assert _code(Connection.objects.get(pk=on_package.pk), datetime.date(2025, 12, 31)) is None


@pytest.mark.django_db
def test_another_operators_tariffs_never_apply(operator_a, operator_b):
    tariff_of(operator_b, "DEFAULT")
    assert _code(connection_at(operator_a, "AAL-1")) is None


@pytest.mark.django_db
def test_the_tariff_book_matches_many_connections_with_a_fixed_number_of_queries(
    operator_a, django_assert_max_num_queries
):
    system = supply_system_of(operator_a)
    tariff_of(operator_a, "DEFAULT")
    tariff_of(operator_a, "SYSTEM", supply_system_ids=[system.pk])
    facts = [ConnectionFacts(pk=n, utility="water", supply_system_id=system.pk if n % 2 else None) for n in range(500)]
    with django_assert_max_num_queries(4):
        book = tariff_book(operator=operator_a, on=FEB)
        codes = [found[0].code for found in map(book.match, facts) if found]
    assert codes.count("SYSTEM") == 250 and codes.count("DEFAULT") == 250


# versions_for_period -------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_versions_for_a_period_inside_one_version(operator_a):
    tariff = tariff_of(operator_a, "DEFAULT", rate=100, effective_from=JAN)
    version_of(tariff, MAR, 150)
    versions = versions_for_period(tariff, datetime.date(2026, 2, 1), datetime.date(2026, 2, 28))
    assert [day for day, _definition in versions] == [JAN]


@pytest.mark.django_db
def test_versions_for_a_period_across_a_change(operator_a):
    # given 100 from January, 150 from March 16, 200 from April
    tariff = tariff_of(operator_a, "DEFAULT", rate=100, effective_from=JAN)
    version_of(tariff, datetime.date(2026, 3, 16), 150)
    version_of(tariff, datetime.date(2026, 4, 1), 200)
    version_of(tariff, datetime.date(2026, 3, 20), 999, publish=False)  # a draft never counts
    # when March is billed
    versions = versions_for_period(tariff, MAR, datetime.date(2026, 3, 31))
    # then the version in force on March 1st and the one from the 16th, oldest first, with their definitions
    assert [(day, definition) for day, definition in versions] == [
        (JAN, flat_rate(100)),
        (datetime.date(2026, 3, 16), flat_rate(150)),
    ]
    # and the engine splits March by days: 15 days at 100, 16 at 150, for 31 m3 used evenly
    quote = pricing.quote_period(
        versions,
        pricing.Usage(quantity=Decimal(31), period_start=MAR, period_end=datetime.date(2026, 3, 31)),
    )
    assert quote.total == Decimal(15 * 100 + 16 * 150)


@pytest.mark.django_db
def test_versions_for_a_period_at_its_boundaries(operator_a):
    tariff = tariff_of(operator_a, "DEFAULT", rate=100, effective_from=JAN)
    version_of(tariff, MAR, 150)
    # a version starting on the first day is the only one; one starting the day after the end is not included
    assert [day for day, _ in versions_for_period(tariff, MAR, datetime.date(2026, 3, 31))] == [MAR]
    assert [day for day, _ in versions_for_period(tariff, FEB, datetime.date(2026, 2, 28))] == [JAN]
    # one starting on the last day is included
    assert [day for day, _ in versions_for_period(tariff, FEB, MAR)] == [JAN, MAR]
    # a period before any version has none
    assert versions_for_period(tariff, datetime.date(2025, 12, 1), datetime.date(2025, 12, 31)) == []
    # a period starting before the first version has only the first (billing decides what that means)
    assert [day for day, _ in versions_for_period(tariff, datetime.date(2025, 12, 15), datetime.date(2026, 1, 14))] == [
        JAN
    ]


@pytest.mark.django_db
def test_versions_for_a_period_that_ends_before_it_starts_is_an_error(operator_a):
    tariff = tariff_of(operator_a, "DEFAULT")
    with pytest.raises(ValueError):
        versions_for_period(tariff, MAR, FEB)
