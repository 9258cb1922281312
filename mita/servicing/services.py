"""Writes of service requests: creating one, moving it through its type's workflow, assigning, comments,
attachments, work orders, fees charged to the connection's account, the terms and the fee schedule.

request_transition() is the one function that changes a request's state: it checks the role, the state and the
data, writes the history in the same transaction, and runs the hooks the type declares.
"""

import datetime
import secrets
import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.accounts.models import Membership
from mita.accounts.roles import Role
from mita.core.audit import audit_record
from mita.core.errors import Conflict, DomainError, PermissionDenied
from mita.core.money import quantize
from mita.core.sequences import sequence_next
from mita.ledger import services as ledger
from mita.servicing.models import (
    RequestAttachment,
    RequestComment,
    RequestEvent,
    RequestFee,
    ServiceFee,
    ServiceRequest,
    TermsVersion,
    WorkOrder,
)
from mita.servicing.workflow import RequestType, Transition, type_get

REQUEST_SEQUENCE = "service_request"
WORK_ORDER_SEQUENCE = "work_order"
ATTACHMENT_TYPES = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
ATTACHMENT_MAX_BYTES_DEFAULT = 5 * 1024 * 1024
# How long a work order may stay open before it is late, by kind.
WORK_ORDER_DUE: dict[str, datetime.timedelta] = {
    WorkOrder.Kind.SURVEY: datetime.timedelta(days=3),
    WorkOrder.Kind.INSTALLATION: datetime.timedelta(days=5),
}
WORK_ORDER_DUE_DEFAULT = datetime.timedelta(days=3)


class ServicingError(DomainError):
    """Bad request input: says which field and what to fix."""


class TransitionNotAllowed(DomainError):
    """The transition is not one the user may take from the request's state; the message names those they may."""

    status = 409


def _roles_of(*, operator: Any, user: Any) -> frozenset[str]:
    if user is None or not getattr(user, "pk", None):
        return frozenset()
    return frozenset(Membership.objects.active().filter(user=user, operator=operator).values_list("role", flat=True))


def technician_check(*, operator: Any, user: Any, field: str = "assignee") -> Any:
    """The user, if they hold the technician role at the operator; otherwise a clear error."""
    if user is None or Role.TECHNICIAN not in _roles_of(operator=operator, user=user):
        raise ServicingError(
            _("Choose one of your operator's technicians."),
            code="assignee_invalid",
            fields={field: [_("Not a technician of your operator.")]},
        )
    return user


def _due(request_type: RequestType, state: str, now: datetime.datetime) -> datetime.datetime | None:
    due = request_type.state(state).due
    return now + due if due is not None else None


def _event(
    *,
    request: ServiceRequest,
    transition: str,
    from_state: str,
    to_state: str,
    by: Any,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> RequestEvent:
    return RequestEvent.objects.create(
        operator_id=request.operator_id,
        request=request,
        transition=transition,
        from_state=from_state,
        to_state=to_state,
        note=note,
        data=data or {},
        by=by if getattr(by, "pk", None) else None,
    )


@transaction.atomic
def request_create(
    *,
    operator: Any,
    type: str,
    customer: Any,
    channel: str,
    summary: str,
    acting_user: Any,
    connection: Any = None,
    details: str = "",
    data: dict[str, Any] | None = None,
    terms: TermsVersion | None = None,
) -> ServiceRequest:
    """A new request in its type's first state, numbered <prefix>-SR-000001 onwards without gaps."""
    request_type = type_get(type)
    problems: dict[str, list[str]] = {}
    if channel not in ServiceRequest.Channel.values:
        problems["channel"] = [_("Choose office, agent, portal or phone.")]
    summary = (summary or "").strip()
    if not summary:
        problems["summary"] = [_("Say in a line what the request is about.")]
    if customer is None or customer.operator_id != operator.pk:
        problems["customer"] = [_("Choose one of your customers.")]
    if connection is not None and (connection.operator_id != operator.pk or connection.customer_id != customer.pk):
        problems["connection"] = [_("Choose one of the customer's connections.")]
    if problems:
        raise ServicingError(_("Please correct the request."), code="request_invalid", fields=problems)
    now = timezone.now()
    sequence_number = sequence_next(operator_id=operator.pk, name=REQUEST_SEQUENCE)
    request = ServiceRequest.objects.create(
        operator=operator,
        sequence_number=sequence_number,
        number=f"{operator.prefix}-SR-{sequence_number:06d}",
        type=request_type.key,
        state=request_type.initial,
        customer=customer,
        connection=connection,
        channel=channel,
        summary=summary[:200],
        details=(details or "").strip(),
        data=data or {},
        due_at=_due(request_type, request_type.initial, now),
        terms=terms,
        terms_accepted_at=now if terms is not None else None,
        created_by=acting_user if getattr(acting_user, "pk", None) else None,
    )
    _event(request=request, transition="created", from_state="", to_state=request.state, by=acting_user)
    audit_record(
        actor=acting_user,
        action="service_request.created",
        target=request,
        after={"type": request.type, "state": request.state, "customer": customer.pk, "channel": channel},
    )
    initial = request_type.state(request_type.initial)
    if initial.on_enter:
        initial.on_enter(request, acting_user, {})
    return request


def transitions_for(*, request: ServiceRequest, roles: frozenset[str], user: Any) -> list[Transition]:
    """The transitions this user may take on the request now (what the buttons offer)."""
    request_type = type_get(request.type)
    allowed = []
    for transition in request_type.transitions_from(request.state):
        if transition.system or not (transition.roles & roles):
            continue
        someone_else_s = transition.assignee_only and request.assignee_id != getattr(user, "pk", None)
        if someone_else_s and Role.OPERATOR_ADMIN not in roles:
            continue
        allowed.append(transition)
    return allowed


def _not_allowed(request: ServiceRequest, name: str, allowed: list[Transition]) -> TransitionNotAllowed:
    request_type = type_get(request.type)
    state = request_type.state(request.state).label
    if allowed:
        message = _(
            "“%(transition)s” is not allowed on request %(number)s, which is %(state)s. Allowed now: %(allowed)s."
        )
    else:
        message = _(
            "“%(transition)s” is not allowed on request %(number)s, which is %(state)s; nothing is yours to do on it now."
        )
    return TransitionNotAllowed(
        message
        % {
            "transition": name,
            "number": request.number,
            "state": state,
            "allowed": ", ".join(transition.name for transition in allowed),
        },
        code="transition_not_allowed",
        fields={"transition": [", ".join(transition.name for transition in allowed)]},
    )


@transaction.atomic
def request_transition(
    *,
    request: ServiceRequest,
    transition: str,
    acting_user: Any,
    note: str = "",
    system: bool = False,
    **data: Any,
) -> ServiceRequest:
    """Take a transition of the request's type: checks who may, from which state, with which data; writes the
    history; runs the hooks; then lets the type move the request on by itself (a fee already paid, ...)."""
    request = (
        ServiceRequest.objects.select_for_update(of=("self",))
        .select_related("operator", "customer", "connection")
        .get(pk=request.pk)
    )
    request_type = type_get(request.type)
    step = request_type.transition(transition)
    if system:
        if step is None or request.state not in step.sources:
            raise TransitionNotAllowed(
                _("Request %(number)s cannot take “%(transition)s” now.")
                % {"number": request.number, "transition": transition},
                code="transition_not_allowed",
            )
    else:
        roles = _roles_of(operator=request.operator, user=acting_user)
        allowed = transitions_for(request=request, roles=roles, user=acting_user)
        if step is None or step not in allowed:
            raise _not_allowed(request, transition, allowed)
    note = (note or "").strip()
    problems: dict[str, list[str]] = {}
    for field in step.required:
        if field == "note" and not note:
            problems["note"] = [_("Required: say why.")]
        elif field != "note" and data.get(field) in (None, ""):
            problems[field] = [_("Required.")]
    if step.assigns:
        assignee = data.get("assignee")
        if assignee is None:
            problems["assignee"] = [_("Choose the technician.")]
        else:
            try:
                technician_check(operator=request.operator, user=assignee)
            except ServicingError as error:
                problems.update(error.fields)
    if problems:
        raise ServicingError(_("Please complete the step's details."), code="transition_data_missing", fields=problems)
    from_state = request.state
    now = timezone.now()
    if step.assigns:
        request.assignee = data["assignee"]
    request.state = step.target
    request.due_at = _due(request_type, step.target, now)
    request.save(update_fields=["state", "due_at", "assignee", "updated_at"])
    event_data = {key: getattr(value, "pk", value) for key, value in data.items() if key != "result"}
    _event(
        request=request,
        transition=step.name,
        from_state=from_state,
        to_state=step.target,
        by=acting_user,
        note=note,
        data=event_data,
    )
    audit_record(
        actor=acting_user,
        action=f"service_request.{step.name}",
        target=request,
        before={"state": from_state},
        after={"state": step.target, "assignee": request.assignee_id},
        detail={"note": note} if note else None,
    )
    if step.hook:
        step.hook(request, acting_user, data)
    target = request_type.state(step.target)
    if target.on_enter:
        target.on_enter(request, acting_user, data)
    request_advance(request=request, acting_user=acting_user)
    return request


@transaction.atomic
def request_advance(*, request: ServiceRequest, acting_user: Any = None) -> ServiceRequest:
    """Take the system transitions whose condition already holds (a fee paid, nothing to charge), one after another.

    Under the request's row lock, so the payment's task, the sweep and a page view never move it twice.
    """
    advance = type_get(request.type).advance
    if advance is None:
        return request
    request = ServiceRequest.objects.select_for_update(of=("self",)).get(pk=request.pk)
    name = advance(request)
    if name:
        request_transition(request=request, transition=name, acting_user=acting_user, system=True)
    return ServiceRequest.objects.select_related("operator", "customer", "connection").get(pk=request.pk)


@transaction.atomic
def request_assign(*, request: ServiceRequest, assignee: Any, acting_user: Any) -> ServiceRequest:
    """Give an open request to another technician (its open work orders follow); the state does not change."""
    request = ServiceRequest.objects.select_for_update().get(pk=request.pk)
    roles = _roles_of(operator=request.operator, user=acting_user)
    if not roles & {Role.OPERATOR_ADMIN, Role.CUSTOMER_CARE}:
        raise PermissionDenied(_("Only customer care or an operator admin assigns requests."), code="forbidden")
    if type_get(request.type).state(request.state).final:
        raise Conflict(_("Request %(number)s is closed.") % {"number": request.number}, code="request_closed")
    technician_check(operator=request.operator, user=assignee)
    before = request.assignee_id
    request.assignee = assignee
    request.save(update_fields=["assignee", "updated_at"])
    WorkOrder.objects.filter(request=request, state__in=[WorkOrder.State.OPEN, WorkOrder.State.IN_PROGRESS]).update(
        assignee=assignee
    )
    _event(
        request=request,
        transition="reassigned",
        from_state=request.state,
        to_state=request.state,
        by=acting_user,
        data={"assignee": assignee.pk},
    )
    audit_record(
        actor=acting_user,
        action="service_request.reassigned",
        target=request,
        before={"assignee": before},
        after={"assignee": assignee.pk},
    )
    return request


@transaction.atomic
def comment_add(*, request: ServiceRequest, text: str, acting_user: Any) -> RequestComment:
    text = (text or "").strip()
    if not text:
        raise ServicingError(_("Write the comment."), code="comment_required", fields={"text": [_("Required.")]})
    comment = RequestComment.objects.create(operator_id=request.operator_id, request=request, text=text, by=acting_user)
    audit_record(actor=acting_user, action="service_request.commented", target=request, detail={"comment": comment.pk})
    return comment


def _sniff(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


def attachment_check(upload: Any, *, field: str = "file") -> tuple[bytes, str]:
    """The upload's bytes and its type, if it is a PDF, JPEG or PNG within the size limit (by content, not name)."""
    limit = int(getattr(settings, "MITA_ATTACHMENT_MAX_BYTES", ATTACHMENT_MAX_BYTES_DEFAULT))
    if upload is None:
        raise ServicingError(_("Attach the file."), code="file_required", fields={field: [_("Required.")]})
    if upload.size > limit:
        message = _("The file is larger than %(limit)s MB; scan it at a lower resolution.") % {
            "limit": limit // (1024 * 1024)
        }
        raise ServicingError(message, code="file_too_large", fields={field: [message]})
    if hasattr(upload, "seek"):
        upload.seek(0)
    content = upload.read()
    content_type = _sniff(content[:16])
    if content_type is None:
        message = _("Attach a PDF, JPEG or PNG file.")
        raise ServicingError(message, code="file_type", fields={field: [message]})
    return content, content_type


@transaction.atomic
def attachment_add(*, request: ServiceRequest, upload: Any, kind: str, acting_user: Any) -> RequestAttachment:
    """Store a PDF, JPEG or PNG (at most MITA_ATTACHMENT_MAX_BYTES) with the request, under a name of our own."""
    if kind not in RequestAttachment.Kind.values:
        raise ServicingError(_("Choose what the file is."), code="kind_invalid", fields={"kind": [_("Unknown.")]})
    content, content_type = attachment_check(upload)
    stored_name = uuid.uuid4().hex + ATTACHMENT_TYPES[content_type]
    attachment = RequestAttachment(
        operator_id=request.operator_id,
        request=request,
        kind=kind,
        stored_name=stored_name,
        original_name=(getattr(upload, "name", "") or stored_name)[-200:],
        content_type=content_type,
        size=len(content),
        by=acting_user if getattr(acting_user, "pk", None) else None,
    )
    attachment.file.save(stored_name, ContentFile(content), save=False)
    attachment.save()
    audit_record(
        actor=acting_user,
        action="service_request.attached",
        target=request,
        detail={"attachment": attachment.pk, "kind": kind, "size": attachment.size},
    )
    return attachment


# Work orders ---------------------------------------------------------------------------------------------------


def work_order_create(*, request: ServiceRequest, kind: str, assignee: Any, acting_user: Any) -> WorkOrder:
    """A work order for the request (call inside the transition's transaction); numbered <prefix>-WO-000001."""
    operator = request.operator
    sequence_number = sequence_next(operator_id=operator.pk, name=WORK_ORDER_SEQUENCE)
    work_order = WorkOrder.objects.create(
        operator=operator,
        sequence_number=sequence_number,
        number=f"{operator.prefix}-WO-{sequence_number:06d}",
        request=request,
        kind=kind,
        assignee=assignee,
        due_at=timezone.now() + WORK_ORDER_DUE.get(kind, WORK_ORDER_DUE_DEFAULT),
    )
    _event(
        request=request,
        transition="work_order_opened",
        from_state=request.state,
        to_state=request.state,
        by=acting_user,
        data={"work_order": work_order.number, "kind": kind},
    )
    return work_order


def _work_order_actor_check(work_order: WorkOrder, acting_user: Any) -> frozenset[str]:
    roles = _roles_of(operator=work_order.operator, user=acting_user)
    mine = work_order.assignee_id == getattr(acting_user, "pk", None) and Role.TECHNICIAN in roles
    if not mine and Role.OPERATOR_ADMIN not in roles:
        raise PermissionDenied(
            _("Work order %(number)s is assigned to another technician.") % {"number": work_order.number},
            code="not_your_work_order",
        )
    if work_order.state not in (WorkOrder.State.OPEN, WorkOrder.State.IN_PROGRESS):
        raise Conflict(
            _("Work order %(number)s is already %(state)s.")
            % {"number": work_order.number, "state": work_order.get_state_display()},
            code="work_order_closed",
        )
    return roles


@transaction.atomic
def work_order_start(*, work_order: WorkOrder, acting_user: Any) -> WorkOrder:
    work_order = WorkOrder.objects.select_for_update().get(pk=work_order.pk)
    _work_order_actor_check(work_order, acting_user)
    if work_order.state == WorkOrder.State.OPEN:
        work_order.state = WorkOrder.State.IN_PROGRESS
        work_order.started_at = timezone.now()
        work_order.save(update_fields=["state", "started_at"])
        audit_record(actor=acting_user, action="work_order.started", target=work_order)
    return work_order


@transaction.atomic
def work_order_complete(*, work_order: WorkOrder, result: dict[str, Any], acting_user: Any) -> WorkOrder:
    """Record what the technician found or did; the request's type checks it and moves the request on."""
    work_order = (
        WorkOrder.objects.select_for_update(of=("self",)).select_related("request", "operator").get(pk=work_order.pk)
    )
    _work_order_actor_check(work_order, acting_user)
    request_type = type_get(work_order.request.type)
    done = request_type.work_order_done.get(work_order.kind)
    cleaned = done(work_order, acting_user, result) if done else dict(result)
    work_order.state = WorkOrder.State.DONE
    work_order.result = cleaned
    work_order.finished_at = timezone.now()
    work_order.finished_by = acting_user if getattr(acting_user, "pk", None) else None
    work_order.started_at = work_order.started_at or work_order.finished_at
    work_order.save(update_fields=["state", "result", "finished_at", "finished_by", "started_at"])
    audit_record(actor=acting_user, action="work_order.done", target=work_order, after={"result": cleaned})
    after = request_type.after_work_order.get(work_order.kind)
    if after:
        after(work_order, acting_user)
    return work_order


@transaction.atomic
def work_order_assign(*, work_order: WorkOrder, assignee: Any, acting_user: Any) -> WorkOrder:
    work_order = WorkOrder.objects.select_for_update().get(pk=work_order.pk)
    roles = _roles_of(operator=work_order.operator, user=acting_user)
    if not roles & {Role.OPERATOR_ADMIN, Role.CUSTOMER_CARE}:
        raise PermissionDenied(_("Only customer care or an operator admin assigns work orders."), code="forbidden")
    if work_order.state not in (WorkOrder.State.OPEN, WorkOrder.State.IN_PROGRESS):
        raise Conflict(_("Work order %(number)s is closed.") % {"number": work_order.number}, code="work_order_closed")
    technician_check(operator=work_order.operator, user=assignee)
    before = work_order.assignee_id
    work_order.assignee = assignee
    work_order.save(update_fields=["assignee"])
    audit_record(
        actor=acting_user,
        action="work_order.assigned",
        target=work_order,
        before={"assignee": before},
        after={"assignee": assignee.pk},
    )
    return work_order


def work_orders_cancel_open(*, request: ServiceRequest, acting_user: Any) -> int:
    """Cancel a request's open work orders (the request was rejected or cancelled)."""
    return WorkOrder.objects.filter(
        request=request, state__in=[WorkOrder.State.OPEN, WorkOrder.State.IN_PROGRESS]
    ).update(state=WorkOrder.State.CANCELLED, finished_at=timezone.now())


# Fees, terms, the fee schedule --------------------------------------------------------------------------------

FEE_HEADS: dict[str, str] = {RequestFee.Kind.CONNECTION: "connection_fees", RequestFee.Kind.MATERIAL: "material_fees"}


def fee_charge(
    *, request: ServiceRequest, kind: str, amount: Decimal, items: list[dict[str, Any]], acting_user: Any
) -> RequestFee:
    """Charge a fee to the connection's account through the ledger (once per request and kind)."""
    operator = request.operator
    if request.connection is None:
        raise ServicingError(_("The request has no connection to charge."), code="connection_required")
    existing = RequestFee.objects.filter(request=request, kind=kind).first()
    if existing is not None:
        return existing
    reference = f"sr:{request.number}:{kind}"
    charge = ledger.charge_post(
        operator=operator,
        holder=request.connection.number,
        head=FEE_HEADS[kind],
        amount=quantize(amount, operator.currency),
        vat_rule="exempt",
        reference=reference,
        due_date=timezone.localdate(),
        acting_user=acting_user,
        idempotency_key=reference,
    )
    fee = RequestFee.objects.create(
        operator=operator, request=request, kind=kind, charge=charge, amount=charge.total, items=items
    )
    _event(
        request=request,
        transition="fee_charged",
        from_state=request.state,
        to_state=request.state,
        by=acting_user,
        data={"kind": kind, "amount": str(charge.total)},
    )
    return fee


def quote_token_give(*, request: ServiceRequest) -> str:
    if not request.quote_token:
        request.quote_token = secrets.token_urlsafe(24)
        request.save(update_fields=["quote_token", "updated_at"])
    return request.quote_token


@transaction.atomic
def terms_publish(
    *, operator: Any, version: str, text: str, effective_from: datetime.date, acting_user: Any
) -> TermsVersion:
    """A new version of the terms and conditions; applications accept the one in force on their day."""
    version, text = (version or "").strip(), (text or "").strip()
    problems: dict[str, list[str]] = {}
    if not version:
        problems["version"] = [_("Required, e.g. 2026-1.")]
    if not text:
        problems["text"] = [_("Write the terms.")]
    if effective_from is None:
        problems["effective_from"] = [_("Required.")]
    if problems:
        raise ServicingError(_("Please complete the terms."), code="terms_invalid", fields=problems)
    if TermsVersion.objects.filter(operator=operator, version=version).exists():
        raise Conflict(
            _("Version %(version)s is already published; give the new text a new version.") % {"version": version},
            code="terms_version_taken",
            fields={"version": [_("Already in use.")]},
        )
    terms = TermsVersion.objects.create(
        operator=operator, version=version, text=text, effective_from=effective_from, created_by=acting_user
    )
    audit_record(actor=acting_user, action="terms.published", target=terms, after={"version": version})
    return terms


@transaction.atomic
def service_fee_set(
    *, operator: Any, kind: str, utility: str, amount: Decimal, acting_user: Any, property_type: str = ""
) -> ServiceFee:
    """Set what a service costs; the previous line for the same kind, utility and property type is kept, inactive,
    and fees already charged stay as charged."""
    from mita.customers.models import Connection  # the choices only

    problems: dict[str, list[str]] = {}
    if kind not in ServiceFee.Kind.values:
        problems["kind"] = [_("Choose a kind of fee.")]
    if utility not in Connection.Utility.values:
        problems["utility"] = [_("Choose water or electricity.")]
    if property_type and property_type not in Connection.PropertyType.values:
        problems["property_type"] = [_("Choose a property type, or none for all.")]
    if not isinstance(amount, Decimal) or amount < 0:
        problems["amount"] = [_("Zero or more.")]
    elif quantize(amount, operator.currency) != amount:
        problems["amount"] = [
            _("%(currency)s amounts have no smaller units than this: write %(rounded)s.")
            % {"currency": operator.currency, "rounded": quantize(amount, operator.currency)}
        ]
    if problems:
        raise ServicingError(_("Please correct the fee."), code="fee_invalid", fields=problems)
    previous = ServiceFee.objects.select_for_update().filter(
        operator=operator, kind=kind, utility=utility, property_type=property_type, active=True
    )
    before = [str(fee.amount) for fee in previous]
    previous.update(active=False)
    fee = ServiceFee.objects.create(
        operator=operator,
        kind=kind,
        utility=utility,
        property_type=property_type,
        amount=amount,
        created_by=acting_user,
    )
    audit_record(
        actor=acting_user,
        action="service_fee.set",
        target=fee,
        before={"amount": before[0] if before else None},
        after={"amount": amount},
    )
    return ServiceFee.objects.get(pk=fee.pk)
