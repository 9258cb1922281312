"""Reads of service requests: lists with filters, lookups that 404 across operators, what waits for a user (the
badges and "My tasks"), the terms in force, the fee schedule, and whether a fee is paid."""

from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from mita.accounts.models import Membership, User
from mita.accounts.roles import Role
from mita.core.access import Access
from mita.payments.models import Allocation, ChargeCancellation
from mita.servicing.models import (
    RequestAttachment,
    RequestEvent,
    RequestFee,
    ServiceFee,
    ServiceRequest,
    TermsVersion,
    WorkOrder,
)
from mita.servicing.workflow import type_get, types

# Customer care creates and reviews; technicians do work orders; billing officers and cashiers see the fees.
REQUEST_READ_ROLES = (
    Role.OPERATOR_ADMIN,
    Role.CUSTOMER_CARE,
    Role.TECHNICIAN,
    Role.BILLING_OFFICER,
    Role.CASHIER,
)
REQUEST_WRITE_ROLES = (Role.OPERATOR_ADMIN, Role.CUSTOMER_CARE)
WORK_ORDER_ROLES = (Role.OPERATOR_ADMIN, Role.CUSTOMER_CARE, Role.TECHNICIAN)
FEE_READ_ROLES = (Role.OPERATOR_ADMIN, Role.CUSTOMER_CARE, Role.BILLING_OFFICER, Role.CASHIER)
ADMIN_ROLES = (Role.OPERATOR_ADMIN,)
# Billing officers approve disconnections and package changes; cashiers settle terminations: they have tasks too.
TASK_ROLES = (Role.OPERATOR_ADMIN, Role.CUSTOMER_CARE, Role.TECHNICIAN, Role.BILLING_OFFICER, Role.CASHIER)


def _operator_of(access: Access) -> Any:
    if access.operator is None:
        raise Http404
    return access.operator


def requests_visible_to(
    *,
    access: Access,
    type: str = "",
    state: str = "",
    assignee: int | None = None,
    search: str = "",
) -> QuerySet[ServiceRequest]:
    requests = ServiceRequest.objects.filter(operator=_operator_of(access)).select_related(
        "customer", "connection", "assignee"
    )
    if type:
        requests = requests.filter(type=type)
    if state:
        requests = requests.filter(state=state)
    if assignee:
        requests = requests.filter(assignee_id=assignee)
    if term := search.strip():
        requests = requests.filter(
            Q(number__istartswith=term) | Q(customer__name__istartswith=term) | Q(connection__number__istartswith=term)
        )
    return requests.order_by("-sequence_number")


def request_get_for_access(*, access: Access, request_id: int) -> ServiceRequest:
    request = requests_visible_to(access=access).filter(pk=request_id).first()
    if request is None:
        raise Http404
    return request


def events_of(*, request: ServiceRequest) -> QuerySet[RequestEvent]:
    return request.events.select_related("by").order_by("at", "pk")


def attachment_get_for_access(*, access: Access, request: ServiceRequest, attachment_id: int) -> RequestAttachment:
    attachment = RequestAttachment.objects.filter(
        operator=_operator_of(access), request=request, pk=attachment_id
    ).first()
    if attachment is None:
        raise Http404
    return attachment


def _waiting_filter(*, roles: frozenset[str], user: Any) -> Q:
    """Requests in a state one of these roles acts on; where only the assignee acts, only the user's own."""
    match = Q(pk__in=[])
    for request_type in types():
        for state in request_type.states:
            steps = [
                step
                for step in request_type.transitions_from(state.name)
                if not step.system and step.waits and step.roles & roles
            ]
            if not steps:
                continue
            here = Q(type=request_type.key, state=state.name)
            if all(step.assignee_only for step in steps) and Role.OPERATOR_ADMIN not in roles:
                here &= Q(assignee=user)
            match |= here
    return match


def requests_waiting_for(*, access: Access) -> QuerySet[ServiceRequest]:
    return requests_visible_to(access=access).filter(_waiting_filter(roles=frozenset(access.roles), user=access.user))


def work_orders_visible_to(
    *, access: Access, mine: bool = False, state: str = "", kind: str = ""
) -> QuerySet[WorkOrder]:
    work_orders = WorkOrder.objects.filter(operator=_operator_of(access)).select_related(
        "request", "request__customer", "request__connection", "assignee"
    )
    if mine or not access.has_role(Role.OPERATOR_ADMIN, Role.CUSTOMER_CARE):
        work_orders = work_orders.filter(assignee=access.user)  # a technician sees their own
    if state:
        work_orders = work_orders.filter(state=state)
    if kind:
        work_orders = work_orders.filter(kind=kind)
    return work_orders.order_by("-sequence_number")


def work_order_get_for_access(*, access: Access, work_order_id: int) -> WorkOrder:
    work_order = work_orders_visible_to(access=access).filter(pk=work_order_id).first()
    if work_order is None:
        raise Http404
    return work_order


def work_orders_waiting_for(*, access: Access) -> QuerySet[WorkOrder]:
    return work_orders_visible_to(access=access, mine=True).filter(
        state__in=[WorkOrder.State.OPEN, WorkOrder.State.IN_PROGRESS]
    )


def tasks_waiting_count(access: Access) -> int | None:
    """The badge: requests waiting for the user's roles and work orders assigned to them."""
    if access.operator is None:
        return None
    return requests_waiting_for(access=access).count() + work_orders_waiting_for(access=access).count()


def technicians_of(*, operator: Any) -> QuerySet[User]:
    memberships = Membership.objects.active().filter(operator=operator, role=Role.TECHNICIAN)
    return User.objects.filter(pk__in=memberships.values("user_id")).order_by("name")


def terms_current(*, operator: Any) -> TermsVersion | None:
    """The terms in force today: the latest effective version."""
    return (
        TermsVersion.objects.filter(operator=operator, effective_from__lte=timezone.localdate())
        .order_by("-effective_from", "-pk")
        .first()
    )


def terms_of(*, access: Access) -> QuerySet[TermsVersion]:
    return TermsVersion.objects.filter(operator=_operator_of(access)).order_by("-effective_from", "-pk")


def fees_visible_to(*, access: Access, active: bool | None = True) -> QuerySet[ServiceFee]:
    fees = ServiceFee.objects.filter(operator=_operator_of(access))
    if active is not None:
        fees = fees.filter(active=active)
    return fees.order_by("kind", "utility", "property_type", "-pk")


def fee_get_for_access(*, access: Access, fee_id: int) -> ServiceFee:
    fee = fees_visible_to(access=access, active=None).filter(pk=fee_id).first()
    if fee is None:
        raise Http404
    return fee


def service_fee_for(*, operator: Any, kind: str, utility: str, property_type: str) -> ServiceFee | None:
    """The schedule's line for this connection: the property type's own, else the one for every property type."""
    lines = ServiceFee.objects.filter(operator=operator, kind=kind, utility=utility, active=True)
    return lines.filter(property_type=property_type).first() or lines.filter(property_type="").first()


def fee_paid_amount(*, fee: RequestFee) -> Decimal:
    """What payments (and credit) have cleared of the fee's charge so far."""
    paid = Allocation.objects.filter(charge_id=fee.charge_id, voided=False).aggregate(total=Sum("amount"))["total"]
    return paid or Decimal("0")


def fee_is_paid(*, fee: RequestFee) -> bool:
    """Fully paid, and not cancelled (a cancelled charge was not paid: the request waits for a new decision)."""
    if ChargeCancellation.objects.filter(charge_id=fee.charge_id).exists():
        return False
    return fee_paid_amount(fee=fee) >= fee.amount


def fees_of(*, request: ServiceRequest) -> list[RequestFee]:
    fees = list(request.fees.select_related("charge").order_by("pk"))
    for fee in fees:
        fee.paid = fee_paid_amount(fee=fee)  # type: ignore[attr-defined]
        fee.open = max(fee.amount - fee.paid, Decimal("0"))  # type: ignore[attr-defined]
    return fees


def request_by_quote_token(*, token: str) -> ServiceRequest:
    if not token or len(token) > 64:
        raise Http404
    request = (
        ServiceRequest.objects.filter(quote_token=token).select_related("operator", "customer", "connection").first()
    )
    if request is None:
        raise Http404
    return request


def requests_with_fees_due(*, limit: int = 500) -> QuerySet[ServiceRequest]:
    """Requests waiting for a fee (the sweep checks whether it has been paid), oldest first."""
    waiting = Q(pk__in=[])
    for request_type in types():
        if request_type.advance is not None and request_type.advance_states:
            waiting |= Q(type=request_type.key, state__in=request_type.advance_states)
    return ServiceRequest.objects.filter(waiting).order_by("pk")[:limit]


def state_label(request: ServiceRequest) -> Any:
    return type_get(request.type).state(request.state).label
