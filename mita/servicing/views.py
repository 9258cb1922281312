"""Service request pages: the list, my tasks, applications and complaints, a request with its timeline, comments,
attachments and the buttons of the transitions the user may take; work orders; the fee schedule; the terms; and
the public quote page (/q/<token>/)."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from mita.core.errors import DomainError
from mita.core.forms import form_add_domain_error
from mita.core.money import CURRENCY_EXPONENTS
from mita.core.permissions import require_roles
from mita.customers.selectors import connections_visible_to, customers_visible_to
from mita.payments.models_online import PaymentLink
from mita.payments.online import payment_link_url
from mita.servicing.forms import (
    AssignForm,
    AttachmentForm,
    CommentForm,
    ComplaintForm,
    FeeForm,
    FinalReadingForm,
    InstallationForm,
    NewConnectionForm,
    RequestFilterForm,
    SurveyForm,
    TermsForm,
    TransitionForm,
    TypedRequestForm,
    WorkDoneForm,
)
from mita.servicing.models import ServiceRequest, WorkOrder
from mita.servicing.selectors import (
    ADMIN_ROLES,
    FEE_READ_ROLES,
    REQUEST_READ_ROLES,
    REQUEST_WRITE_ROLES,
    TASK_ROLES,
    WORK_ORDER_ROLES,
    attachment_get_for_access,
    events_of,
    fees_of,
    fees_visible_to,
    request_by_quote_token,
    request_get_for_access,
    requests_visible_to,
    requests_waiting_for,
    technicians_of,
    terms_current,
    terms_of,
    work_order_get_for_access,
    work_orders_visible_to,
    work_orders_waiting_for,
)
from mita.servicing.services import (
    attachment_add,
    comment_add,
    request_advance,
    request_assign,
    request_transition,
    service_fee_set,
    terms_publish,
    transitions_for,
    work_order_complete,
    work_order_start,
)
from mita.servicing.types import facts_of, opener_get, openers, transition_fields
from mita.servicing.types.complaint import CATEGORIES, complaint_open
from mita.servicing.types.new_connection import new_connection_apply
from mita.servicing.workflow import type_get
from mita.stock.selectors import materials_visible_to

PAGE_ROWS = 100
# What the history calls the engine's own events (a type's transitions are called by their labels).
EVENT_LABELS = {
    "created": gettext_lazy("Received"),
    "reassigned": gettext_lazy("Reassigned"),
    "work_order_opened": gettext_lazy("Work order opened"),
    "fee_charged": gettext_lazy("Fee charged"),
}


def _money_format(currency: str) -> str:
    """The floatformat argument that writes the currency's minor units, grouped by the reader's locale."""
    return f"{CURRENCY_EXPONENTS.get(currency, 2)}g"


def _status(request: HttpRequest) -> int:
    return 400 if request.method == "POST" else 200


def _access(request: HttpRequest) -> Any:
    return request.access  # type: ignore[attr-defined]


@login_required
@require_roles(*REQUEST_READ_ROLES)
def request_list(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    form = RequestFilterForm(request.GET or None, technicians=technicians_of(operator=access.operator))
    filters = form.cleaned_data if form.is_valid() else {}
    requests = requests_visible_to(
        access=access,
        type=filters.get("type") or "",
        state=filters.get("state") or "",
        assignee=filters.get("assignee"),
        search=filters.get("q") or "",
    )[:PAGE_ROWS]
    return render(
        request,
        "servicing/request_list.html",
        {
            "form": form,
            "requests": _labelled(requests),
            "can_write": access.has_role(*REQUEST_WRITE_ROLES),
            "new_links": [
                (opener.key, type_get(opener.key).label) for opener in openers() if access.has_role(*opener.roles)
            ],
        },
    )


def _labelled(requests: Any) -> list[ServiceRequest]:
    rows = list(requests)
    for row in rows:
        request_type = type_get(row.type)
        row.type_label = request_type.label
        row.state_label = request_type.state(row.state).label
    return rows


@login_required
@require_roles(*TASK_ROLES)
def my_tasks(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    return render(
        request,
        "servicing/my_tasks.html",
        {
            "requests": _labelled(requests_waiting_for(access=access)[:PAGE_ROWS]),
            "work_orders": work_orders_waiting_for(access=access)[:PAGE_ROWS],
        },
    )


@login_required
@require_roles(*REQUEST_WRITE_ROLES)
def new_connection_create(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    operator = access.operator
    form = NewConnectionForm(request.POST or None, request.FILES or None)
    terms = terms_current(operator=operator)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        customer = None
        customer_fields = None
        if data["customer_number"].strip():
            customer = (
                customers_visible_to(access=access).filter(number__iexact=data["customer_number"].strip()).first()
            )
            if customer is None:
                form.add_error("customer_number", _("No customer with this number at your operator."))
        else:
            customer_fields = {
                key: data[key] for key in ("name", "phone", "id_number", "language", "village") if data.get(key)
            }
            if customer_fields.get("id_number"):
                customer_fields["id_type"] = "national_id"
        if not form.errors:
            try:
                service_request = new_connection_apply(
                    operator=operator,
                    acting_user=request.user,
                    channel=data["channel"],
                    utility=data["utility"],
                    property_type=data["property_type"],
                    terms_accepted=data["terms_accepted"],
                    customer=customer,
                    customer_fields=customer_fields,
                    number=data["number"],
                    signed_form=data.get("signed_form"),
                    details=data["details"],
                )
            except DomainError as error:
                form_add_domain_error(form, error)
            else:
                messages.success(
                    request,
                    _("Application %(number)s is received; connection %(connection)s is pending.")
                    % {"number": service_request.number, "connection": service_request.connection},
                )
                return redirect("servicing:request_detail", request_id=service_request.pk)
    return render(
        request, "servicing/new_connection_form.html", {"form": form, "terms": terms}, status=_status(request)
    )


@login_required
@require_roles(*REQUEST_WRITE_ROLES)
def complaint_create(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    form = ComplaintForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        customer = customers_visible_to(access=access).filter(number__iexact=data["customer_number"].strip()).first()
        connection = None
        if customer is None:
            form.add_error("customer_number", _("No customer with this number at your operator."))
        elif data["connection_number"].strip():
            connection = (
                connections_visible_to(access=access, customer=customer)
                .filter(number__iexact=data["connection_number"].strip())
                .first()
            )
            if connection is None:
                form.add_error("connection_number", _("This customer has no connection with this number."))
        if not form.errors:
            try:
                complaint = complaint_open(
                    operator=access.operator,
                    customer=customer,
                    connection=connection,
                    category=data["category"],
                    channel=data["channel"],
                    summary=data["summary"],
                    details=data["details"],
                    acting_user=request.user,
                )
            except DomainError as error:
                form_add_domain_error(form, error)
            else:
                messages.success(request, _("Complaint %(number)s is recorded.") % {"number": complaint.number})
                return redirect("servicing:request_detail", request_id=complaint.pk)
    return render(request, "servicing/complaint_form.html", {"form": form}, status=_status(request))


@login_required
@require_roles(*REQUEST_READ_ROLES)
def typed_request_create(request: HttpRequest, type_key: str) -> HttpResponse:
    """A disconnection, reconnection, meter transfer, ownership change, package change or termination: the customer
    and connection, and the fields the type asks for (mita.servicing.types.Opener)."""
    access = _access(request)
    opener = opener_get(type_key)
    if opener is None:
        raise Http404
    if not access.has_role(*opener.roles):
        raise PermissionDenied
    technicians = technicians_of(operator=access.operator)
    form = TypedRequestForm(request.POST or None, fields=opener.fields, technicians=technicians)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        customer = customers_visible_to(access=access).filter(number__iexact=data["customer_number"].strip()).first()
        connection = None
        extra: dict[str, Any] = {}
        if customer is None:
            form.add_error("customer_number", _("No customer with this number at your operator."))
        else:
            connection = (
                connections_visible_to(access=access, customer=customer)
                .filter(number__iexact=data["connection_number"].strip())
                .first()
            )
            if connection is None:
                form.add_error("connection_number", _("This customer has no connection with this number."))
        for name in opener.fields:
            if name == "assignee":
                extra["assignee"] = technicians.filter(pk=data["assignee"]).first() if data.get("assignee") else None
            elif name == "to_connection_number":
                extra["to_connection"] = (
                    connections_visible_to(access=access).filter(number__iexact=data[name].strip()).first()
                )
                if extra["to_connection"] is None:
                    form.add_error(name, _("No connection with this number at your operator."))
            elif name == "to_customer_number":
                extra["to_customer"] = (
                    customers_visible_to(access=access).filter(number__iexact=data[name].strip()).first()
                )
                if extra["to_customer"] is None:
                    form.add_error(name, _("No customer with this number at your operator."))
            else:
                extra[name] = data.get(name)
        if not form.errors:
            try:
                service_request = opener.open(
                    operator=access.operator,
                    customer=customer,
                    connection=connection,
                    channel=data["channel"],
                    details=data["details"],
                    acting_user=request.user,
                    **extra,
                )
            except DomainError as error:
                form_add_domain_error(form, error)
            else:
                messages.success(request, _("Request %(number)s is received.") % {"number": service_request.number})
                return redirect("servicing:request_detail", request_id=service_request.pk)
    return render(
        request,
        "servicing/typed_request_form.html",
        {"form": form, "type": type_get(type_key)},
        status=_status(request),
    )


def _detail(request: HttpRequest, service_request: ServiceRequest, **forms: Any) -> dict[str, Any]:
    access = _access(request)
    request_type = type_get(service_request.type)
    technicians = technicians_of(operator=access.operator)
    allowed = transitions_for(request=service_request, roles=frozenset(access.roles), user=request.user)
    link = None
    if token := service_request.data.get("payment_link"):
        found = PaymentLink.objects.filter(operator=access.operator, token=token).first()
        link = payment_link_url(link=found) if found else None
    return {
        "service_request": service_request,
        "type": request_type,
        "state_label": request_type.state(service_request.state).label,
        "final": request_type.state(service_request.state).final,
        "category": CATEGORIES.get(service_request.data.get("category", ""), ""),
        "events": events_of(request=service_request),
        "event_labels": {**EVENT_LABELS, **{step.name: step.label for step in request_type.transitions}},
        "comments": service_request.comments.select_related("by"),
        "attachments": service_request.attachments.all(),
        "work_orders": service_request.work_orders.select_related("assignee").order_by("sequence_number"),
        "fees": fees_of(request=service_request) if access.has_role(*FEE_READ_ROLES, *WORK_ORDER_ROLES) else [],
        "transitions": [
            (
                step,
                forms.get(f"transition_{step.name}")
                or TransitionForm(initial={"transition": step.name}, technicians=technicians),
                transition_fields(service_request.type, step.name),
            )
            for step in allowed
        ],
        "facts": facts_of(service_request),
        "comment_form": forms.get("comment_form") or CommentForm(),
        "attachment_form": forms.get("attachment_form") or AttachmentForm(),
        "assign_form": forms.get("assign_form") or AssignForm(technicians=technicians),
        "can_write": access.has_role(*REQUEST_WRITE_ROLES),
        "quote_url": _quote_path(service_request),
        "payment_link": link,
        "money_format": _money_format(service_request.operator.currency),
    }


def _quote_path(service_request: ServiceRequest) -> str | None:
    from django.urls import reverse

    return reverse("quote", args=[service_request.quote_token]) if service_request.quote_token else None


@login_required
@require_roles(*REQUEST_READ_ROLES)
def request_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    access = _access(request)
    service_request = request_get_for_access(access=access, request_id=request_id)
    if service_request.fees.exists():  # a fee paid while no task ran is acted on when someone looks
        try:
            service_request = request_advance(request=service_request, acting_user=request.user)
        except DomainError as error:  # e.g. the fee schedule changed under it: say so, show the request as it is
            messages.error(request, str(error.message))
            service_request.refresh_from_db()
    return render(request, "servicing/request_detail.html", _detail(request, service_request))


@require_POST
@login_required
@require_roles(*REQUEST_READ_ROLES)
def request_transition_view(request: HttpRequest, request_id: int) -> HttpResponse:
    access = _access(request)
    service_request = request_get_for_access(access=access, request_id=request_id)
    form = TransitionForm(request.POST, technicians=technicians_of(operator=access.operator))
    if form.is_valid():
        data: dict[str, Any] = {}
        if form.cleaned_data.get("assignee"):
            data["assignee"] = technicians_of(operator=access.operator).filter(pk=form.cleaned_data["assignee"]).first()
        for name in transition_fields(service_request.type, form.cleaned_data["transition"]):
            data[name] = form.cleaned_data.get(name)
        try:
            request_transition(
                request=service_request,
                transition=form.cleaned_data["transition"],
                acting_user=request.user,
                note=form.cleaned_data["note"],
                **data,
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Request %(number)s is updated.") % {"number": service_request.number})
            return redirect("servicing:request_detail", request_id=service_request.pk)
    service_request.refresh_from_db()
    name = form.data.get("transition", "")
    return render(
        request,
        "servicing/request_detail.html",
        {**_detail(request, service_request, **{f"transition_{name}": form}), "transition_error": form},
        status=400,
    )


@require_POST
@login_required
@require_roles(*REQUEST_WRITE_ROLES)
def request_assign_view(request: HttpRequest, request_id: int) -> HttpResponse:
    access = _access(request)
    service_request = request_get_for_access(access=access, request_id=request_id)
    technicians = technicians_of(operator=access.operator)
    form = AssignForm(request.POST, technicians=technicians)
    if form.is_valid():
        try:
            request_assign(
                request=service_request,
                assignee=technicians.get(pk=form.cleaned_data["assignee"]),
                acting_user=request.user,
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Request %(number)s is reassigned.") % {"number": service_request.number})
            return redirect("servicing:request_detail", request_id=service_request.pk)
    return render(
        request, "servicing/request_detail.html", _detail(request, service_request, assign_form=form), status=400
    )


@require_POST
@login_required
@require_roles(*REQUEST_READ_ROLES)
def comment_add_view(request: HttpRequest, request_id: int) -> HttpResponse:
    service_request = request_get_for_access(access=_access(request), request_id=request_id)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            comment_add(request=service_request, text=form.cleaned_data["text"], acting_user=request.user)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            return redirect("servicing:request_detail", request_id=service_request.pk)
    return render(
        request, "servicing/request_detail.html", _detail(request, service_request, comment_form=form), status=400
    )


@require_POST
@login_required
@require_roles(*REQUEST_READ_ROLES)
def attachment_add_view(request: HttpRequest, request_id: int) -> HttpResponse:
    service_request = request_get_for_access(access=_access(request), request_id=request_id)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            attachment_add(
                request=service_request,
                upload=form.cleaned_data["file"],
                kind=form.cleaned_data["kind"],
                acting_user=request.user,
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("The file is attached."))
            return redirect("servicing:request_detail", request_id=service_request.pk)
    return render(
        request, "servicing/request_detail.html", _detail(request, service_request, attachment_form=form), status=400
    )


@login_required
@require_roles(*REQUEST_READ_ROLES)
def attachment_download(request: HttpRequest, request_id: int, attachment_id: int) -> HttpResponse:
    access = _access(request)
    service_request = request_get_for_access(access=access, request_id=request_id)
    attachment = attachment_get_for_access(access=access, request=service_request, attachment_id=attachment_id)
    with attachment.file.open("rb") as stored:  # at most MITA_ATTACHMENT_MAX_BYTES: read whole
        response = HttpResponse(stored.read(), content_type=attachment.content_type)
    response["Content-Disposition"] = (
        content_disposition_header(as_attachment=True, filename=attachment.original_name) or "attachment"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# Work orders ----------------------------------------------------------------------------------------------------


@login_required
@require_roles(*WORK_ORDER_ROLES)
def work_order_list(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    state = request.GET.get("state", "")
    state = state if state in WorkOrder.State.values else ""
    return render(
        request,
        "servicing/work_order_list.html",
        {
            "work_orders": work_orders_visible_to(access=access, state=state)[:PAGE_ROWS],
            "states": WorkOrder.State.choices,
            "state": state,
        },
    )


def _work_order_form(work_order: WorkOrder, access: Any, data: Any = None) -> Any:
    if work_order.kind == WorkOrder.Kind.SURVEY:
        return SurveyForm(data, materials=materials_visible_to(access=access, active=True))
    if work_order.kind == WorkOrder.Kind.FINAL_READING:
        return FinalReadingForm(data)
    if work_order.kind in (WorkOrder.Kind.DISCONNECTION, WorkOrder.Kind.RECONNECTION):
        return WorkDoneForm(data)
    return InstallationForm(data)


@login_required
@require_roles(*WORK_ORDER_ROLES)
def work_order_detail(request: HttpRequest, work_order_id: int) -> HttpResponse:
    access = _access(request)
    work_order = work_order_get_for_access(access=access, work_order_id=work_order_id)
    form = _work_order_form(work_order, access, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            work_order_complete(work_order=work_order, result=form.result(), acting_user=request.user)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Work order %(number)s is done.") % {"number": work_order.number})
            return redirect("servicing:work_order_detail", work_order_id=work_order.pk)
    service_request = work_order.request
    return render(
        request,
        "servicing/work_order_detail.html",
        {
            "work_order": work_order,
            "service_request": service_request,
            "state_label": type_get(service_request.type).state(service_request.state).label,
            "form": form,
            "open": work_order.state in (WorkOrder.State.OPEN, WorkOrder.State.IN_PROGRESS),
            "survey_materials": _survey_lines(work_order),
        },
        status=_status(request),
    )


def _survey_lines(work_order: WorkOrder) -> list[dict[str, Any]]:
    return list(work_order.result.get("materials", [])) if work_order.kind == WorkOrder.Kind.SURVEY else []


@require_POST
@login_required
@require_roles(*WORK_ORDER_ROLES)
def work_order_start_view(request: HttpRequest, work_order_id: int) -> HttpResponse:
    work_order = work_order_get_for_access(access=_access(request), work_order_id=work_order_id)
    try:
        work_order_start(work_order=work_order, acting_user=request.user)
    except DomainError as error:
        messages.error(request, str(error.message))
    return redirect("servicing:work_order_detail", work_order_id=work_order.pk)


# Fees and terms --------------------------------------------------------------------------------------------------


@login_required
@require_roles(*FEE_READ_ROLES)
def fee_list(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    can_write = access.has_role(*ADMIN_ROLES)
    form = FeeForm(request.POST if request.method == "POST" and can_write else None)
    if request.method == "POST" and can_write and form.is_valid():
        try:
            service_fee_set(operator=access.operator, acting_user=request.user, **form.cleaned_data)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("The fee schedule is changed."))
            return redirect("servicing:fee_list")
    return render(
        request,
        "servicing/fee_list.html",
        {
            "fees": fees_visible_to(access=access),
            "form": form,
            "can_write": can_write,
            "currency": access.operator.currency,
            "money_format": _money_format(access.operator.currency),
        },
        status=_status(request) if can_write else 200,
    )


@login_required
@require_roles(*ADMIN_ROLES)
def terms_list(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    form = TermsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            terms_publish(operator=access.operator, acting_user=request.user, **form.cleaned_data)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("The terms are published."))
            return redirect("servicing:terms_list")
    return render(
        request,
        "servicing/terms_list.html",
        {"versions": terms_of(access=access), "current": terms_current(operator=access.operator), "form": form},
        status=_status(request),
    )


# The public quote page -------------------------------------------------------------------------------------------


def quote_page(request: HttpRequest, token: str) -> HttpResponse:
    """What the applicant's SMS links to: no login; the unguessable token is the secret (a wrong one is a 404)."""
    service_request = request_by_quote_token(token=token)
    fees = fees_of(request=service_request)
    link = None
    if link_token := service_request.data.get("payment_link"):
        found = PaymentLink.objects.filter(operator=service_request.operator, token=link_token).first()
        link = payment_link_url(link=found) if found else None
    response = render(
        request,
        "servicing/quote.html",
        {
            "service_request": service_request,
            "operator": service_request.operator,
            "fees": fees,
            "material": next((fee for fee in fees if fee.kind == "material"), None),
            "total": sum((fee.amount for fee in fees), start=0),
            "paid": sum((fee.paid for fee in fees), start=0),  # type: ignore[attr-defined]
            "open": sum((fee.open for fee in fees), start=0),  # type: ignore[attr-defined]
            "payment_link": link,
            "money_format": _money_format(service_request.operator.currency),
        },
    )
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
