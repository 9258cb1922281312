"""API for clusters, their assignments to operators and their supply systems."""

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from mita.accounts.roles import Role
from mita.core.errors import DomainError
from mita.registry.models import Boundary, Cluster, ClusterAssignment, Operator, SupplySystem
from mita.registry.selectors_clusters import (
    assignments_in_force,
    cluster_assignments_for,
    cluster_get_for_access,
    clusters_with_holders,
    days_to_expiry,
    holder_in_force,
    supply_system_get_for_access,
    supply_systems_visible_to,
)
from mita.registry.services.clusters import cluster_assign, cluster_create, cluster_move, supply_system_register

router = Router(tags=["clusters"])

MANAGER_ROLES = (Role.REGULATOR_ADMIN,)
# The services name fields as the forms do; the API's bodies name them by id.
API_FIELDS = {
    "operator": "operator_id",
    "to_operator": "to_operator_id",
    "district": "district_id",
    "districts": "district_ids",
}


@contextmanager
def _api_field_names() -> Iterator[None]:
    try:
        yield
    except DomainError as error:
        error.fields = {API_FIELDS.get(field, field): messages for field, messages in error.fields.items()}
        raise


class ClusterOut(Schema):
    id: int
    code: str
    name: str
    district_ids: list[int]
    operator_id: int | None  # the operator holding it today (among those you may see)
    expires_on: datetime.date | None  # that holder's expiry
    days_to_expiry: int | None

    @staticmethod
    def resolve_district_ids(cluster: Cluster) -> list[int]:
        return [district.pk for district in cluster.districts.all()]

    @staticmethod
    def resolve_operator_id(cluster: Cluster) -> int | None:
        return cluster.holder_id if holder_in_force(cluster, today=timezone.localdate()) else None  # type: ignore[attr-defined]

    @staticmethod
    def resolve_expires_on(cluster: Cluster) -> datetime.date | None:
        return cluster.holder_expires_on if holder_in_force(cluster, today=timezone.localdate()) else None  # type: ignore[attr-defined]

    @staticmethod
    def resolve_days_to_expiry(cluster: Cluster) -> int | None:
        return days_to_expiry(cluster, today=timezone.localdate())


class AssignmentOut(Schema):
    id: int
    cluster_id: int
    operator_id: int
    starts_on: datetime.date
    expires_on: datetime.date
    ended_on: datetime.date | None
    last_day: datetime.date


class ClusterDetailOut(ClusterOut):
    assignments: list[AssignmentOut]  # the history you may see, newest first

    @staticmethod
    def resolve_assignments(cluster: Cluster) -> list[ClusterAssignment]:
        return cluster.assignments_visible  # type: ignore[attr-defined]


class SupplySystemOut(Schema):
    id: int
    cluster_id: int
    kind: str
    name: str
    code: str
    district_id: int | None
    technology: str
    capacity_m3_per_day: Decimal | None
    source: str
    capacity_kw: Decimal | None
    generation_mix: dict[str, int | float]


class ClusterIn(Schema):
    code: str
    name: str
    district_ids: list[int] = []


class AssignmentIn(Schema):
    operator_id: int
    starts_on: datetime.date
    expires_on: datetime.date


class MoveIn(Schema):
    to_operator_id: int
    on: datetime.date
    expires_on: datetime.date


class SupplySystemIn(Schema):
    kind: str
    name: str
    code: str
    district_id: int | None = None
    technology: str = ""
    capacity_m3_per_day: Decimal | None = None
    source: str = ""
    capacity_kw: Decimal | None = None
    generation_mix: dict[str, Any] = {}


def _require_manager(request: HttpRequest) -> None:
    if not request.access.has_role(*MANAGER_ROLES):  # type: ignore[attr-defined]
        raise PermissionDenied


def _cluster_for_manager(request: HttpRequest, cluster_id: int) -> Cluster:
    """Another operator's cluster is a 404 whatever the role; then only the regulator's admins may change it."""
    cluster = cluster_get_for_access(access=request.access, cluster_id=cluster_id)  # type: ignore[attr-defined]
    _require_manager(request)
    return cluster


def _clusters(request: HttpRequest) -> QuerySet[Cluster]:
    access = request.access  # type: ignore[attr-defined]
    return clusters_with_holders(access, today=timezone.localdate()).prefetch_related("districts")


def _operator(operator_id: int, field: str) -> Operator:
    try:
        return Operator.objects.get(pk=operator_id)
    except Operator.DoesNotExist:
        message = _("There is no such operator.")
        raise DomainError(message, code="unknown_operator", fields={field: [message]}) from None


def _district(district_id: int | None, field: str) -> Boundary | None:
    if district_id is None:
        return None
    districts = _districts([district_id], field)
    return districts[0]


def _districts(district_ids: list[int], field: str) -> list[Boundary]:
    districts = list(Boundary.objects.districts().filter(pk__in=district_ids).select_related("type"))
    if len(districts) != len(set(district_ids)):
        message = _("Choose districts only.")
        raise DomainError(message, code="unknown_district", fields={field: [message]})
    return districts


@router.get("/clusters", response=list[ClusterOut], summary="Clusters you may see")
@paginate(LimitOffsetPagination)
def cluster_list(request: HttpRequest, q: str = "", operator_id: int | None = None) -> QuerySet[Cluster]:
    """The regulator sees every cluster; a district the clusters of its operators; an operator its own."""
    clusters = _clusters(request)
    if q := q.strip():
        clusters = clusters.filter(Q(code__icontains=q) | Q(name__icontains=q))
    if operator_id is not None:
        held = assignments_in_force(operator_id=operator_id, on=timezone.localdate())
        clusters = clusters.filter(pk__in=held.values("cluster_id"))
    return clusters.order_by("code", "pk")


@router.post("/clusters", response={201: ClusterOut}, summary="Create a cluster (regulator admins)")
def cluster_create_endpoint(request: HttpRequest, payload: ClusterIn) -> Status[Cluster]:
    _require_manager(request)
    with _api_field_names():
        cluster = cluster_create(
            name=payload.name,
            code=payload.code,
            districts=_districts(payload.district_ids, "district_ids"),
            acting_user=request.user,  # type: ignore[arg-type]
        )
    return Status(201, _clusters(request).get(pk=cluster.pk))


@router.get("/clusters/{cluster_id}", response=ClusterDetailOut, summary="One cluster with its assignments")
def cluster_get(request: HttpRequest, cluster_id: int) -> Cluster:
    access = request.access  # type: ignore[attr-defined]
    cluster = cluster_get_for_access(access=access, cluster_id=cluster_id)
    cluster = _clusters(request).get(pk=cluster.pk)
    cluster.assignments_visible = list(cluster_assignments_for(access=access, cluster=cluster))  # type: ignore[attr-defined]
    return cluster


@router.get(
    "/clusters/{cluster_id}/assignments", response=list[AssignmentOut], summary="A cluster's assignment history"
)
def cluster_assignment_list(request: HttpRequest, cluster_id: int) -> list[ClusterAssignment]:
    access = request.access  # type: ignore[attr-defined]
    cluster = cluster_get_for_access(access=access, cluster_id=cluster_id)
    return list(cluster_assignments_for(access=access, cluster=cluster))


@router.post(
    "/clusters/{cluster_id}/assignments",
    response={201: AssignmentOut},
    summary="Assign a cluster to an operator (regulator admins)",
)
def cluster_assign_endpoint(request: HttpRequest, cluster_id: int, payload: AssignmentIn) -> Status[ClusterAssignment]:
    cluster = _cluster_for_manager(request, cluster_id)
    with _api_field_names():
        assignment = cluster_assign(
            cluster=cluster,
            operator=_operator(payload.operator_id, "operator_id"),
            starts_on=payload.starts_on,
            expires_on=payload.expires_on,
            acting_user=request.user,  # type: ignore[arg-type]
        )
    return Status(201, assignment)


@router.post(
    "/clusters/{cluster_id}/move",
    response={201: AssignmentOut},
    summary="Move a cluster to another operator from a date (regulator admins)",
)
def cluster_move_endpoint(request: HttpRequest, cluster_id: int, payload: MoveIn) -> Status[ClusterAssignment]:
    cluster = _cluster_for_manager(request, cluster_id)
    with _api_field_names():
        assignment = cluster_move(
            cluster=cluster,
            to_operator=_operator(payload.to_operator_id, "to_operator_id"),
            on=payload.on,
            expires_on=payload.expires_on,
            acting_user=request.user,  # type: ignore[arg-type]
        )
    return Status(201, assignment)


@router.get("/supply-systems", response=list[SupplySystemOut], summary="Supply systems you may see")
@paginate(LimitOffsetPagination)
def supply_system_list(request: HttpRequest, cluster_id: int | None = None, kind: str = "") -> QuerySet[SupplySystem]:
    supply_systems = supply_systems_visible_to(request.access)  # type: ignore[attr-defined]
    if cluster_id is not None:
        supply_systems = supply_systems.filter(cluster_id=cluster_id)
    if kind:
        supply_systems = supply_systems.filter(kind=kind)
    return supply_systems.order_by("code", "pk")


@router.get("/supply-systems/{supply_system_id}", response=SupplySystemOut, summary="One supply system")
def supply_system_get(request: HttpRequest, supply_system_id: int) -> SupplySystem:
    return supply_system_get_for_access(access=request.access, supply_system_id=supply_system_id)  # type: ignore[attr-defined]


@router.get(
    "/clusters/{cluster_id}/supply-systems", response=list[SupplySystemOut], summary="A cluster's supply systems"
)
def cluster_supply_system_list(request: HttpRequest, cluster_id: int) -> list[SupplySystem]:
    cluster = cluster_get_for_access(access=request.access, cluster_id=cluster_id)  # type: ignore[attr-defined]
    return list(cluster.supply_systems.order_by("code"))


@router.post(
    "/clusters/{cluster_id}/supply-systems",
    response={201: SupplySystemOut},
    summary="Register a water supply system or a mini-grid plant (regulator admins)",
)
def supply_system_register_endpoint(
    request: HttpRequest, cluster_id: int, payload: SupplySystemIn
) -> Status[SupplySystem]:
    cluster = _cluster_for_manager(request, cluster_id)
    with _api_field_names():
        supply_system = supply_system_register(
            cluster=cluster,
            kind=payload.kind,
            name=payload.name,
            code=payload.code,
            district=_district(payload.district_id, "district_id"),
            technology=payload.technology,
            capacity_m3_per_day=payload.capacity_m3_per_day,
            source=payload.source,
            capacity_kw=payload.capacity_kw,
            generation_mix=payload.generation_mix,
            acting_user=request.user,  # type: ignore[arg-type]
        )
    return Status(201, supply_system)
