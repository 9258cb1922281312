"""Pages for connection details: editing a connection, looking a land parcel up (htmx), routes and meter chambers."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from mita.core.errors import DomainError
from mita.core.forms import form_add_domain_error
from mita.core.permissions import require_roles
from mita.customers.forms import ChamberForm, ConnectionEditForm, RouteForm
from mita.customers.parcels import ParcelError, parcel_lookup
from mita.customers.selectors import CUSTOMER_READ_ROLES, CUSTOMER_WRITE_ROLES, connection_get_for_access
from mita.customers.selectors_details import (
    chamber_get_for_access,
    chambers_visible_to,
    route_get_for_access,
    routes_visible_to,
)
from mita.customers.services import connection_parcel_resolve, connection_update
from mita.customers.services_places import chamber_create, chamber_update, route_create, route_update
from mita.registry.selectors_clusters import supply_systems_visible_to

EDITABLE = ("connection_type", "metered", "latitude", "longitude", "route", "reading_sequence", "chamber")


def _status(request: HttpRequest) -> int:
    """A form sent back with errors is a 400: nothing was saved."""
    return 400 if request.method == "POST" else 200


@login_required
@require_roles(*CUSTOMER_WRITE_ROLES)
def connection_edit_view(request: HttpRequest, connection_id: int) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    connection = connection_get_for_access(access=access, connection_id=connection_id)
    initial = {
        field: getattr(connection, field) for field in (*EDITABLE, "billing_cycle", "assessed_usage", "parcel_upi")
    }
    form = ConnectionEditForm(
        request.POST or None,
        initial=initial,
        routes=routes_visible_to(access=access),
        chambers=chambers_visible_to(access=access),
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            parcel = connection_parcel_resolve(data.pop("parcel_upi"))
            connection_update(connection=connection, acting_user=request.user, parcel=parcel, **data)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Connection %(number)s is saved.") % {"number": connection.number})
            if parcel.warning:
                messages.warning(
                    request,
                    _("%(problem)s The UPI is saved; look it up again later.") % {"problem": parcel.warning},
                )
            return redirect("customers:customer_detail", customer_id=connection.customer_id)
    return render(
        request,
        "customers/connection_edit.html",
        {"connection": connection, "form": form},
        status=_status(request),
    )


@login_required
@require_roles(*CUSTOMER_WRITE_ROLES)
def parcel_lookup_view(request: HttpRequest) -> HttpResponse:
    """The parcel a UPI names, as a part of the connection form (htmx): nothing typed in the form is touched."""
    upi = (request.GET.get("parcel_upi") or "").strip()
    context: dict[str, object] = {"upi": upi}
    if upi:
        try:
            context["parcel"] = parcel_lookup(upi)
        except ParcelError as error:
            context["error"] = str(error.message)
    template = "customers/_parcel.html"
    return render(request, template, context)


@login_required
@require_roles(*CUSTOMER_READ_ROLES)
def route_list(request: HttpRequest) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    return render(
        request,
        "customers/route_list.html",
        {"routes": routes_visible_to(access=access), "can_write": access.has_role(*CUSTOMER_WRITE_ROLES)},
    )


@login_required
@require_roles(*CUSTOMER_WRITE_ROLES)
def route_form_view(request: HttpRequest, route_id: int | None = None) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    route = route_get_for_access(access=access, route_id=route_id) if route_id is not None else None
    initial = {"code": route.code, "name": route.name, "supply_system": route.supply_system} if route else None
    form = RouteForm(request.POST or None, initial=initial, supply_systems=supply_systems_visible_to(access))
    if request.method == "POST" and form.is_valid():
        try:
            if route is None:
                route = route_create(operator=access.operator, acting_user=request.user, **form.cleaned_data)
            else:
                route = route_update(route=route, acting_user=request.user, **form.cleaned_data)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Route %(code)s is saved.") % {"code": route.code})
            return redirect("customers:route_list")
    return render(request, "customers/route_form.html", {"route": route, "form": form}, status=_status(request))


@login_required
@require_roles(*CUSTOMER_READ_ROLES)
def chamber_list(request: HttpRequest) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    return render(
        request,
        "customers/chamber_list.html",
        {"chambers": chambers_visible_to(access=access), "can_write": access.has_role(*CUSTOMER_WRITE_ROLES)},
    )


@login_required
@require_roles(*CUSTOMER_WRITE_ROLES)
def chamber_form_view(request: HttpRequest, chamber_id: int | None = None) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    chamber = chamber_get_for_access(access=access, chamber_id=chamber_id) if chamber_id is not None else None
    initial = (
        {field: getattr(chamber, field) for field in ("code", "description", "latitude", "longitude")}
        if chamber
        else None
    )
    form = ChamberForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if chamber is None:
                chamber = chamber_create(operator=access.operator, acting_user=request.user, **form.cleaned_data)
            else:
                chamber = chamber_update(chamber=chamber, acting_user=request.user, **form.cleaned_data)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Meter chamber %(code)s is saved.") % {"code": chamber.code})
            return redirect("customers:chamber_list")
    return render(request, "customers/chamber_form.html", {"chamber": chamber, "form": form}, status=_status(request))
