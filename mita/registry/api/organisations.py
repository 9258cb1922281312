"""API for the operators a user may see and the boundary hierarchy."""

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from mita.registry.models import Boundary, Operator
from mita.registry.selectors import operators_visible_to

router = Router(tags=["registry"])


class OperatorOut(Schema):
    id: int
    name: str
    kind: str
    utility: str
    prefix: str
    country_code: str
    currency: str
    district_ids: list[int]

    @staticmethod
    def resolve_district_ids(operator: Operator) -> list[int]:
        return [district.pk for district in operator.districts.all()]


class BoundaryOut(Schema):
    id: int
    name: str
    code: str
    type: str
    parent_id: int | None

    @staticmethod
    def resolve_type(boundary: Boundary) -> str:
        return boundary.type.code


@router.get("/operators", response=list[OperatorOut], summary="Operators you may see")
@paginate(LimitOffsetPagination)
def operator_list(request: HttpRequest) -> QuerySet[Operator]:
    return operators_visible_to(request.access).prefetch_related("districts").order_by("name")  # type: ignore[attr-defined]


@router.get("/operators/{operator_id}", response=OperatorOut, summary="One operator")
def operator_get(request: HttpRequest, operator_id: int) -> Operator:
    return get_object_or_404(operators_visible_to(request.access), pk=operator_id)  # type: ignore[attr-defined]


@router.get("/boundaries", response=list[BoundaryOut], summary="The boundary hierarchy")
@paginate(LimitOffsetPagination)
def boundary_list(request: HttpRequest, type: str = "", parent_id: int | None = None) -> QuerySet[Boundary]:
    boundaries = Boundary.objects.select_related("type").order_by("type__depth", "name")
    if type:
        boundaries = boundaries.filter(type__code=type)
    if parent_id is not None:
        boundaries = boundaries.filter(parent_id=parent_id)
    return boundaries
