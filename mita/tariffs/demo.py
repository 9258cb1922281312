"""The demo's tariffs: WASAC's 2019 water tariff at Amazi Meza (with a 2026 version), mGramSeva-like village slabs
at Kila Raipur, and at Izuba Mini-Grids the residential electricity tariff and three packages, a few customers on
them. The definitions are the documented examples (docs/tariffs/*.json)."""

import copy
import datetime
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from mita.accounts.roles import Role
from mita.core.demo import DemoContext, register_demo_step

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "tariffs"


def _example(name: str) -> dict[str, Any]:
    with (EXAMPLES / f"{name}.json").open(encoding="utf-8") as file:
        return json.load(file)


def _wasac_2026(definition: dict[str, Any]) -> dict[str, Any]:
    """An illustrative 2026 revision of the WASAC tariff (+5% on the residential bands above 5 m3), for the
    comparison page: not a published tariff."""
    revised = copy.deepcopy(definition)
    revised["name"] = "WASAC water tariff, 2026 revision (demo)"
    revised["source"] = "Demo figures: the 2019 tariff with residential bands above 5 m3 raised by 5%."
    for component in revised["components"]:
        if component.get("id") == "residential":
            for band in component["bands"][1:]:
                band["rate"] = str((Decimal(str(band["rate"])) * Decimal("1.05")).quantize(Decimal(1)))
    return revised


def _publish(tariff: Any, officer: Any, effective_from: datetime.date, definition: dict[str, Any], note: str) -> Any:
    from mita.tariffs.services import version_create, version_publish

    version = version_create(
        tariff=tariff, acting_user=officer, effective_from=effective_from, definition=definition, note=note
    )
    return version_publish(version=version, acting_user=officer)


def build_tariffs(ctx: DemoContext) -> None:
    from mita.tariffs.services import tariff_create
    from mita.tariffs.services_packages import package_create

    users = ctx.objects["users"]
    amazi, kila, izuba = (ctx.objects[f"operator:{key}"] for key in ("amazi", "kilaraipur", "izuba"))

    officer = users[f"{Role.BILLING_OFFICER}@{amazi}"]
    wasac = _example("wasac-2019")
    tariff = tariff_create(
        operator=amazi, acting_user=officer, code="WASAC-2019", name="WASAC water tariff", utility="water"
    )
    _publish(tariff, officer, datetime.date(2019, 2, 1), wasac, "RURA/WASAC tariff of February 2019")
    _publish(tariff, officer, datetime.date(2026, 1, 1), _wasac_2026(wasac), "2026 revision (demo figures)")

    officer = users[f"{Role.BILLING_OFFICER}@{kila}"]
    tariff = tariff_create(
        operator=kila, acting_user=officer, code="GPWSC-SLABS", name="Village water slabs", utility="water"
    )
    slabs = _example("mgramseva-village")
    _publish(tariff, officer, datetime.date(2024, 4, 1), slabs, "Gram panchayat resolution, April 2024")

    officer = users[f"{Role.BILLING_OFFICER}@{izuba}"]
    tariff = tariff_create(
        operator=izuba, acting_user=officer, code="RES-ELEC", name="Residential electricity", utility="electricity"
    )
    _publish(
        tariff, officer, datetime.date(2025, 10, 1), _example("rwanda-electricity-residential-2025"), "RURA, Oct 2025"
    )
    packages = []
    for name, load, hours, charging, payment, price, deposit in (
        ("Lights and phone", 100, 24, "flat", "postpaid", "3000", "5000"),
        ("Evening lights", 50, 6, "flat", "prepaid", "1200", None),
        ("Shop", 500, 24, "per_kwh", "prepaid", "350", "15000"),
    ):
        packages.append(
            package_create(
                operator=izuba,
                acting_user=officer,
                name=name,
                load_limit_w=load,
                hours_per_day=hours,
                charging=charging,
                payment=payment,
                price=Decimal(price),
                effective_from=datetime.date(2025, 1, 1),
                deposit_amount=Decimal(deposit) if deposit else None,
            )
        )
    on_packages = _put_on_packages(izuba, packages, users[f"{Role.CUSTOMER_CARE}@{izuba}"])
    ctx.log(
        f"tariffs: WASAC 2019 (and its 2026 version) at {amazi}, village slabs at {kila}, residential electricity "
        f"and {len(packages)} packages at {izuba} ({on_packages} connections on a package)"
    )


def _put_on_packages(operator: Any, packages: list[Any], care: Any) -> int:
    """Every fifth of the operator's first connections on a package, in turn."""
    from mita.customers.lifecycle import package_set
    from mita.customers.models import Connection

    connections = list(Connection.objects.filter(operator=operator).order_by("number")[:30:5])
    for index, connection in enumerate(connections):
        package_set(
            connection=connection, package=packages[index % len(packages)].code, effective="now", acting_user=care
        )
    return len(connections)


register_demo_step(58, "tariffs.tariffs", build_tariffs)
