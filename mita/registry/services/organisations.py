"""Writes about the boundary hierarchy, the regulator and operators."""

import json
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from mita.core.audit import audit_record, snapshot
from mita.core.errors import Conflict
from mita.registry.models import Boundary, BoundaryType, Operator, OperatorPrefix, Regulator

BOUNDARIES_FILE = Path(__file__).parent.parent / "fixtures" / "boundaries.json"


def boundaries_seed(
    *, path: Path = BOUNDARIES_FILE, boundary_type_model: Any = BoundaryType, boundary_model: Any = Boundary
) -> int:
    """Load the boundary hierarchy (Rwanda's 5 provinces and 30 districts, a Punjab sample); idempotent by code.

    The model classes can be passed so a data migration can use its historical models.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    types = {}
    for entry in data["types"]:
        types[entry["code"]], _ = boundary_type_model.objects.update_or_create(
            code=entry["code"], defaults={"name": entry["name"], "depth": entry["depth"]}
        )
    by_code: dict[str, Any] = {}
    for entry in data["boundaries"]:  # parents come before children in the file
        by_code[entry["code"]], _ = boundary_model.objects.update_or_create(
            code=entry["code"],
            defaults={"name": entry["name"], "type": types[entry["type"]], "parent": by_code.get(entry["parent"])},
        )
    return len(by_code)


@transaction.atomic
def regulator_set(*, name: str, short_name: str, country_code: str, acting_user: Any) -> Regulator:
    regulator, created = Regulator.objects.update_or_create(
        singleton=True, defaults={"name": name, "short_name": short_name, "country_code": country_code}
    )
    audit_record(
        actor=acting_user,
        action="regulator.created" if created else "regulator.updated",
        target=regulator,
        after=snapshot(regulator, ["name", "short_name", "country_code"]),
    )
    return regulator


@transaction.atomic
def operator_create(
    *,
    name: str,
    kind: str,
    utility: str,
    prefix: str,
    country_code: str,
    currency: str,
    districts: list[Boundary],
    phone: str = "",
    email: str = "",
    acting_user: Any,
) -> Operator:
    """Register an operator with a chosen prefix (the demo, imports); onboarding from a licence is the usual way."""
    prefix = prefix.upper()
    try:
        with transaction.atomic():
            issued = OperatorPrefix.objects.create(prefix=prefix)
    except IntegrityError:
        raise Conflict(
            gettext("The prefix %(prefix)s was already issued; prefixes are never reused.") % {"prefix": prefix},
            code="prefix_taken",
        ) from None
    operator = Operator.objects.create(
        name=name,
        kind=kind,
        utility=utility,
        prefix=prefix,
        country_code=country_code,
        currency=currency,
        phone=phone,
        email=email,
    )
    issued.operator = operator
    issued.save(update_fields=["operator"])
    operator.districts.set(districts)
    audit_record(
        actor=acting_user,
        action="operator.created",
        target=operator,
        operator=operator,
        after={
            **snapshot(operator, ["name", "kind", "utility", "prefix", "currency"]),
            "districts": [d.name for d in districts],
        },
    )
    return operator
