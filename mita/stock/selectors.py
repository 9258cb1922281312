"""Reads of the materials catalogue: lists and lookups that 404 across operators."""

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from mita.accounts.roles import Role
from mita.core.access import Access
from mita.stock.models import Material

MATERIAL_READ_ROLES = (
    Role.OPERATOR_ADMIN,
    Role.STOREKEEPER,
    Role.TECHNICIAN,
    Role.CUSTOMER_CARE,
    Role.BILLING_OFFICER,
    Role.CASHIER,
)
MATERIAL_WRITE_ROLES = (Role.OPERATOR_ADMIN, Role.STOREKEEPER)


def _operator_of(access: Access) -> Any:
    if access.operator is None:
        raise Http404
    return access.operator


def materials_visible_to(*, access: Access, search: str = "", active: bool | None = None) -> QuerySet[Material]:
    """The operator's catalogue; a search is a prefix of the code or the name."""
    materials = Material.objects.filter(operator=_operator_of(access))
    if active is not None:
        materials = materials.filter(active=active)
    if term := search.strip():
        materials = materials.filter(Q(code__istartswith=term) | Q(name__istartswith=term))
    return materials.order_by("code")


def material_get_for_access(*, access: Access, material_id: int) -> Material:
    material = materials_visible_to(access=access).filter(pk=material_id).first()
    if material is None:
        raise Http404
    return material


def materials_by_id(*, operator: Any, ids: list[int]) -> dict[int, Material]:
    """The operator's materials among these ids (another operator's ids are simply absent)."""
    return {material.pk: material for material in Material.objects.filter(operator=operator, pk__in=ids)}
