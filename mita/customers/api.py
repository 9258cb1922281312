"""API for customers and connections: list and search (cards), create, read, and change contacts or a connection's
description; the 360 overview and service notes. Numbers are never changed; amounts travel as decimal strings, never
floats."""

import datetime
import re
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from mita.core.permissions import request_access, require_api_roles
from mita.customers.customer_panels import NOTE_ROLES
from mita.customers.models import Connection, Customer, ServiceNote
from mita.customers.notes import service_note_add
from mita.customers.panels import overview_for
from mita.customers.search import SearchResults, customer_search
from mita.customers.selectors import (
    CUSTOMER_READ_ROLES,
    CUSTOMER_WRITE_ROLES,
    connection_get_for_access,
    connections_visible_to,
    customer_get_for_access,
    customers_visible_to,
)
from mita.customers.selectors_details import chambers_visible_to, routes_visible_to
from mita.customers.services import (
    ConnectionNumberImmutable,
    CustomerError,
    connection_create,
    connection_parcel_resolve,
    connection_update,
    customer_create,
    customer_update,
)
from mita.registry.models import Boundary, Cluster, SupplySystem
from mita.registry.selectors import districts
from mita.registry.selectors_clusters import clusters_visible_to, supply_systems_visible_to

router = Router(tags=["customers"])
DECIMAL = re.compile(r"^-?\d{1,14}(\.\d{1,6})?$")


def _decimal(text: str | None, field: str) -> Decimal | None:
    if text is None or not str(text).strip():
        return None
    if not DECIMAL.match(str(text).strip()):
        raise CustomerError(
            _("Write a number with a dot for decimals, e.g. 1500 or -1.9536."),
            code="number_format",
            fields={field: [_("Not a number.")]},
        )
    return Decimal(str(text).strip())


def _pick(queryset: QuerySet[Any], pk: int | None, field: str, message: str) -> Any:
    if pk is None:
        return None
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise CustomerError(message, code=f"{field}_invalid", fields={field: [message]})
    return found


# Customers -------------------------------------------------------------------------------------------------


class CustomerIn(Schema):
    name: str
    phone: str
    kind: str = Customer.Kind.PERSON
    relative_name: str = ""
    phone_2: str = ""
    id_type: str = ""
    id_number: str = ""
    email: str = ""
    language: str = ""
    district_id: int | None = None
    village: str = ""
    street: str = ""
    house: str = ""
    bank_name: str = ""
    bank_account: str = ""


class CustomerPatch(Schema):
    """Only the fields sent change. `number` is here only to be refused with a clear message."""

    number: str | None = None
    name: str | None = None
    phone: str | None = None
    kind: str | None = None
    relative_name: str | None = None
    phone_2: str | None = None
    id_type: str | None = None
    id_number: str | None = None
    email: str | None = None
    language: str | None = None
    district_id: int | None = None
    village: str | None = None
    street: str | None = None
    house: str | None = None
    bank_name: str | None = None
    bank_account: str | None = None


class CustomerOut(Schema):
    id: int
    number: str
    kind: str
    name: str
    relative_name: str
    phone: str
    phone_2: str
    id_type: str
    id_number: str
    email: str
    language: str
    district_id: int | None
    village: str
    street: str
    house: str
    bank_name: str
    bank_account: str
    status: str
    status_reason: str
    created_at: datetime.datetime


def _district(pk: int | None) -> Boundary | None:
    return _pick(districts(), pk, "district_id", _("Choose a district by its id."))


class CardOut(Schema):
    customer_id: int
    customer_number: str
    owner: str
    phone: str
    address: str
    connection_id: int | None
    connection_number: str
    status: str
    url: str


class PhoneGroupOut(Schema):
    phone: str
    cards: list[CardOut]


class SearchOut(Schema):
    query: str
    more: bool  # more customers match than shown: type more of the query
    groups: list[PhoneGroupOut]


@router.get("/customers/search", response=SearchOut, summary="Search: cards of connections, grouped by phone")
def customer_search_endpoint(request: HttpRequest, q: str = "") -> SearchResults:
    require_api_roles(request, *CUSTOMER_READ_ROLES)
    return customer_search(access=request_access(request), query=q)


@router.get("/customers", response=list[CustomerOut], summary="Customers found by the search's words")
@paginate(LimitOffsetPagination)
def customer_list(request: HttpRequest, q: str = "", status: str = "") -> QuerySet[Customer]:
    require_api_roles(request, *CUSTOMER_READ_ROLES)
    return customers_visible_to(access=request_access(request), search=q, status=status).order_by("sequence_number")


@router.post("/customers", response={201: CustomerOut}, summary="Register a customer")
def customer_create_endpoint(request: HttpRequest, payload: CustomerIn) -> Status[Any]:
    require_api_roles(request, *CUSTOMER_WRITE_ROLES)
    data = payload.dict()
    district = _district(data.pop("district_id"))
    customer = customer_create(
        operator=request_access(request).operator,
        acting_user=request.user,
        district=district,
        **data,
    )
    return Status(201, customer)


@router.get("/customers/{customer_id}", response=CustomerOut, summary="One customer")
def customer_get(request: HttpRequest, customer_id: int) -> Customer:
    require_api_roles(request, *CUSTOMER_READ_ROLES)
    return customer_get_for_access(access=request_access(request), customer_id=customer_id)


@router.patch("/customers/{customer_id}", response=CustomerOut, summary="Change a customer's contact data")
def customer_patch(request: HttpRequest, customer_id: int, payload: CustomerPatch) -> Customer:
    require_api_roles(request, *CUSTOMER_WRITE_ROLES)
    customer = customer_get_for_access(access=request_access(request), customer_id=customer_id)
    changes = payload.dict(exclude_unset=True)
    if "number" in changes:
        raise CustomerError(
            _("A customer's number cannot be changed."),
            code="number_not_editable",
            fields={"number": [_("Not editable.")]},
        )
    if "district_id" in changes:
        changes["district"] = _district(changes.pop("district_id"))
    return customer_update(customer=customer, acting_user=request.user, **changes)


# Connections -----------------------------------------------------------------------------------------------


class ConnectionIn(Schema):
    customer_id: int
    number: str
    utility: str
    property_type: str
    connection_type: str = ""
    metered: bool = True
    supply_system_id: int | None = None
    cluster_id: int | None = None
    latitude: str | None = None
    longitude: str | None = None
    starts_on: datetime.date | None = None
    opening_arrears: str | None = None  # a decimal string in the operator's currency
    arrears_as_of: datetime.date | None = None
    route_id: int | None = None
    reading_sequence: int | None = None
    chamber_id: int | None = None
    billing_cycle: str = Connection.BillingCycle.MONTHLY
    parcel_upi: str = ""  # looked up in the land registry when the connection is saved
    assessed_usage: str | None = None  # without a meter: units a tariff period (decimal string); None: the tariff's


class ConnectionPatch(Schema):
    """Only the fields sent change. `number` is here only to be refused with a clear message."""

    number: str | None = None
    connection_type: str | None = None
    metered: bool | None = None
    latitude: str | None = None
    longitude: str | None = None
    route_id: int | None = None
    reading_sequence: int | None = None
    chamber_id: int | None = None
    billing_cycle: str | None = None
    parcel_upi: str | None = None  # sent (even unchanged): looked up again in the land registry; "" clears it
    assessed_usage: str | None = None  # a decimal string; null or "" clears it (the tariff's applies)


class ParcelOut(Schema):
    upi: str
    village: str
    cell: str
    sector: str
    district: str
    area_m2: Decimal | None
    land_use: str
    owner_name: str
    looked_up_at: datetime.datetime | None


class ConnectionOut(Schema):
    id: int
    number: str
    customer_id: int
    customer_number: str
    utility: str
    property_type: str
    connection_type: str
    metered: bool
    supply_system_id: int | None
    cluster_id: int | None
    latitude: Decimal | None
    longitude: Decimal | None
    status: str
    route_id: int | None
    reading_sequence: int | None
    chamber_id: int | None
    billing_cycle: str
    assessed_usage: Decimal | None
    parcel: ParcelOut | None
    created_at: datetime.datetime

    @staticmethod
    def resolve_customer_number(connection: Connection) -> str:
        return connection.customer.number

    @staticmethod
    def resolve_parcel(connection: Connection) -> dict[str, Any] | None:
        if not connection.parcel_upi:
            return None
        return {
            "upi": connection.parcel_upi,
            "village": connection.parcel_village,
            "cell": connection.parcel_cell,
            "sector": connection.parcel_sector,
            "district": connection.parcel_district,
            "area_m2": connection.parcel_area_m2,
            "land_use": connection.parcel_land_use,
            "owner_name": connection.parcel_owner_name,
            "looked_up_at": connection.parcel_looked_up_at,
        }


@router.get("/connections", response=list[ConnectionOut], summary="Connections, by prefix of their number")
@paginate(LimitOffsetPagination)
def connection_list(request: HttpRequest, q: str = "", customer_id: int | None = None) -> QuerySet[Connection]:
    require_api_roles(request, *CUSTOMER_READ_ROLES)
    access = request_access(request)
    customer = customer_get_for_access(access=access, customer_id=customer_id) if customer_id else None
    return connections_visible_to(access=access, customer=customer, search=q).order_by("number")


@router.post("/connections", response={201: ConnectionOut}, summary="Add a connection to a customer")
def connection_create_endpoint(request: HttpRequest, payload: ConnectionIn) -> Status[Any]:
    require_api_roles(request, *CUSTOMER_WRITE_ROLES)
    access = request_access(request)
    customer = _pick(
        customers_visible_to(access=access), payload.customer_id, "customer_id", _("Choose one of your customers.")
    )
    supply_system: SupplySystem | None = _pick(
        supply_systems_visible_to(access), payload.supply_system_id, "supply_system_id", _("Choose a supply system.")
    )
    cluster: Cluster | None = _pick(
        clusters_visible_to(access), payload.cluster_id, "cluster_id", _("Choose a cluster.")
    )
    route = _pick(routes_visible_to(access=access), payload.route_id, "route_id", _("Choose one of your routes."))
    chamber = _pick(
        chambers_visible_to(access=access), payload.chamber_id, "chamber_id", _("Choose one of your meter chambers.")
    )
    parcel = connection_parcel_resolve(payload.parcel_upi)
    connection = connection_create(
        operator=access.operator,
        customer=customer,
        number=payload.number,
        utility=payload.utility,
        property_type=payload.property_type,
        connection_type=payload.connection_type,
        metered=payload.metered,
        supply_system=supply_system,
        cluster=cluster,
        latitude=_decimal(payload.latitude, "latitude"),
        longitude=_decimal(payload.longitude, "longitude"),
        starts_on=payload.starts_on,
        opening_arrears=_decimal(payload.opening_arrears, "opening_arrears"),
        arrears_as_of=payload.arrears_as_of,
        route=route,
        reading_sequence=payload.reading_sequence,
        chamber=chamber,
        billing_cycle=payload.billing_cycle,
        parcel=parcel,
        assessed_usage=_decimal(payload.assessed_usage, "assessed_usage"),
        acting_user=request.user,
    )
    return Status(201, connection)


@router.get("/connections/{connection_id}", response=ConnectionOut, summary="One connection")
def connection_get(request: HttpRequest, connection_id: int) -> Connection:
    require_api_roles(request, *CUSTOMER_READ_ROLES)
    return connection_get_for_access(access=request_access(request), connection_id=connection_id)


@router.patch("/connections/{connection_id}", response=ConnectionOut, summary="Change a connection's description")
def connection_patch(request: HttpRequest, connection_id: int, payload: ConnectionPatch) -> Connection:
    require_api_roles(request, *CUSTOMER_WRITE_ROLES)
    connection = connection_get_for_access(access=request_access(request), connection_id=connection_id)
    changes = payload.dict(exclude_unset=True)
    if "number" in changes:
        raise ConnectionNumberImmutable(
            _("A connection number cannot be changed once the connection exists."),
            code="number_not_editable",
            fields={"number": [_("Not editable.")]},
        )
    for field in ("latitude", "longitude", "assessed_usage"):
        if field in changes:
            changes[field] = _decimal(changes[field], field)
    access = request_access(request)
    if "route_id" in changes:
        changes["route"] = _pick(
            routes_visible_to(access=access), changes.pop("route_id"), "route_id", _("Choose one of your routes.")
        )
    if "chamber_id" in changes:
        changes["chamber"] = _pick(
            chambers_visible_to(access=access),
            changes.pop("chamber_id"),
            "chamber_id",
            _("Choose one of your meter chambers."),
        )
    if "parcel_upi" in changes:
        changes["parcel"] = connection_parcel_resolve(changes.pop("parcel_upi") or "")
    if changes.get("billing_cycle", "") is None:
        changes.pop("billing_cycle")
    return connection_update(connection=connection, acting_user=request.user, **changes)


# The 360 view ----------------------------------------------------------------------------------------------


class OverviewOut(Schema):
    customer: CustomerOut
    counts: dict[str, int]  # the headline counts the apps contribute (a count no app gives is absent)
    panels: dict[str, dict[str, Any]]  # each visible panel's data, by panel key


@router.get(
    "/customers/{customer_id}/overview",
    response=OverviewOut,
    summary="The customer 360 view: headline counts and each panel's data the user's roles see",
)
def customer_overview(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    require_api_roles(request, *CUSTOMER_READ_ROLES)
    access = request_access(request)
    customer = customer_get_for_access(access=access, customer_id=customer_id)
    return {"customer": customer, **overview_for(access, customer)}


class NoteIn(Schema):
    text: str
    connection_id: int | None = None


class NoteOut(Schema):
    id: int
    text: str
    connection: str | None
    author: str | None
    created_at: datetime.datetime

    @staticmethod
    def resolve_connection(note: ServiceNote) -> str | None:
        return note.connection.number if note.connection else None

    @staticmethod
    def resolve_author(note: ServiceNote) -> str | None:
        return note.author.name if note.author else None


@router.post("/customers/{customer_id}/notes", response={201: NoteOut}, summary="Add a service note")
def customer_note_add(request: HttpRequest, customer_id: int, payload: NoteIn) -> Status[Any]:
    require_api_roles(request, *NOTE_ROLES)
    access = request_access(request)
    customer = customer_get_for_access(access=access, customer_id=customer_id)
    connection = _pick(
        connections_visible_to(access=access, customer=customer),
        payload.connection_id,
        "connection_id",
        _("Choose one of this customer's connections, or none."),
    )
    note = service_note_add(customer=customer, text=payload.text, connection=connection, acting_user=request.user)
    return Status(201, note)
