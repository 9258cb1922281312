"""The demo's tariffs: each operator has its tariff in force, Amazi's with two versions, Izuba's packages price the
connections put on them."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from mita.customers.models import Connection
from mita.registry.models import Operator
from mita.tariffs import pricing
from mita.tariffs.models import Package, Tariff
from mita.tariffs.selectors import tariff_for, versions_for_period

pytestmark = pytest.mark.django_db


def test_the_demo_has_tariffs_packages_and_a_tariff_for_each_connection(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("demo", accounts=10, stdout=io.StringIO())
    amazi = Operator.objects.get(name="Amazi Meza Ltd")
    wasac = Tariff.objects.get(operator=amazi, code="WASAC-2019")
    versions = versions_for_period(wasac, datetime.date(2025, 12, 1), datetime.date(2026, 1, 31))
    assert [day for day, _ in versions] == [datetime.date(2019, 2, 1), datetime.date(2026, 1, 1)]
    residential = pricing.Usage(quantity=Decimal(10), property_type="residential")
    assert pricing.quote(versions[0][1], residential).total == Decimal(5 * 340 + 5 * 720)
    assert pricing.quote(versions[1][1], residential).total > pricing.quote(versions[0][1], residential).total
    izuba = Operator.objects.get(name="Izuba Mini-Grids")
    assert sorted(Package.objects.filter(operator=izuba).values_list("code", flat=True)) == [
        "MG-100W-24H-FLAT",
        "MG-500W-24H-KWH-PRE",
        "MG-50W-6H-FLAT-PRE",
    ]
    today = datetime.date.today()
    for name in ("Amazi Meza Ltd", "Kila Raipur Gram Panchayat Water Committee", "Izuba Mini-Grids"):
        connections = Connection.objects.filter(operator__name=name, status__in=["active", "pending"])
        assert connections.exists()
        for connection in connections:
            found = tariff_for(connection, today)
            assert found is not None, connection.number
            if connection.package:
                assert found[0].code == connection.package
    assert Connection.objects.filter(operator=izuba).exclude(package="").exists()
