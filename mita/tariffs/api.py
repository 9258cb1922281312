"""API of tariffs: tariffs and where they apply, their versions (draft, publish), packages, and a quote with the
version in force on a day. Amounts travel as decimal strings, never floats."""

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from mita.core.permissions import request_access, require_api_roles
from mita.customers.models import Connection
from mita.registry.models import SupplySystem
from mita.tariffs import pricing
from mita.tariffs.models import Package, Tariff, TariffVersion
from mita.tariffs.selectors import (
    TARIFF_READ_ROLES,
    TARIFF_WRITE_ROLES,
    package_get_for_access,
    packages_visible_to,
    tariff_get_for_access,
    tariffs_visible_to,
    version_get_for_access,
    version_in_force,
    versions_of,
    with_version_in_force,
)
from mita.tariffs.services import (
    TariffError,
    tariff_create,
    tariff_update,
    version_create,
    version_publish,
    version_update,
)
from mita.tariffs.services_packages import package_create, package_update

router = Router(tags=["tariffs"])


class TariffIn(Schema):
    code: str
    name: str
    utility: str
    property_types: list[str] = []
    connection_types: list[str] = []
    supply_system_ids: list[int] = []
    connection_numbers: list[str] = []
    priority: int = 0
    active: bool = True


class TariffPatch(Schema):
    name: str | None = None
    property_types: list[str] | None = None
    connection_types: list[str] | None = None
    supply_system_ids: list[int] | None = None
    connection_numbers: list[str] | None = None
    priority: int | None = None
    active: bool | None = None


class TariffOut(Schema):
    id: int
    operator_id: int
    code: str
    name: str
    utility: str
    kind: str
    property_types: list[str]
    connection_types: list[str]
    supply_system_ids: list[int]
    connection_numbers: list[str]
    priority: int
    active: bool
    version_in_force_id: int | None
    created_at: datetime.datetime


class VersionIn(Schema):
    effective_from: datetime.date
    definition: dict[str, Any]
    note: str = ""
    idempotency_key: str = Field("", description="a key made by the client: a retry returns the first draft")


class VersionPatch(Schema):
    effective_from: datetime.date | None = None
    definition: dict[str, Any] | None = None
    note: str | None = None


class VersionOut(Schema):
    id: int
    tariff_id: int
    effective_from: datetime.date
    status: str
    definition: dict[str, Any]
    note: str
    created_at: datetime.datetime
    published_at: datetime.datetime | None


class PackageIn(Schema):
    name: str
    load_limit_w: int
    hours_per_day: int = 24
    charging: str = Field(..., description="flat or per_kwh")
    payment: str = Field(..., description="prepaid or postpaid")
    price: str = Field(..., description="the fee per period, or the price per kWh, as a decimal string")
    effective_from: datetime.date
    deposit_amount: str | None = None


class PackagePatch(Schema):
    name: str | None = None
    deposit_amount: str | None = None
    active: bool | None = None


class PackageOut(Schema):
    id: int
    operator_id: int
    tariff_id: int
    code: str
    name: str
    load_limit_w: int
    hours_per_day: int
    charging: str
    payment: str
    deposit_amount: Decimal | None
    active: bool


class QuoteIn(Schema):
    usage: str = Field("0", description="m3 or kWh in the period, a decimal string")
    on: datetime.date | None = Field(None, description="the day whose version prices it; default today")
    version_id: int | None = Field(None, description="price with this version (a draft too) instead")
    property_type: str = ""
    connection_type: str = ""
    meter_size: str = ""
    days: int | None = None
    indigent: bool = False
    counts: dict[str, str] = {}


class QuoteLineOut(Schema):
    label: str
    quantity: str
    rate: str
    amount: str
    head: str
    kind: str
    vat: str


class QuoteOut(Schema):
    tariff_id: int
    version_id: int
    effective_from: datetime.date
    currency: str
    lines: list[QuoteLineOut]
    total: str
    vat_total: str


def _tariff_out(tariff: Tariff) -> dict[str, Any]:
    """A tariff as the API gives it; from a list (with_version_in_force and prefetched relations) without a query."""
    if hasattr(tariff, "in_force_id"):
        in_force_id = tariff.in_force_id
    else:
        version = version_in_force(tariff=tariff, on=timezone.localdate())
        in_force_id = version.pk if version else None
    return {
        "id": tariff.pk,
        "operator_id": tariff.operator_id,
        "code": tariff.code,
        "name": tariff.name,
        "utility": tariff.utility,
        "kind": tariff.kind,
        "property_types": tariff.property_types,
        "connection_types": tariff.connection_types,
        "supply_system_ids": sorted(system.pk for system in tariff.supply_systems.all()),
        "connection_numbers": sorted(connection.number for connection in tariff.connections.all()),
        "priority": tariff.priority,
        "active": tariff.active,
        "version_in_force_id": in_force_id,
        "created_at": tariff.created_at,
    }


def _own_tariff(request: HttpRequest, tariff_id: int) -> Tariff:
    """A tariff of the workspace's own operator (a writer's); another operator's is a 404."""
    access = require_api_roles(request, *TARIFF_WRITE_ROLES)
    tariff = tariff_get_for_access(access=access, tariff_id=tariff_id)
    if access.operator is None or tariff.operator_id != access.operator.pk:
        raise Http404
    return tariff


def _own_version(request: HttpRequest, version_id: int) -> TariffVersion:
    access = require_api_roles(request, *TARIFF_WRITE_ROLES)
    version = version_get_for_access(access=access, version_id=version_id)
    if access.operator is None or version.operator_id != access.operator.pk:
        raise Http404
    return version


@router.get("/tariffs", response=list[TariffOut], summary="Tariffs (packages too, with kind=package)")
def tariff_list(
    request: HttpRequest, q: str = "", utility: str = "", kind: str = "", active: bool | None = None
) -> list[dict[str, Any]]:
    require_api_roles(request, *TARIFF_READ_ROLES)
    tariffs = tariffs_visible_to(access=request_access(request), search=q, utility=utility, kind=kind, active=active)
    listed = with_version_in_force(tariffs, on=timezone.localdate()).prefetch_related(
        Prefetch("supply_systems", queryset=SupplySystem.objects.only("pk")),
        Prefetch("connections", queryset=Connection.objects.only("pk", "number")),
    )
    return [_tariff_out(tariff) for tariff in listed[:500]]


@router.post("/tariffs", response={201: TariffOut}, summary="Add a tariff and where it applies")
def tariff_create_endpoint(request: HttpRequest, payload: TariffIn) -> Status[Any]:
    access = require_api_roles(request, *TARIFF_WRITE_ROLES)
    tariff = tariff_create(operator=access.operator, acting_user=request.user, **payload.dict())
    return Status(201, _tariff_out(tariff))


@router.get("/tariffs/{tariff_id}", response=TariffOut, summary="One tariff")
def tariff_get(request: HttpRequest, tariff_id: int) -> dict[str, Any]:
    require_api_roles(request, *TARIFF_READ_ROLES)
    return _tariff_out(tariff_get_for_access(access=request_access(request), tariff_id=tariff_id))


@router.patch("/tariffs/{tariff_id}", response=TariffOut, summary="Change where a tariff applies, its name or state")
def tariff_patch(request: HttpRequest, tariff_id: int, payload: TariffPatch) -> dict[str, Any]:
    tariff = _own_tariff(request, tariff_id)
    return _tariff_out(tariff_update(tariff=tariff, acting_user=request.user, **payload.dict(exclude_unset=True)))


@router.get("/tariffs/{tariff_id}/versions", response=list[VersionOut], summary="A tariff's versions, latest first")
def version_list(request: HttpRequest, tariff_id: int) -> list[TariffVersion]:
    require_api_roles(request, *TARIFF_READ_ROLES)
    return list(versions_of(tariff=tariff_get_for_access(access=request_access(request), tariff_id=tariff_id)))


@router.post("/tariffs/{tariff_id}/versions", response={201: VersionOut}, summary="Save a draft version")
def version_create_endpoint(request: HttpRequest, tariff_id: int, payload: VersionIn) -> Status[Any]:
    tariff = _own_tariff(request, tariff_id)
    version = version_create(tariff=tariff, acting_user=request.user, **payload.dict())
    return Status(201, version)  # a replay gets the first draft, with the same status


@router.get("/tariff-versions/{version_id}", response=VersionOut, summary="One version with its definition")
def version_get(request: HttpRequest, version_id: int) -> TariffVersion:
    require_api_roles(request, *TARIFF_READ_ROLES)
    return version_get_for_access(access=request_access(request), version_id=version_id)


@router.patch("/tariff-versions/{version_id}", response=VersionOut, summary="Change a draft (never a published one)")
def version_patch(request: HttpRequest, version_id: int, payload: VersionPatch) -> TariffVersion:
    version = _own_version(request, version_id)
    return version_update(version=version, acting_user=request.user, **payload.dict(exclude_unset=True))


@router.post("/tariff-versions/{version_id}/publish", response=VersionOut, summary="Publish a draft")
def version_publish_endpoint(request: HttpRequest, version_id: int) -> TariffVersion:
    version = _own_version(request, version_id)
    return version_publish(version=version, acting_user=request.user)


@router.post("/tariffs/{tariff_id}/quote", response=QuoteOut, summary="Simulate a bill with the version in force")
def tariff_quote(request: HttpRequest, tariff_id: int, payload: QuoteIn) -> dict[str, Any]:
    require_api_roles(request, *TARIFF_READ_ROLES)
    access = request_access(request)
    tariff = tariff_get_for_access(access=access, tariff_id=tariff_id)
    if payload.version_id is not None:
        version = tariff.versions.filter(pk=payload.version_id).first()
        if version is None:
            raise TariffError(
                _("That version is not one of this tariff's."),
                code="version_unknown",
                fields={"version_id": [_("Not a version of this tariff.")]},
            )
    else:
        day = payload.on or timezone.localdate()
        version = version_in_force(tariff=tariff, on=day)
        if version is None:
            raise TariffError(
                _("No published version of %(code)s is in force on %(day)s.")
                % {"code": tariff.code, "day": day.isoformat()},
                code="no_version_in_force",
                fields={"on": [_("No version in force that day.")]},
                status=404,
            )
    usage = pricing.Usage(
        quantity=_decimal(payload.usage, "usage"),
        property_type=payload.property_type,
        connection_type=payload.connection_type,
        meter_size=payload.meter_size,
        days=payload.days,
        indigent=payload.indigent,
        counts={name: _decimal(value, f"counts.{name}") for name, value in payload.counts.items()},
    )
    try:
        quote = pricing.quote(version.definition, usage)
    except pricing.TariffInvalid as error:
        raise TariffError(str(error), code="quote_invalid", fields=error.as_fields()) from None
    return {
        "tariff_id": tariff.pk,
        "version_id": version.pk,
        "effective_from": version.effective_from,
        "currency": quote.currency,
        "lines": [line.as_json() for line in quote.lines],
        "total": format(quote.total, "f"),
        "vat_total": format(quote.vat_total, "f"),
    }


def _decimal(value: str, field: str) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        number = Decimal("NaN")
    if not number.is_finite():
        raise TariffError(
            _("%(field)s must be a decimal number, e.g. 12.5.") % {"field": field},
            code="invalid",
            fields={field: [_("Write a number.")]},
        )
    return number


@router.get("/packages", response=list[PackageOut], summary="Mini-grid packages")
def package_list(request: HttpRequest, active: bool | None = None) -> list[Package]:
    require_api_roles(request, *TARIFF_READ_ROLES)
    return list(packages_visible_to(access=request_access(request), active=active)[:500])


@router.post("/packages", response={201: PackageOut}, summary="Offer a package with its first price")
def package_create_endpoint(request: HttpRequest, payload: PackageIn) -> Status[Any]:
    access = require_api_roles(request, *TARIFF_WRITE_ROLES)
    package = package_create(operator=access.operator, acting_user=request.user, **payload.dict())
    return Status(201, package)


@router.get("/packages/{package_id}", response=PackageOut, summary="One package")
def package_get(request: HttpRequest, package_id: int) -> Package:
    require_api_roles(request, *TARIFF_READ_ROLES)
    return package_get_for_access(access=request_access(request), package_id=package_id)


@router.patch("/packages/{package_id}", response=PackageOut, summary="Rename, change the deposit, stop offering")
def package_patch(request: HttpRequest, package_id: int, payload: PackagePatch) -> Package:
    access = require_api_roles(request, *TARIFF_WRITE_ROLES)
    package = package_get_for_access(access=access, package_id=package_id)
    if access.operator is None or package.operator_id != access.operator.pk:
        raise Http404
    return package_update(package=package, acting_user=request.user, **payload.dict(exclude_unset=True))
