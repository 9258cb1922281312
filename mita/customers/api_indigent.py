"""API of the indigent register: list it (in force on a day, or all of it), register a household, read and end a
registration. Another operator's registrations are a 404."""

import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from mita.core.permissions import require_api_roles
from mita.customers.api import _pick
from mita.customers.indigent import (
    IndigentError,
    customer_by_account,
    indigent_end,
    indigent_get_for_access,
    indigent_register,
    indigent_register_visible_to,
)
from mita.customers.models import IndigentRegistration
from mita.customers.selectors import (
    CUSTOMER_READ_ROLES,
    CUSTOMER_WRITE_ROLES,
    customer_get_for_access,
    customers_visible_to,
)

router = Router(tags=["customers"])


class IndigentIn(Schema):
    """The household by `customer_id`, or by `account` (its customer number or one of its connections' numbers)."""

    customer_id: int | None = None
    account: str = ""
    reference: str
    evidence: str = ""
    valid_from: datetime.date
    valid_to: datetime.date | None = None


class IndigentEndIn(Schema):
    valid_to: datetime.date | None = None  # the last day; today when not given
    reason: str = ""


class IndigentOut(Schema):
    id: int
    customer_id: int
    customer_number: str
    customer_name: str
    reference: str
    evidence: str
    valid_from: datetime.date
    valid_to: datetime.date | None
    registered_by: str | None
    registered_at: datetime.datetime
    ended_by: str | None
    ended_at: datetime.datetime | None
    end_reason: str

    @staticmethod
    def resolve_customer_number(registration: IndigentRegistration) -> str:
        return registration.customer.number

    @staticmethod
    def resolve_customer_name(registration: IndigentRegistration) -> str:
        return registration.customer.name

    @staticmethod
    def resolve_registered_by(registration: IndigentRegistration) -> str | None:
        return registration.registered_by.name if registration.registered_by else None

    @staticmethod
    def resolve_ended_by(registration: IndigentRegistration) -> str | None:
        return registration.ended_by.name if registration.ended_by else None


@router.get(
    "/indigent-register",
    response=list[IndigentOut],
    summary="The indigent register: in force on a day (`on`, default today), or every registration (`every=true`)",
)
@paginate(LimitOffsetPagination)
def indigent_list(
    request: HttpRequest, on: datetime.date | None = None, every: bool = False, customer_id: int | None = None
) -> QuerySet[IndigentRegistration]:
    access = require_api_roles(request, *CUSTOMER_READ_ROLES)
    customer = customer_get_for_access(access=access, customer_id=customer_id) if customer_id else None
    day = None if every else (on or timezone.localdate())
    return indigent_register_visible_to(access=access, on=day, customer=customer)


@router.post("/indigent-register", response={201: IndigentOut}, summary="Put a household on the indigent register")
def indigent_create(request: HttpRequest, payload: IndigentIn) -> Status[Any]:
    access = require_api_roles(request, *CUSTOMER_WRITE_ROLES)
    if payload.customer_id is not None:
        customer = _pick(
            customers_visible_to(access=access), payload.customer_id, "customer_id", _("Choose one of your customers.")
        )
    else:
        customer = customer_by_account(operator=access.operator, account=payload.account)
        if customer is None:
            raise IndigentError(
                _("No customer or connection of yours has this number."),
                code="customer_invalid",
                fields={"account": [_("Give a customer number or a connection number.")]},
            )
    registration = indigent_register(
        operator=access.operator,
        customer=customer,
        reference=payload.reference,
        evidence=payload.evidence,
        valid_from=payload.valid_from,
        valid_to=payload.valid_to,
        acting_user=request.user,
    )
    return Status(201, indigent_get_for_access(access=access, indigent_id=registration.pk))


@router.get("/indigent-register/{indigent_id}", response=IndigentOut, summary="One registration")
def indigent_get(request: HttpRequest, indigent_id: int) -> IndigentRegistration:
    access = require_api_roles(request, *CUSTOMER_READ_ROLES)
    return indigent_get_for_access(access=access, indigent_id=indigent_id)


@router.post("/indigent-register/{indigent_id}/end", response=IndigentOut, summary="End a registration")
def indigent_end_endpoint(request: HttpRequest, indigent_id: int, payload: IndigentEndIn) -> IndigentRegistration:
    access = require_api_roles(request, *CUSTOMER_WRITE_ROLES)
    registration = indigent_get_for_access(access=access, indigent_id=indigent_id)
    indigent_end(registration=registration, acting_user=request.user, valid_to=payload.valid_to, reason=payload.reason)
    return indigent_get_for_access(access=access, indigent_id=indigent_id)
