"""API of service requests and work orders: list, create (complaints; new connections from agents and the portal),
read with the history, take a transition, comment; work orders and their results; the fee schedule.

Office applications need the signed form: they are made on the page, which takes the upload (docs/servicing.md).
"""

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from mita.core.permissions import request_access, require_api_roles
from mita.customers.selectors import connections_visible_to, customers_visible_to
from mita.servicing.models import ServiceFee, ServiceRequest, WorkOrder
from mita.servicing.selectors import (
    ADMIN_ROLES,
    FEE_READ_ROLES,
    REQUEST_READ_ROLES,
    REQUEST_WRITE_ROLES,
    WORK_ORDER_ROLES,
    events_of,
    fees_of,
    fees_visible_to,
    request_get_for_access,
    requests_visible_to,
    technicians_of,
    work_order_get_for_access,
    work_orders_visible_to,
)
from mita.servicing.services import (
    ServicingError,
    comment_add,
    request_transition,
    service_fee_set,
    transitions_for,
    work_order_complete,
)
from mita.servicing.types import opener_get, openers, transition_fields
from mita.servicing.types.complaint import KEY as COMPLAINT
from mita.servicing.types.complaint import complaint_open
from mita.servicing.types.new_connection import KEY as NEW_CONNECTION
from mita.servicing.types.new_connection import new_connection_apply

router = Router(tags=["servicing"])


class NewCustomerIn(Schema):
    name: str
    phone: str
    id_number: str = ""
    language: str = ""
    village: str = ""


class ServiceRequestIn(Schema):
    type: str
    channel: str
    customer_id: int | None = None
    customer: NewCustomerIn | None = None  # a new customer (new connections only)
    connection_id: int | None = None
    summary: str = ""
    details: str = ""
    category: str = ""  # complaints: leak, no_supply, quality, billing_dispute, other
    utility: str = ""  # new connections
    property_type: str = ""
    number: str = ""  # the connection number; empty: the operator's next <prefix>-N-number
    terms_accepted: bool = False
    # The connection types (disconnection, reconnection, meter_transfer, ownership_change, package_change,
    # termination) take customer_id and connection_id, and:
    reason: str = "customer"  # disconnection: customer, non_payment, fraud, other (not customer: billing officers)
    assignee_id: int | None = None  # disconnection started by the operator: the technician
    to_connection_id: int | None = None  # meter transfer: the connection the meter moves to
    to_customer_id: int | None = None  # ownership change: the new owner
    on_date: datetime.date | None = None  # ownership change: from (default today)
    package: str = ""  # package change: the new package's code
    effective: str = "now"  # package change: now or next_period


class EventOut(Schema):
    transition: str
    from_state: str
    to_state: str
    note: str
    by_id: int | None
    at: datetime.datetime


class FeeOut(Schema):
    kind: str
    amount: Decimal
    paid: Decimal
    open: Decimal
    items: list[dict[str, Any]]


class ServiceRequestOut(Schema):
    id: int
    number: str
    type: str
    state: str
    customer_id: int
    connection_id: int | None
    connection_number: str | None
    channel: str
    summary: str
    details: str
    data: dict[str, Any]
    assignee_id: int | None
    due_at: datetime.datetime | None
    terms_version: str | None
    terms_accepted_at: datetime.datetime | None
    created_at: datetime.datetime

    @staticmethod
    def resolve_connection_number(request: ServiceRequest) -> str | None:
        return request.connection.number if request.connection else None

    @staticmethod
    def resolve_terms_version(request: ServiceRequest) -> str | None:
        return request.terms.version if request.terms else None

    @staticmethod
    def resolve_data(request: ServiceRequest) -> dict[str, Any]:
        return {key: value for key, value in request.data.items() if key != "payment_link"}


class ServiceRequestDetailOut(ServiceRequestOut):
    events: list[EventOut]
    fees: list[FeeOut]
    work_order_ids: list[int]
    allowed_transitions: list[str]  # what the caller may take now

    @staticmethod
    def resolve_events(request: ServiceRequest) -> list[Any]:
        return list(events_of(request=request))

    @staticmethod
    def resolve_fees(request: ServiceRequest) -> list[dict[str, Any]]:
        return [
            {"kind": fee.kind, "amount": fee.amount, "paid": fee.paid, "open": fee.open, "items": fee.items}  # type: ignore[attr-defined]
            for fee in fees_of(request=request)
        ]

    @staticmethod
    def resolve_work_order_ids(request: ServiceRequest) -> list[int]:
        return list(request.work_orders.order_by("pk").values_list("pk", flat=True))


class TransitionIn(Schema):
    transition: str
    note: str = ""
    assignee_id: int | None = None
    arrears_acknowledged: bool = False  # ownership change approval: the new owner takes the arrears on


class CommentIn(Schema):
    text: str


class CommentOut(Schema):
    id: int
    text: str
    at: datetime.datetime


class WorkOrderOut(Schema):
    id: int
    number: str
    request_id: int
    request_number: str
    kind: str
    state: str
    assignee_id: int | None
    due_at: datetime.datetime | None
    result: dict[str, Any]
    created_at: datetime.datetime
    finished_at: datetime.datetime | None

    @staticmethod
    def resolve_request_number(work_order: WorkOrder) -> str:
        return work_order.request.number


class WorkOrderResultIn(Schema):
    """A survey: distance_m, crossings [{kind, count, length_m}], materials [{material_id, quantity}], note.
    An installation: meter_serial, meter_brand, initial_index, note. Numbers as decimal strings."""

    result: dict[str, Any]


class ServiceFeeIn(Schema):
    kind: str
    utility: str
    property_type: str = ""
    amount: str  # a decimal string in the operator's currency


class ServiceFeeOut(Schema):
    id: int
    kind: str
    utility: str
    property_type: str
    amount: Decimal
    active: bool
    created_at: datetime.datetime


def _detail(request: HttpRequest, service_request: ServiceRequest) -> ServiceRequest:
    """The request, refreshed, with the transitions the caller may take now."""
    service_request = ServiceRequest.objects.select_related("connection", "terms").get(pk=service_request.pk)
    allowed = transitions_for(
        request=service_request, roles=frozenset(request_access(request).roles), user=request.user
    )
    service_request.allowed_transitions = [step.name for step in allowed]  # type: ignore[attr-defined]
    return service_request


@router.get("/service-requests", response=list[ServiceRequestOut], summary="Service requests, with filters")
@paginate(LimitOffsetPagination)
def request_list(
    request: HttpRequest,
    type: str = "",
    state: str = "",
    assignee_id: int | None = None,
    q: str = "",
) -> QuerySet[ServiceRequest]:
    require_api_roles(request, *REQUEST_READ_ROLES)
    return requests_visible_to(access=request_access(request), type=type, state=state, assignee=assignee_id, search=q)


@router.post("/service-requests", response={201: ServiceRequestDetailOut}, summary="Open a service request")
def request_create_endpoint(request: HttpRequest, payload: ServiceRequestIn) -> Status[Any]:
    opener = opener_get(payload.type)
    require_api_roles(request, *(opener.roles if opener else REQUEST_WRITE_ROLES))
    access = request_access(request)
    customer = None
    if payload.customer_id is not None:
        customer = customers_visible_to(access=access).filter(pk=payload.customer_id).first()
        if customer is None:
            raise ServicingError(
                _("Choose one of your customers."), code="customer_invalid", fields={"customer_id": [_("Unknown.")]}
            )
    connection = None
    if payload.connection_id is not None:
        connection = connections_visible_to(access=access, customer=customer).filter(pk=payload.connection_id).first()
        if connection is None:
            raise ServicingError(
                _("Choose one of the customer's connections."),
                code="connection_invalid",
                fields={"connection_id": [_("Unknown.")]},
            )
    if opener is not None:
        created = opener.open(
            operator=access.operator,
            customer=customer,
            connection=connection,
            channel=payload.channel,
            details=payload.details,
            acting_user=request.user,
            **_opener_fields(access, opener.fields, payload),
        )
    elif payload.type == COMPLAINT:
        if customer is None:
            raise ServicingError(
                _("Say whose complaint it is."), code="customer_required", fields={"customer_id": [_("Required.")]}
            )
        created = complaint_open(
            operator=access.operator,
            customer=customer,
            connection=connection,
            category=payload.category,
            channel=payload.channel,
            summary=payload.summary,
            details=payload.details,
            acting_user=request.user,
        )
    elif payload.type == NEW_CONNECTION:
        if payload.channel == ServiceRequest.Channel.OFFICE:
            raise ServicingError(
                _("An office application needs the signed form: receive it on the new-connection page."),
                code="office_needs_form",
                fields={"channel": [_("Use agent, portal or phone here.")]},
            )
        created = new_connection_apply(
            operator=access.operator,
            acting_user=request.user,
            channel=payload.channel,
            utility=payload.utility,
            property_type=payload.property_type,
            terms_accepted=payload.terms_accepted,
            customer=customer,
            customer_fields=payload.customer.dict() if payload.customer else None,
            number=payload.number,
            details=payload.details,
        )
    else:
        raise ServicingError(
            _("Choose the type: %(types)s.")
            % {"types": ", ".join([COMPLAINT, NEW_CONNECTION, *[opener.key for opener in openers()]])},
            code="type_invalid",
            fields={"type": [_("Unknown type.")]},
        )
    return Status(201, _detail(request, created))


def _opener_fields(access: Any, fields: tuple[str, ...], payload: ServiceRequestIn) -> dict[str, Any]:
    """The type's own fields from the payload, objects looked up at the caller's operator (unknown: a clear 400)."""
    extra: dict[str, Any] = {}
    for name in fields:
        if name == "assignee":
            assignee = None
            if payload.assignee_id is not None:
                assignee = technicians_of(operator=access.operator).filter(pk=payload.assignee_id).first()
                if assignee is None:
                    raise ServicingError(
                        _("Choose one of your operator's technicians."),
                        code="assignee_invalid",
                        fields={"assignee_id": [_("Not a technician of your operator.")]},
                    )
            extra["assignee"] = assignee
        elif name == "to_connection_number":
            extra["to_connection"] = (
                connections_visible_to(access=access).filter(pk=payload.to_connection_id).first()
                if payload.to_connection_id is not None
                else None
            )
        elif name == "to_customer_number":
            extra["to_customer"] = (
                customers_visible_to(access=access).filter(pk=payload.to_customer_id).first()
                if payload.to_customer_id is not None
                else None
            )
        else:
            extra[name] = getattr(payload, name)
    return extra


@router.get("/service-requests/{request_id}", response=ServiceRequestDetailOut, summary="One request and its history")
def request_get(request: HttpRequest, request_id: int) -> ServiceRequest:
    require_api_roles(request, *REQUEST_READ_ROLES)
    return _detail(request, request_get_for_access(access=request_access(request), request_id=request_id))


@router.post(
    "/service-requests/{request_id}/transitions",
    response=ServiceRequestDetailOut,
    summary="Take a transition (allowed_transitions lists those you may take now)",
)
def request_transition_endpoint(request: HttpRequest, request_id: int, payload: TransitionIn) -> ServiceRequest:
    require_api_roles(request, *REQUEST_READ_ROLES)
    access = request_access(request)
    service_request = request_get_for_access(access=access, request_id=request_id)
    data: dict[str, Any] = {}
    if payload.assignee_id is not None:
        assignee = technicians_of(operator=access.operator).filter(pk=payload.assignee_id).first()
        if assignee is None:
            raise ServicingError(
                _("Choose one of your operator's technicians."),
                code="assignee_invalid",
                fields={"assignee_id": [_("Not a technician of your operator.")]},
            )
        data["assignee"] = assignee
    for name in transition_fields(service_request.type, payload.transition):
        data[name] = getattr(payload, name)
    request_transition(
        request=service_request, transition=payload.transition, acting_user=request.user, note=payload.note, **data
    )
    return _detail(request, service_request)


@router.post("/service-requests/{request_id}/comments", response={201: CommentOut}, summary="Comment on a request")
def comment_endpoint(request: HttpRequest, request_id: int, payload: CommentIn) -> Status[Any]:
    require_api_roles(request, *REQUEST_READ_ROLES)
    service_request = request_get_for_access(access=request_access(request), request_id=request_id)
    return Status(201, comment_add(request=service_request, text=payload.text, acting_user=request.user))


@router.get("/work-orders", response=list[WorkOrderOut], summary="Work orders (a technician's own)")
@paginate(LimitOffsetPagination)
def work_order_list(request: HttpRequest, state: str = "", kind: str = "", mine: bool = False) -> QuerySet[WorkOrder]:
    require_api_roles(request, *WORK_ORDER_ROLES)
    return work_orders_visible_to(access=request_access(request), mine=mine, state=state, kind=kind)


@router.get("/work-orders/{work_order_id}", response=WorkOrderOut, summary="One work order")
def work_order_get(request: HttpRequest, work_order_id: int) -> WorkOrder:
    require_api_roles(request, *WORK_ORDER_ROLES)
    return work_order_get_for_access(access=request_access(request), work_order_id=work_order_id)


@router.post("/work-orders/{work_order_id}/complete", response=WorkOrderOut, summary="Record a work order's result")
def work_order_complete_endpoint(request: HttpRequest, work_order_id: int, payload: WorkOrderResultIn) -> WorkOrder:
    require_api_roles(request, *WORK_ORDER_ROLES)
    work_order = work_order_get_for_access(access=request_access(request), work_order_id=work_order_id)
    return work_order_complete(work_order=work_order, result=payload.result, acting_user=request.user)


@router.get("/service-fees", response=list[ServiceFeeOut], summary="The fee schedule in force")
def fee_list(request: HttpRequest) -> QuerySet[ServiceFee]:
    require_api_roles(request, *FEE_READ_ROLES)
    return fees_visible_to(access=request_access(request))


@router.post("/service-fees", response={201: ServiceFeeOut}, summary="Set a fee (replaces the line it matches)")
def fee_set_endpoint(request: HttpRequest, payload: ServiceFeeIn) -> Status[Any]:
    require_api_roles(request, *ADMIN_ROLES)
    try:
        amount = Decimal(payload.amount.strip())
    except (InvalidOperation, ValueError):
        raise ServicingError(
            _("Write the amount as a number, e.g. 10000."),
            code="amount_invalid",
            fields={"amount": [_("Not a number.")]},
        ) from None
    fee = service_fee_set(
        operator=request_access(request).operator,
        kind=payload.kind,
        utility=payload.utility,
        property_type=payload.property_type,
        amount=amount,
        acting_user=request.user,
    )
    return Status(201, fee)
