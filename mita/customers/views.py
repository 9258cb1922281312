"""Customer pages: the list and its search (cards), registering a customer, their 360 page and its panels, service
notes, status changes, connections."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mita.core.errors import DomainError
from mita.core.forms import form_add_domain_error
from mita.core.permissions import require_roles
from mita.customers.customer_panels import NOTE_ROLES, notes_context
from mita.customers.forms import (
    ConnectionForm,
    CustomerEditForm,
    CustomerForm,
    CustomerSearchForm,
    CustomerStatusForm,
    ServiceNoteForm,
)
from mita.customers.indigent import indigent_register_visible_to
from mita.customers.notes import service_note_add
from mita.customers.panels import headline_counts, panel_get, panel_render, panel_response, panels_for
from mita.customers.search import customer_search
from mita.customers.selectors import (
    CUSTOMER_READ_ROLES,
    CUSTOMER_WRITE_ROLES,
    connections_visible_to,
    customer_get_for_access,
    customers_visible_to,
)
from mita.customers.selectors_details import chambers_visible_to, routes_visible_to
from mita.customers.services import (
    connection_create,
    connection_parcel_resolve,
    customer_create,
    customer_status_change,
    customer_update,
)
from mita.registry.selectors import districts
from mita.registry.selectors_clusters import clusters_visible_to, supply_systems_visible_to

PAGE_ROWS = 50


def _status(request: HttpRequest) -> int:
    """A form sent back with errors is a 400: nothing was saved."""
    return 400 if request.method == "POST" else 200


@login_required
@require_roles(*CUSTOMER_READ_ROLES)
def customer_list(request: HttpRequest) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    form = CustomerSearchForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    search = (filters.get("q") or "").strip()
    results = page = None
    if search:
        # A search shows cards (one per connection, grouped by phone), at most RESULT_CUSTOMERS customers.
        results = customer_search(access=access, query=search, status=filters.get("status") or "")
    else:
        customers = customers_visible_to(access=access, status=filters.get("status") or "").order_by("sequence_number")
        page = Paginator(customers, PAGE_ROWS).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    template = "customers/customer_list.html"
    if request.htmx:  # type: ignore[attr-defined]  # search-as-you-type swaps the results only
        template += "#results"
    return render(
        request,
        template,
        {
            "form": form,
            "page": page,
            "results": results,
            "query": query.urlencode(),
            "can_write": access.has_role(*CUSTOMER_WRITE_ROLES),
        },
    )


@login_required
@require_roles(*CUSTOMER_WRITE_ROLES)
def customer_create_view(request: HttpRequest) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    form = CustomerForm(request.POST or None, districts=districts())
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            customer = customer_create(
                operator=access.operator,
                acting_user=request.user,
                name=data.pop("name"),
                phone=data.pop("phone"),
                **data,
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Customer %(number)s is registered.") % {"number": customer.number})
            return redirect("customers:customer_detail", customer_id=customer.pk)
    return render(request, "customers/customer_form.html", {"form": form}, status=_status(request))


@login_required
@require_roles(*CUSTOMER_READ_ROLES)
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The customer 360 page: general data, the headline counts and every panel the user's roles see."""
    access = request.access  # type: ignore[attr-defined]
    customer = customer_get_for_access(access=access, customer_id=customer_id)
    panels = panels_for(access, customer)
    rendered = [
        panel_render(request, panel, None if panel.lazy else panel.context(access, customer) | {"customer": customer})
        for panel in panels
    ]
    return render(
        request,
        "customers/customer_detail.html",
        {
            "customer": customer,
            "counts": headline_counts(access, customer, panels),
            "panels": rendered,
            "indigent": indigent_register_visible_to(access=access, on=timezone.localdate(), customer=customer).first(),
            "can_write": access.has_role(*CUSTOMER_WRITE_ROLES),
        },
    )


@login_required
@require_roles(*CUSTOMER_READ_ROLES)
def customer_panel(request: HttpRequest, customer_id: int, panel_key: str) -> HttpResponse:
    """One panel of the 360 page: what htmx loads for a lazy panel, or reloads after a change."""
    access = request.access  # type: ignore[attr-defined]
    customer = customer_get_for_access(access=access, customer_id=customer_id)
    panel = panel_get(access, customer, panel_key)
    return panel_response(request, customer, panel, panel.context(access, customer))


@login_required
@require_roles(*NOTE_ROLES)
@require_POST
def customer_note_add(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Add a service note from the 360 page; htmx swaps the notes panel, a plain form goes back to the page."""
    access = request.access  # type: ignore[attr-defined]
    customer = customer_get_for_access(access=access, customer_id=customer_id)
    panel = panel_get(access, customer, "customers.notes")
    form = ServiceNoteForm(
        request.POST, connections=connections_visible_to(access=access, customer=customer).order_by("number")
    )
    if form.is_valid():
        try:
            service_note_add(
                customer=customer,
                text=form.cleaned_data["text"],
                connection=form.cleaned_data["connection"],
                acting_user=request.user,
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            if not getattr(request, "htmx", False):
                messages.success(request, _("The note is added."))
                return redirect("customers:customer_detail", customer_id=customer.pk)
            return panel_response(request, customer, panel, notes_context(access, customer))
    # htmx swaps only a 2xx answer: the form with its errors comes back as a 200 there, as a 400 to a plain form.
    status = 200 if getattr(request, "htmx", False) else 400
    return panel_response(request, customer, panel, notes_context(access, customer, form), status=status)


@login_required
@require_roles(*CUSTOMER_WRITE_ROLES)
def customer_edit_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Correct a customer's name, ID, language, address or bank account; phones and e-mail change with the code
    sent to the customer's phone (the contact change page)."""
    access = request.access  # type: ignore[attr-defined]
    customer = customer_get_for_access(access=access, customer_id=customer_id)
    initial = {field: getattr(customer, field) for field in CustomerEditForm.base_fields if hasattr(customer, field)}
    form = CustomerEditForm(request.POST or None, initial=initial, districts=districts())
    if request.method == "POST" and form.is_valid():
        try:
            customer_update(customer=customer, acting_user=request.user, **form.cleaned_data)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("The customer's details are saved."))
            return redirect("customers:customer_detail", customer_id=customer.pk)
    return render(
        request, "customers/customer_edit.html", {"form": form, "customer": customer}, status=_status(request)
    )


@login_required
@require_roles(*CUSTOMER_WRITE_ROLES)
def customer_status_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    customer = customer_get_for_access(access=access, customer_id=customer_id)
    form = CustomerStatusForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer_status_change(
                customer=customer,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
                acting_user=request.user,
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("The customer's status is changed."))
            return redirect("customers:customer_detail", customer_id=customer.pk)
    return render(
        request, "customers/customer_status.html", {"customer": customer, "form": form}, status=_status(request)
    )


@login_required
@require_roles(*CUSTOMER_WRITE_ROLES)
def connection_create_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    customer = customer_get_for_access(access=access, customer_id=customer_id)
    form = ConnectionForm(
        request.POST or None,
        supply_systems=supply_systems_visible_to(access),
        clusters=clusters_visible_to(access),
        routes=routes_visible_to(access=access),
        chambers=chambers_visible_to(access=access),
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            # The land registry is asked before the connection's transaction opens (it may take seconds).
            parcel = connection_parcel_resolve(data.pop("parcel_upi"))
            connection = connection_create(
                operator=access.operator, customer=customer, acting_user=request.user, parcel=parcel, **data
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Connection %(number)s is added.") % {"number": connection.number})
            if parcel.warning:
                messages.warning(
                    request,
                    _("%(problem)s The UPI is saved; look it up again from the connection's edit page.")
                    % {"problem": parcel.warning},
                )
            return redirect("customers:customer_detail", customer_id=customer.pk)
    return render(
        request,
        "customers/connection_form.html",
        {"customer": customer, "form": form, "currency": access.operator.currency},
        status=_status(request),
    )
