"""Reads about contracts and the start-of-operations checklist, with the tenancy rules applied.

Who reads which contracts (`contracts_visible_to`):
- the regulator's admins and viewers: every contract;
- a district officer: the district contracts of their own district, for the operators that operate there;
- a national utility user: every contract submitted by national utility users. The national utility works as
  one organisation, so a colleague can follow up a submission; they see no district contract;
- an operator admin: their own operator's contracts, of both kinds (read-only).
Any other role reads none. A contract outside these rules is a 404, never a 403.
"""

import dataclasses
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from mita.accounts.roles import Role
from mita.core.access import Access
from mita.registry.models import Boundary, Contract, Operator, Requirement, RequirementCheck
from mita.registry.selectors import operators_visible_to

CONTRACT_READ_ROLES = (
    Role.REGULATOR_ADMIN,
    Role.REGULATOR_VIEWER,
    Role.DISTRICT_OFFICER,
    Role.NATIONAL_UTILITY_USER,
    Role.OPERATOR_ADMIN,
)
CHECKLIST_READ_ROLES = (Role.REGULATOR_ADMIN, Role.REGULATOR_VIEWER, Role.DISTRICT_OFFICER, Role.OPERATOR_ADMIN)
DISTRICT_READ_ROLES = (Role.REGULATOR_ADMIN, Role.REGULATOR_VIEWER, Role.DISTRICT_OFFICER)
REQUIREMENT_READ_ROLES = (Role.REGULATOR_ADMIN, Role.REGULATOR_VIEWER)


def _district_of(access: Access) -> Boundary | None:
    """The district of a district workspace (the core's Access protocol does not name it)."""
    return getattr(access, "district", None)


# -- the checklist ------------------------------------------------------------------------------------------------


def requirements_active() -> QuerySet[Requirement]:
    return Requirement.objects.filter(is_active=True).order_by("order", "pk")


def operator_operates_in(*, operator: Operator, district: Boundary) -> bool:
    return operator.districts.filter(pk=district.pk).exists()


def operator_cleared_to_operate(operator: Operator, district: Boundary) -> bool:
    """Whether the operator may start operations in the district: it operates there and every active requirement
    of the checklist is ticked for it in that district. With no active requirement at all, nothing stands in the way.
    """
    if not operator_operates_in(operator=operator, district=district):
        return False
    missing = requirements_active().exclude(checks__operator=operator, checks__district=district)
    return not missing.exists()


@dataclasses.dataclass(frozen=True)
class ChecklistItem:
    requirement: Requirement
    check: RequirementCheck | None

    @property
    def checked(self) -> bool:
        return self.check is not None


@dataclasses.dataclass(frozen=True)
class Checklist:
    operator: Operator
    district: Boundary
    items: list[ChecklistItem]

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def checked(self) -> int:
        return sum(1 for item in self.items if item.checked)

    @property
    def cleared(self) -> bool:
        # The page's operator always operates in the district (checklist_for is only reached through the lookups).
        return self.checked == self.total


def checklist_for(*, operator: Operator, district: Boundary) -> Checklist:
    """The active requirements in order, each with its tick (or None) for this operator in this district."""
    checks = {
        check.requirement_id: check
        for check in RequirementCheck.objects.filter(operator=operator, district=district).select_related("checked_by")
    }
    items = [ChecklistItem(requirement, checks.get(requirement.pk)) for requirement in requirements_active()]
    return Checklist(operator=operator, district=district, items=items)


def _count_of(queryset: QuerySet[Any]) -> Coalesce:
    """A correlated COUNT(*) of queryset (already filtered on OuterRef), 0 when there is no row."""
    counted = queryset.order_by().values("operator").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def district_operators(*, district: Boundary) -> QuerySet[Operator]:
    """The operators of a district with `checked_count`, `requirements_total`, `is_cleared` and `contracts_count`."""
    total = requirements_active().count()
    checked = RequirementCheck.objects.filter(operator=OuterRef("pk"), district=district, requirement__is_active=True)
    contracts = Contract.objects.filter(operator=OuterRef("pk"), district=district, kind=Contract.Kind.DISTRICT)
    return (
        Operator.objects.filter(districts=district)
        .annotate(checked_count=_count_of(checked), contracts_count=_count_of(contracts))
        .annotate(
            is_cleared=ExpressionWrapper(Q(checked_count__gte=total), output_field=BooleanField()),
            requirements_total=Value(total, output_field=IntegerField()),
        )
    )


def district_operators_not_cleared_count(*, district: Boundary) -> int:
    total = requirements_active().count()
    if total == 0:
        return 0
    return district_operators(district=district).filter(Q(checked_count__lt=total)).count()


@dataclasses.dataclass(frozen=True)
class Clearance:
    district: Boundary
    checked: int
    total: int

    @property
    def cleared(self) -> bool:
        return self.checked >= self.total


def operator_clearances(*, operator: Operator) -> list[Clearance]:
    """For each district the operator operates in: how much of the checklist is ticked."""
    total = requirements_active().count()
    checked = dict(
        RequirementCheck.objects.filter(operator=operator, requirement__is_active=True)
        .values("district")
        .annotate(n=Count("pk"))
        .values_list("district", "n")
    )
    return [
        Clearance(district=district, checked=checked.get(district.pk, 0), total=total)
        for district in operator.districts.order_by("name")
    ]


# -- contracts ----------------------------------------------------------------------------------------------------


def contracts_visible_to(access: Access) -> QuerySet[Contract]:
    """The contracts the user's workspace may read (see the module's docstring)."""
    contracts = Contract.objects.select_related("operator", "district", "uploaded_by", "decided_by")
    if access.has_role(Role.REGULATOR_ADMIN, Role.REGULATOR_VIEWER) and access.operator_ids() is None:
        return contracts
    rule = Q(pk__in=[])
    district = _district_of(access)
    if district is not None and access.has_role(Role.DISTRICT_OFFICER):
        operator_ids = access.operator_ids() or ()
        rule |= Q(kind=Contract.Kind.DISTRICT, district=district, operator_id__in=list(operator_ids))
    if access.has_role(Role.NATIONAL_UTILITY_USER):
        rule |= Q(kind=Contract.Kind.NATIONAL_UTILITY)
    if access.operator is not None and access.has_role(Role.OPERATOR_ADMIN):
        rule |= Q(operator=access.operator)
    return contracts.filter(rule)


def contract_get_for_access(*, access: Access, contract_id: int) -> Contract:
    """One contract the user may read, or 404."""
    contract = contracts_visible_to(access).filter(pk=contract_id).first()
    if contract is None:
        raise Http404
    return contract


def contracts_waiting_for_verification() -> QuerySet[Contract]:
    return Contract.objects.filter(kind=Contract.Kind.NATIONAL_UTILITY, status=Contract.Status.PENDING).select_related(
        "operator", "uploaded_by"
    )


def contracts_waiting_for_verification_count() -> int:
    return contracts_waiting_for_verification().count()


def contracts_of_operator_in_district(*, operator: Operator, district: Boundary) -> QuerySet[Contract]:
    return Contract.objects.filter(operator=operator, district=district, kind=Contract.Kind.DISTRICT).select_related(
        "uploaded_by"
    )


# -- lookups with the tenancy rules ---------------------------------------------------------------------------------


def district_get_for_access(*, access: Access, district_id: int) -> Boundary:
    """A district the user oversees: any for the regulator, their own for a district officer; else 404."""
    district = Boundary.objects.districts().filter(pk=district_id).first()
    if district is None:
        raise Http404
    if access.has_role(Role.REGULATOR_ADMIN, Role.REGULATOR_VIEWER) and access.operator_ids() is None:
        return district
    own = _district_of(access)
    if own is not None and own.pk == district.pk and access.has_role(Role.DISTRICT_OFFICER):
        return district
    raise Http404


def district_operator_get_for_access(
    *, access: Access, district_id: int, operator_id: int
) -> tuple[Boundary, Operator]:
    """An operator in a district, as the user may see it: the regulator any; a district officer only in their own
    district; an operator's user only their own operator. The operator must operate in the district. Else 404."""
    district = Boundary.objects.districts().filter(pk=district_id).first()
    if district is None:
        raise Http404
    own = _district_of(access)
    if own is not None and own.pk != district.pk:
        raise Http404
    operator = operators_visible_to(access).filter(pk=operator_id, districts=district).first()
    if operator is None:
        raise Http404
    return district, operator


def may_act_in_district(*, access: Access, district: Boundary) -> bool:
    """Only the district's own officer ticks the checklist and uploads district contracts."""
    own = _district_of(access)
    return own is not None and own.pk == district.pk and access.has_role(Role.DISTRICT_OFFICER)
