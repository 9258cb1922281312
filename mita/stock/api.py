"""API of the materials catalogue: list, add, read, change. Prices travel as decimal strings, never floats."""

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from mita.core.permissions import request_access, require_api_roles
from mita.stock.models import Material
from mita.stock.selectors import (
    MATERIAL_READ_ROLES,
    MATERIAL_WRITE_ROLES,
    material_get_for_access,
    materials_visible_to,
)
from mita.stock.services import material_create, material_update

router = Router(tags=["stock"])


class MaterialIn(Schema):
    code: str
    name: str
    unit: str
    unit_price: str  # a decimal string in the operator's currency
    properties: dict[str, Any] = {}
    active: bool = True


class MaterialPatch(Schema):
    code: str | None = None  # here only to be refused with a clear message when it differs
    name: str | None = None
    unit: str | None = None
    unit_price: str | None = None
    properties: dict[str, Any] | None = None
    active: bool | None = None


class MaterialOut(Schema):
    id: int
    code: str
    name: str
    unit: str
    properties: dict[str, Any]
    unit_price: Decimal
    active: bool
    created_at: datetime.datetime


@router.get("/materials", response=list[MaterialOut], summary="The materials catalogue")
@paginate(LimitOffsetPagination)
def material_list(request: HttpRequest, q: str = "", active: bool | None = None) -> QuerySet[Material]:
    require_api_roles(request, *MATERIAL_READ_ROLES)
    return materials_visible_to(access=request_access(request), search=q, active=active)


@router.post("/materials", response={201: MaterialOut}, summary="Add a catalogue item")
def material_create_endpoint(request: HttpRequest, payload: MaterialIn) -> Status[Any]:
    require_api_roles(request, *MATERIAL_WRITE_ROLES)
    material = material_create(operator=request_access(request).operator, acting_user=request.user, **payload.dict())
    return Status(201, material)


@router.get("/materials/{material_id}", response=MaterialOut, summary="One catalogue item")
def material_get(request: HttpRequest, material_id: int) -> Material:
    require_api_roles(request, *MATERIAL_READ_ROLES)
    return material_get_for_access(access=request_access(request), material_id=material_id)


@router.patch("/materials/{material_id}", response=MaterialOut, summary="Change a catalogue item")
def material_patch(request: HttpRequest, material_id: int, payload: MaterialPatch) -> Material:
    require_api_roles(request, *MATERIAL_WRITE_ROLES)
    material = material_get_for_access(access=request_access(request), material_id=material_id)
    return material_update(material=material, acting_user=request.user, **payload.dict(exclude_unset=True))
