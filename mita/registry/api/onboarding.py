"""API for onboarding operators, licences, grace periods and whether an operator may bill."""

import datetime

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from mita.accounts.roles import Role
from mita.core.permissions import require_api_roles
from mita.registry.models import Boundary, GracePeriod, Licence, Operator
from mita.registry.selectors import operator_billing_permission, operators_visible_to
from mita.registry.services.onboarding import grace_period_grant, operator_onboard

router = Router(tags=["registry"])


class OnboardIn(Schema):
    licence_number: str
    kind: Operator.Kind
    utility: Operator.Utility
    currency: str
    country_code: str
    name: str = ""
    district_ids: list[int] | None = None
    language: str = "en"


class OnboardOut(Schema):
    id: int
    name: str
    prefix: str


class GracePeriodOut(Schema):
    id: int
    starts_on: datetime.date
    ends_on: datetime.date
    reason: str


class LicenceOut(Schema):
    id: int
    number: str
    operator_id: int | None
    holder_name: str
    tin: str
    email: str
    phone: str
    status: str
    issued_on: datetime.date
    expires_on: datetime.date
    services: list[str]
    fetched_at: datetime.datetime
    grace_periods: list[GracePeriodOut]

    @staticmethod
    def resolve_grace_periods(licence: Licence) -> list[GracePeriod]:
        return list(licence.grace_periods.all())


class GracePeriodIn(Schema):
    starts_on: datetime.date
    ends_on: datetime.date
    reason: str


class BillingPermissionOut(Schema):
    operator_id: int
    on: datetime.date
    allowed: bool
    reason: str
    grace_period_id: int | None


@router.post("/onboarding", response={201: OnboardOut}, summary="Onboard an operator from its licence")
def onboard(request: HttpRequest, payload: OnboardIn) -> Status[Operator]:
    require_api_roles(request, Role.REGULATOR_ADMIN)
    districts = None
    if payload.district_ids:
        districts = list(Boundary.objects.districts().filter(pk__in=payload.district_ids))
    operator = operator_onboard(
        licence_number=payload.licence_number,
        kind=payload.kind,
        utility=payload.utility,
        currency=payload.currency,
        country_code=payload.country_code,
        name=payload.name,
        districts=districts,
        language=payload.language,
        acting_user=request.user,
    )
    return Status(201, operator)


@router.get("/licences", response=list[LicenceOut], summary="Licences (the regulator)")
@paginate(LimitOffsetPagination)
def licence_list(request: HttpRequest, status: str = "") -> QuerySet[Licence]:
    require_api_roles(request, Role.REGULATOR_ADMIN, Role.REGULATOR_VIEWER)
    licences = Licence.objects.prefetch_related("grace_periods").order_by("number")
    return licences.filter(status=status) if status else licences


@router.get("/licences/{licence_id}", response=LicenceOut, summary="One licence (the regulator)")
def licence_get(request: HttpRequest, licence_id: int) -> Licence:
    require_api_roles(request, Role.REGULATOR_ADMIN, Role.REGULATOR_VIEWER)
    return get_object_or_404(Licence, pk=licence_id)


@router.post("/licences/{licence_id}/grace-periods", response={201: GracePeriodOut}, summary="Grant a grace period")
def grace_period_create(request: HttpRequest, licence_id: int, payload: GracePeriodIn) -> Status[GracePeriod]:
    require_api_roles(request, Role.REGULATOR_ADMIN)
    licence = get_object_or_404(Licence, pk=licence_id)
    return Status(201, grace_period_grant(licence=licence, acting_user=request.user, **payload.dict()))


@router.get(
    "/operators/{operator_id}/may-bill", response=BillingPermissionOut, summary="May the operator bill that day"
)
def may_bill(request: HttpRequest, operator_id: int, on: datetime.date | None = None) -> dict[str, object]:
    operator = get_object_or_404(operators_visible_to(request.access), pk=operator_id)  # type: ignore[attr-defined]
    day = on or timezone.localdate()
    permission = operator_billing_permission(operator, day)
    return {
        "operator_id": operator.pk,
        "on": day,
        "allowed": permission.allowed,
        "reason": permission.reason,
        "grace_period_id": permission.grace_period.pk if permission.grace_period else None,
    }
