"""The small world the tariff tests share: definitions in the engine's format, a billing officer, tariffs with
versions, connections and supply systems of operator A."""

import datetime
from typing import Any

from mita.accounts.roles import Role
from mita.customers.models import Connection
from mita.customers.services import connection_create, customer_create
from mita.registry.models import Cluster, ClusterAssignment, SupplySystem
from mita.tariffs.models import Tariff, TariffVersion
from mita.tariffs.services import tariff_create, version_create, version_publish
from mita.testing.factories import member


def water(*bands: tuple[Any, Any], currency: str = "RWF", **extra: Any) -> dict[str, Any]:
    """A water definition of incremental bands [(upto, rate), ...], the last open (upto None)."""
    return {
        "currency": currency,
        "utility": "water",
        "unit": "m3",
        "period": "month",
        "components": [
            {
                "type": "blocks",
                "method": "incremental",
                "label": "Water",
                "bands": [{"upto": upto, "rate": rate} for upto, rate in bands],
            }
        ],
        **extra,
    }


def flat_rate(rate: Any) -> dict[str, Any]:
    """Every m3 at one rate: quotes are rate x usage, which makes the tests' arithmetic plain."""
    return water((None, rate))


WASAC_2019 = water((5, 340), (20, 720), (50, 845), (None, 877))


def officer_of(operator: Any, name: str = "Bea Billing") -> Any:
    return member(Role.BILLING_OFFICER, operator, name=name)


def tariff_of(
    operator: Any,
    code: str = "RES",
    *,
    rate: Any = 100,
    effective_from: datetime.date = datetime.date(2026, 1, 1),
    publish: bool = True,
    **fields: Any,
) -> Tariff:
    """A water tariff with one version (published unless told) pricing every m3 at `rate`."""
    fields.setdefault("name", f"Tariff {code}")
    fields.setdefault("utility", "water")
    tariff = tariff_create(operator=operator, acting_user=None, code=code, **fields)
    version_of(tariff, effective_from, rate, publish=publish)
    return tariff


def version_of(tariff: Tariff, effective_from: datetime.date, rate: Any, *, publish: bool = True) -> TariffVersion:
    definition = flat_rate(rate)
    if tariff.utility == "electricity":
        definition.update(utility="electricity", unit="kWh")
    version = version_create(
        tariff=tariff, acting_user=None, effective_from=effective_from, definition=definition, note=""
    )
    return version_publish(version=version, acting_user=None) if publish else version


def connection_at(operator: Any, number: str, **fields: Any) -> Connection:
    fields.setdefault("utility", "water")
    fields.setdefault("property_type", "residential")
    customer = customer_create(operator=operator, acting_user=None, name=f"Holder of {number}", phone=_phone(number))
    return connection_create(operator=operator, customer=customer, number=number, acting_user=None, **fields)


def _phone(number: str) -> str:
    digits = "".join(char for char in number if char.isdigit())[-6:].rjust(6, "0")
    return f"+250788{digits}"


def supply_system_of(operator: Any, code: str = "WSS-A-1") -> SupplySystem:
    cluster, created = Cluster.objects.get_or_create(code=f"CL-{operator.prefix}", defaults={"name": "Cluster"})
    if created:
        ClusterAssignment.objects.create(
            cluster=cluster, operator=operator, starts_on="2020-01-01", expires_on="2099-12-31"
        )
    return SupplySystem.objects.create(cluster=cluster, kind="water", technology="gravity", name=code, code=code)
