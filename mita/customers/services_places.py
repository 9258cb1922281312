"""Writes of meter-reading routes and meter chambers: the places connections are read at and grouped in."""

import re
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from mita.core.audit import audit_record, snapshot
from mita.core.errors import Conflict
from mita.customers.models import MeterChamber, Route
from mita.customers.services import CustomerError, degrees
from mita.registry.models import ClusterAssignment, SupplySystem

CODE_FORMAT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,31}", re.ASCII)
ROUTE_FIELDS = ["code", "name", "supply_system_id"]
CHAMBER_FIELDS = ["code", "description", "latitude", "longitude"]


class CodeTaken(Conflict):
    """Another route (or chamber) of the operator has this code, in any case."""


def _code(raw: str) -> str:
    code = (raw or "").strip()
    if not CODE_FORMAT.fullmatch(code):
        raise CustomerError(
            _("A code is 1 to 32 letters, digits, dots, dashes, slashes or underscores, without spaces."),
            code="code_invalid",
            fields={"code": [_("Letters, digits, . _ / - only; no spaces; at most 32.")]},
        )
    return code


def _name(raw: str) -> str:
    name = (raw or "").strip()
    if not name:
        raise CustomerError(_("Enter the route's name."), code="name_required", fields={"name": [_("Required.")]})
    return name[:120]


def _supply_system(operator: Any, supply_system: SupplySystem | None) -> SupplySystem | None:
    if (
        supply_system is not None
        and not ClusterAssignment.objects.filter(operator=operator, cluster_id=supply_system.cluster_id).exists()
    ):
        raise CustomerError(
            _("That supply system is not in a cluster of your operator."),
            code="supply_system_invalid",
            fields={"supply_system": [_("Choose one of your operator's.")]},
        )
    return supply_system


def _taken(kind: str, code: str) -> CodeTaken:
    if kind == "route":
        message = _("Route code %(code)s is already used at your operator.") % {"code": code}
    else:
        message = _("Meter chamber code %(code)s is already used at your operator.") % {"code": code}
    return CodeTaken(message, code=f"{kind}_code_taken", fields={"code": [_("Already in use.")]})


def _gps(latitude: Decimal | None, longitude: Decimal | None) -> tuple[Decimal | None, Decimal | None]:
    problems: dict[str, list[str]] = {}
    if latitude is not None and not -90 <= latitude <= 90:
        problems["latitude"] = [_("Between -90 and 90.")]
    if longitude is not None and not -180 <= longitude <= 180:
        problems["longitude"] = [_("Between -180 and 180.")]
    if (latitude is None) != (longitude is None):
        problems["latitude" if latitude is None else "longitude"] = [_("Give both coordinates, or neither.")]
    if problems:
        raise CustomerError(_("Please correct the GPS position."), code="gps_invalid", fields=problems)
    return degrees(latitude), degrees(longitude)


@transaction.atomic
def route_create(
    *, operator: Any, code: str, name: str, acting_user: Any, supply_system: SupplySystem | None = None
) -> Route:
    """A meter-reading route; its code is unique at the operator whatever its case."""
    code, name = _code(code), _name(name)
    supply_system = _supply_system(operator, supply_system)
    if Route.objects.filter(operator=operator, code__iexact=code).exists():
        raise _taken("route", code)
    try:
        with transaction.atomic():
            route = Route.objects.create(operator=operator, code=code, name=name, supply_system=supply_system)
    except IntegrityError:
        raise _taken("route", code) from None
    audit_record(actor=acting_user, action="route.created", target=route, after=snapshot(route, ROUTE_FIELDS))
    return route


@transaction.atomic
def route_update(*, route: Route, acting_user: Any, **changes: Any) -> Route:
    """Change a route's code, name or supply system."""
    route = Route.objects.select_for_update().get(pk=route.pk)
    unknown = sorted(set(changes) - {"code", "name", "supply_system"})
    if unknown:
        raise CustomerError(_("“%(field)s” cannot be changed here.") % {"field": unknown[0]}, code="field_not_editable")
    if "code" in changes:
        changes["code"] = _code(changes["code"])
        if Route.objects.filter(operator=route.operator, code__iexact=changes["code"]).exclude(pk=route.pk).exists():
            raise _taken("route", changes["code"])
    if "name" in changes:
        changes["name"] = _name(changes["name"])
    if "supply_system" in changes:
        changes["supply_system"] = _supply_system(route.operator, changes["supply_system"])
    changed = [field for field, value in changes.items() if getattr(route, field) != value]
    if not changed:
        return route
    fields = [f"{field}_id" if field == "supply_system" else field for field in changed]
    before = snapshot(route, fields)
    for field in changed:
        setattr(route, field, changes[field])
    route.save(update_fields=changed)
    audit_record(actor=acting_user, action="route.updated", target=route, before=before, after=snapshot(route, fields))
    return route


@transaction.atomic
def chamber_create(
    *,
    operator: Any,
    code: str,
    acting_user: Any,
    description: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
) -> MeterChamber:
    """A meter chamber: one place holding the meters of several connections."""
    code = _code(code)
    latitude, longitude = _gps(latitude, longitude)
    if MeterChamber.objects.filter(operator=operator, code__iexact=code).exists():
        raise _taken("chamber", code)
    try:
        with transaction.atomic():
            chamber = MeterChamber.objects.create(
                operator=operator,
                code=code,
                description=(description or "").strip()[:300],
                latitude=latitude,
                longitude=longitude,
            )
    except IntegrityError:
        raise _taken("chamber", code) from None
    audit_record(actor=acting_user, action="chamber.created", target=chamber, after=snapshot(chamber, CHAMBER_FIELDS))
    return chamber


@transaction.atomic
def chamber_update(*, chamber: MeterChamber, acting_user: Any, **changes: Any) -> MeterChamber:
    """Change a chamber's code, description or GPS position."""
    chamber = MeterChamber.objects.select_for_update().get(pk=chamber.pk)
    unknown = sorted(set(changes) - set(CHAMBER_FIELDS))
    if unknown:
        raise CustomerError(_("“%(field)s” cannot be changed here.") % {"field": unknown[0]}, code="field_not_editable")
    if "code" in changes:
        changes["code"] = _code(changes["code"])
        if (
            MeterChamber.objects.filter(operator=chamber.operator, code__iexact=changes["code"])
            .exclude(pk=chamber.pk)
            .exists()
        ):
            raise _taken("chamber", changes["code"])
    if "description" in changes:
        changes["description"] = (changes["description"] or "").strip()[:300]
    if "latitude" in changes or "longitude" in changes:
        changes["latitude"], changes["longitude"] = _gps(
            changes.get("latitude", chamber.latitude), changes.get("longitude", chamber.longitude)
        )
    changed = [field for field, value in changes.items() if getattr(chamber, field) != value]
    if not changed:
        return chamber
    before = snapshot(chamber, changed)
    for field in changed:
        setattr(chamber, field, changes[field])
    chamber.save(update_fields=changed)
    audit_record(
        actor=acting_user, action="chamber.updated", target=chamber, before=before, after=snapshot(chamber, changed)
    )
    return chamber
