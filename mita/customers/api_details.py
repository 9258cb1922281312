"""API for connection details and contact changes: reading routes, meter chambers, a land parcel by UPI, and
changing a customer's phones or e-mail with the code sent to their phone."""

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from mita.accounts.roles import Role
from mita.core.permissions import request_access, require_api_roles
from mita.customers.api import _decimal, _pick
from mita.customers.models import ContactChange, MeterChamber, Route
from mita.customers.parcels import parcel_lookup
from mita.customers.selectors import CUSTOMER_READ_ROLES, CUSTOMER_WRITE_ROLES, customer_get_for_access
from mita.customers.selectors_details import (
    chamber_get_for_access,
    chambers_visible_to,
    contact_change_get_for_access,
    route_get_for_access,
    routes_visible_to,
)
from mita.customers.services_contacts import contact_change_confirm, contact_change_start, contact_change_without_code
from mita.customers.services_places import chamber_create, chamber_update, route_create, route_update
from mita.registry.selectors_clusters import supply_systems_visible_to

router = Router(tags=["customers"])


# Routes ------------------------------------------------------------------------------------------------------


class RouteIn(Schema):
    code: str
    name: str
    supply_system_id: int | None = None


class RoutePatch(Schema):
    code: str | None = None
    name: str | None = None
    supply_system_id: int | None = None


class RouteOut(Schema):
    id: int
    code: str
    name: str
    supply_system_id: int | None
    connection_count: int = 0


def _supply_system(request: HttpRequest, pk: int | None) -> Any:
    return _pick(
        supply_systems_visible_to(request_access(request)),
        pk,
        "supply_system_id",
        _("Choose one of your supply systems."),
    )


def _route_out(request: HttpRequest, route: Route) -> Route:
    return route_get_for_access(access=request_access(request), route_id=route.pk)  # with its connection count


@router.get("/routes", response=list[RouteOut], summary="Meter-reading routes")
@paginate(LimitOffsetPagination)
def route_list(request: HttpRequest) -> QuerySet[Route]:
    require_api_roles(request, *CUSTOMER_READ_ROLES)
    return routes_visible_to(access=request_access(request))


@router.post("/routes", response={201: RouteOut}, summary="Add a meter-reading route")
def route_create_endpoint(request: HttpRequest, payload: RouteIn) -> Status[Any]:
    require_api_roles(request, *CUSTOMER_WRITE_ROLES)
    route = route_create(
        operator=request_access(request).operator,
        code=payload.code,
        name=payload.name,
        supply_system=_supply_system(request, payload.supply_system_id),
        acting_user=request.user,
    )
    return Status(201, _route_out(request, route))


@router.get("/routes/{route_id}", response=RouteOut, summary="One meter-reading route")
def route_get(request: HttpRequest, route_id: int) -> Route:
    require_api_roles(request, *CUSTOMER_READ_ROLES)
    return route_get_for_access(access=request_access(request), route_id=route_id)


@router.patch("/routes/{route_id}", response=RouteOut, summary="Change a route's code, name or supply system")
def route_patch(request: HttpRequest, route_id: int, payload: RoutePatch) -> Route:
    require_api_roles(request, *CUSTOMER_WRITE_ROLES)
    route = route_get_for_access(access=request_access(request), route_id=route_id)
    changes = payload.dict(exclude_unset=True)
    if "supply_system_id" in changes:
        changes["supply_system"] = _supply_system(request, changes.pop("supply_system_id"))
    route = route_update(route=route, acting_user=request.user, **changes)
    return _route_out(request, route)


# Meter chambers ----------------------------------------------------------------------------------------------


class ChamberIn(Schema):
    code: str
    description: str = ""
    latitude: str | None = None
    longitude: str | None = None


class ChamberPatch(Schema):
    code: str | None = None
    description: str | None = None
    latitude: str | None = None
    longitude: str | None = None


class ChamberOut(Schema):
    id: int
    code: str
    description: str
    latitude: Decimal | None
    longitude: Decimal | None
    connection_count: int = 0


@router.get("/chambers", response=list[ChamberOut], summary="Meter chambers")
@paginate(LimitOffsetPagination)
def chamber_list(request: HttpRequest) -> QuerySet[MeterChamber]:
    require_api_roles(request, *CUSTOMER_READ_ROLES)
    return chambers_visible_to(access=request_access(request))


@router.post("/chambers", response={201: ChamberOut}, summary="Add a meter chamber")
def chamber_create_endpoint(request: HttpRequest, payload: ChamberIn) -> Status[Any]:
    require_api_roles(request, *CUSTOMER_WRITE_ROLES)
    chamber = chamber_create(
        operator=request_access(request).operator,
        code=payload.code,
        description=payload.description,
        latitude=_decimal(payload.latitude, "latitude"),
        longitude=_decimal(payload.longitude, "longitude"),
        acting_user=request.user,
    )
    return Status(201, chamber_get_for_access(access=request_access(request), chamber_id=chamber.pk))


@router.get("/chambers/{chamber_id}", response=ChamberOut, summary="One meter chamber")
def chamber_get(request: HttpRequest, chamber_id: int) -> MeterChamber:
    require_api_roles(request, *CUSTOMER_READ_ROLES)
    return chamber_get_for_access(access=request_access(request), chamber_id=chamber_id)


@router.patch("/chambers/{chamber_id}", response=ChamberOut, summary="Change a meter chamber")
def chamber_patch(request: HttpRequest, chamber_id: int, payload: ChamberPatch) -> MeterChamber:
    require_api_roles(request, *CUSTOMER_WRITE_ROLES)
    chamber = chamber_get_for_access(access=request_access(request), chamber_id=chamber_id)
    changes = payload.dict(exclude_unset=True)
    for field in ("latitude", "longitude"):
        if field in changes:
            changes[field] = _decimal(changes[field], field)
    if changes.get("description", "") is None:
        changes["description"] = ""
    chamber = chamber_update(chamber=chamber, acting_user=request.user, **changes)
    return chamber_get_for_access(access=request_access(request), chamber_id=chamber.pk)


# Land parcels ------------------------------------------------------------------------------------------------


class LandParcelOut(Schema):
    upi: str
    village: str
    cell: str
    sector: str
    district: str
    area_m2: Decimal
    land_use: str
    owner_name: str
    looked_up_at: datetime.datetime


@router.get("/land-parcels", response=LandParcelOut, summary="Look a land parcel up in the land registry by UPI")
def land_parcel_get(request: HttpRequest, upi: str) -> Any:
    """`?upi=1/02/03/04/1234`. 400 upi_invalid or parcel_not_found; 503 when the land registry cannot answer."""
    require_api_roles(request, *CUSTOMER_WRITE_ROLES)
    return parcel_lookup(upi)


# Contact changes ---------------------------------------------------------------------------------------------


class ContactChangeIn(Schema):
    """The new values (only those sent are changed). `without_code` (operator admins, with a `reason`) applies them
    at once for a customer who lost their phone."""

    phone: str | None = None
    phone_2: str | None = None
    email: str | None = None
    without_code: bool = False
    reason: str = ""


class ContactCodeIn(Schema):
    code: str


class ContactChangeOut(Schema):
    id: int
    customer_id: int
    changes: dict[str, str]
    status: str
    sent_to: str
    expires_at: datetime.datetime
    attempts: int
    reason: str
    created_at: datetime.datetime
    applied_at: datetime.datetime | None


@router.post(
    "/customers/{customer_id}/contact-changes",
    response={201: ContactChangeOut},
    summary="Start a change of a customer's phones or e-mail (a code goes to their current phone)",
)
def contact_change_create(request: HttpRequest, customer_id: int, payload: ContactChangeIn) -> Status[Any]:
    require_api_roles(request, *CUSTOMER_WRITE_ROLES)
    access = request_access(request)
    customer = customer_get_for_access(access=access, customer_id=customer_id)
    changes = payload.dict(include={"phone", "phone_2", "email"}, exclude_unset=True)
    changes = {field: value or "" for field, value in changes.items()}
    if payload.without_code:
        require_api_roles(request, Role.OPERATOR_ADMIN)
        change = contact_change_without_code(
            customer=customer, changes=changes, reason=payload.reason, acting_user=request.user
        )
    else:
        change = contact_change_start(customer=customer, changes=changes, acting_user=request.user)
    return Status(201, change)


@router.get(
    "/customers/{customer_id}/contact-changes/{change_id}", response=ContactChangeOut, summary="One contact change"
)
def contact_change_get(request: HttpRequest, customer_id: int, change_id: int) -> ContactChange:
    require_api_roles(request, *CUSTOMER_WRITE_ROLES)
    access = request_access(request)
    customer = customer_get_for_access(access=access, customer_id=customer_id)
    return contact_change_get_for_access(access=access, customer=customer, change_id=change_id)


@router.post(
    "/customers/{customer_id}/contact-changes/{change_id}/confirm",
    response=ContactChangeOut,
    summary="Apply a contact change with the code the customer received",
)
def contact_change_confirm_endpoint(
    request: HttpRequest, customer_id: int, change_id: int, payload: ContactCodeIn
) -> ContactChange:
    require_api_roles(request, *CUSTOMER_WRITE_ROLES)
    access = request_access(request)
    customer = customer_get_for_access(access=access, customer_id=customer_id)
    change = contact_change_get_for_access(access=access, customer=customer, change_id=change_id)
    return contact_change_confirm(change=change, code=payload.code, acting_user=request.user)
