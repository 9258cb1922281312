"""Pages of a connection's meter: what is installed and where its registers stand, the installation history, the
readings; installing, removing and replacing the meter; and finding a connection to read."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mita.core.forms import form_add_domain_error
from mita.core.permissions import request_access, require_roles
from mita.core.tables import Column, table
from mita.customers.models import Connection
from mita.metering.errors import MeteringError
from mita.metering.forms_installations import FindForm, InstallForm, RemoveForm, ReplaceForm
from mita.metering.installation_actions import installation_install, installation_remove, installation_replace
from mita.metering.selectors_installations import (
    INSTALL_READ_ROLES,
    INSTALL_WRITE_ROLES,
    connection_get_for_metering,
    installation_open_of,
    installations_of,
    meter_on_connection,
    meters_in_store_for,
    operator_of,
    readings_of,
    stores_for,
)
from mita.metering.selectors_installations_find import connections_for_reading

READINGS_PER_PAGE = 25


def _status(request: HttpRequest) -> int:
    """A form sent back with errors is a 400: nothing was saved."""
    return 400 if request.method == "POST" else 200


def reading_entry_url(connection: Connection) -> str | None:
    """The reading entry page for a connection (built by the readings part), when this deployment has it."""
    try:
        return reverse("metering:reading_enter") + f"?connection={connection.pk}"
    except NoReverseMatch:
        return None


def index_text(value: Any) -> str:
    """An index or a consumption without trailing zeros: 1234, 12.5."""
    return "" if value is None else format(value.normalize(), "f")


def _reading_columns() -> list[Column]:
    return [
        Column("read_on", gettext_lazy("Read on"), order_by="read_on", value=lambda r: r.read_on.isoformat()),
        Column("cycle", gettext_lazy("Cycle"), order_by="cycle"),
        Column("register", gettext_lazy("Register")),
        Column("meter", gettext_lazy("Meter"), value=lambda reading: reading.installation.meter.serial),
        Column("previous_index", gettext_lazy("Previous index"), value=lambda r: index_text(r.previous_index)),
        Column("current_index", gettext_lazy("Index"), value=lambda r: index_text(r.current_index)),
        Column(
            "consumption",
            gettext_lazy("Consumption"),
            order_by="consumption",
            value=lambda r: index_text(r.consumption),
        ),
        Column("status", gettext_lazy("Status"), order_by="status", value=lambda r: r.get_status_display()),
        Column(
            "anomaly",
            gettext_lazy("Anomaly"),
            value=lambda r: " · ".join(
                str(label)
                for label in (
                    r.get_anomaly_display() if r.anomaly else "",
                    r.get_reader_code_display() if r.reader_code else "",
                    gettext_lazy("rollover") if r.rollover else "",
                )
                if label
            ),
        ),
        Column("source", gettext_lazy("Source"), order_by="source", value=lambda r: r.get_source_display()),
        Column("reader", gettext_lazy("Reader"), value=lambda r: r.reader.name if r.reader else ""),
    ]


@login_required
@require_roles(*INSTALL_READ_ROLES)
def connection_meter(request: HttpRequest, connection_id: int) -> HttpResponse:
    access = request_access(request)
    connection = connection_get_for_metering(access=access, connection_id=connection_id)
    readings = table(
        request,
        readings_of(connection=connection),
        _reading_columns(),
        default_sort="-read_on",
        per_page=READINGS_PER_PAGE,
    )
    context = {
        "connection": connection,
        "meter": meter_on_connection(connection=connection),
        "installations": list(installations_of(connection=connection)[:50]),
        "table": readings,
        "can_write": access.has_role(*INSTALL_WRITE_ROLES),
        "reading_entry_url": reading_entry_url(connection),
    }
    template = "metering/installations/_readings.html" if getattr(request, "htmx", False) else None
    return render(request, template or "metering/installations/connection_meter.html", context)


def _form_page(request: HttpRequest, connection: Connection, form: Any, action: str, **extra: Any) -> HttpResponse:
    context = {
        "connection": connection,
        "form": form,
        "action": action,
        "installation": installation_open_of(connection=connection),
        "meters_in_store": meters_in_store_for(connection=connection) if action != "remove" else [],
        **extra,
    }
    return render(request, "metering/installations/meter_form.html", context, status=_status(request))


def _done(request: HttpRequest, connection: Connection, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("metering:connection_meter", connection_id=connection.pk)


@login_required
@require_roles(*INSTALL_WRITE_ROLES)
def meter_install_view(request: HttpRequest, connection_id: int) -> HttpResponse:
    access = request_access(request)
    connection = connection_get_for_metering(access=access, connection_id=connection_id)
    form = InstallForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            outcome = installation_install(
                connection=connection,
                serial=data["serial"],
                brand=data["brand"],
                installed_on=data["installed_on"],
                initial_index=data["initial_index"],
                acting_user=request.user,
            )
        except MeteringError as error:
            form_add_domain_error(form, error)
        else:
            meter = outcome.installation.meter
            return _done(request, connection, _("Meter %(serial)s is installed.") % {"serial": meter.serial})
    return _form_page(request, connection, form, "install")


@login_required
@require_roles(*INSTALL_WRITE_ROLES)
def meter_remove_view(request: HttpRequest, connection_id: int) -> HttpResponse:
    access = request_access(request)
    connection = connection_get_for_metering(access=access, connection_id=connection_id)
    form = RemoveForm(request.POST or None, stores=stores_for(operator=operator_of(access)))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            outcome = installation_remove(
                connection=connection,
                removed_on=data["removed_on"],
                final_index=data["final_index"],
                reason=data["reason"],
                to_store=data["to_store"],
                acting_user=request.user,
            )
        except MeteringError as error:
            form_add_domain_error(form, error)
        else:
            meter = outcome.installation.meter
            return _done(request, connection, _("Meter %(serial)s is removed.") % {"serial": meter.serial})
    return _form_page(request, connection, form, "remove")


@login_required
@require_roles(*INSTALL_WRITE_ROLES)
def meter_replace_view(request: HttpRequest, connection_id: int) -> HttpResponse:
    access = request_access(request)
    connection = connection_get_for_metering(access=access, connection_id=connection_id)
    form = ReplaceForm(request.POST or None, stores=stores_for(operator=operator_of(access)))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            outcome = installation_replace(
                connection=connection,
                serial=data["serial"],
                brand=data["brand"],
                replaced_on=data["replaced_on"],
                final_index=data["final_index"],
                initial_index=data["initial_index"],
                reason=data["reason"],
                to_store=data["to_store"],
                acting_user=request.user,
            )
        except MeteringError as error:
            form_add_domain_error(form, error)
        else:
            meter = outcome.installation.meter
            return _done(request, connection, _("Meter %(serial)s replaces the old one.") % {"serial": meter.serial})
    return _form_page(request, connection, form, "replace")


@login_required
@require_roles(*INSTALL_READ_ROLES)
def reading_find(request: HttpRequest) -> HttpResponse:
    """Find a connection for reading by meter serial or point of connection (number, chamber); htmx refreshes the
    results as the reader types."""
    access = request_access(request)
    form = FindForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    found = connections_for_reading(operator=operator_of(access), query=query) if query.strip() else []
    results = [(item, reading_entry_url(item.connection)) for item in found]
    context = {"form": form, "query": query, "results": results}
    if getattr(request, "htmx", False):
        return render(request, "metering/installations/_find_results.html", context)
    return render(request, "metering/installations/find.html", context)
