"""Pages of metering: meters — meter models with their registers, stores, the meters (list and a meter's history) and
receiving a batch from a supplier. Movements and calibration are in views_movements."""

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mita.core.errors import DomainError
from mita.core.forms import form_add_domain_error
from mita.core.permissions import require_roles
from mita.core.tables import Column, table
from mita.metering.forms_meters import (
    MeterFilterForm,
    MeterModelForm,
    ReceiveForm,
    RegisterFormSet,
    StoreForm,
    registers_of,
)
from mita.metering.models import Meter
from mita.metering.selectors_meters import (
    METER_READ_ROLES,
    METER_WRITE_ROLES,
    meter_get_for_access,
    meter_history,
    meter_model_get_for_access,
    meter_models_visible_to,
    meters_visible_to,
    store_get_for_access,
    stores_visible_to,
)
from mita.metering.serials import serial_range, serials_parse
from mita.metering.services_catalogue import meter_model_create, meter_model_update, store_create, store_update
from mita.metering.services_movements import meters_receive

TEMPLATES = "metering/meters/"


def _status(request: HttpRequest, ok: bool = False) -> int:
    """A form sent back with errors is a 400: nothing was saved."""
    return 400 if request.method == "POST" and not ok else 200


# Meter models ------------------------------------------------------------------------------------------------------


@login_required
@require_roles(*METER_READ_ROLES)
def meter_model_list(request: HttpRequest) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    return render(
        request,
        TEMPLATES + "meter_model_list.html",
        {
            "meter_models": meter_models_visible_to(access=access, search=request.GET.get("q", "")),
            "q": request.GET.get("q", ""),
            "can_write": access.has_role(*METER_WRITE_ROLES),
        },
    )


def _model_form_page(request: HttpRequest, meter_model: Any, form: Any, formset: Any, can_write: bool) -> HttpResponse:
    return render(
        request,
        TEMPLATES + "meter_model_form.html",
        {"form": form, "formset": formset, "meter_model": meter_model, "can_write": can_write},
        status=_status(request) if can_write else 200,
    )


@login_required
@require_roles(*METER_WRITE_ROLES)
def meter_model_create_view(request: HttpRequest) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    form = MeterModelForm(request.POST or None)
    formset = RegisterFormSet(request.POST or None, prefix="registers")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            model = meter_model_create(
                operator=access.operator, acting_user=request.user, registers=registers_of(formset), **form.cleaned_data
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Meter model %(code)s is saved.") % {"code": model.code})
            return redirect("metering:meter_model_list")
    return _model_form_page(request, None, form, formset, True)


@login_required
@require_roles(*METER_READ_ROLES)
def meter_model_edit(request: HttpRequest, meter_model_id: int) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    model = meter_model_get_for_access(access=access, meter_model_id=meter_model_id)
    can_write = access.has_role(*METER_WRITE_ROLES)
    posted = request.POST if request.method == "POST" and can_write else None
    initial = {field: getattr(model, field) for field in MeterModelForm.base_fields}
    form = MeterModelForm(posted, initial=initial, editing=True)
    registers = [
        {"code": register.code, "unit": register.unit, "multiplier": register.multiplier}
        for register in model.registers.all()
    ]
    formset = RegisterFormSet(posted, initial=registers, prefix="registers")
    if posted is not None and form.is_valid() and formset.is_valid():
        data = dict(form.cleaned_data)
        data.pop("code", None)
        try:
            meter_model_update(meter_model=model, acting_user=request.user, registers=registers_of(formset), **data)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Meter model %(code)s is changed.") % {"code": model.code})
            return redirect("metering:meter_model_list")
    return _model_form_page(request, model, form, formset, can_write)


# Stores --------------------------------------------------------------------------------------------------------------


@login_required
@require_roles(*METER_READ_ROLES)
def store_list(request: HttpRequest) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    return render(
        request,
        TEMPLATES + "store_list.html",
        {"stores": stores_visible_to(access=access), "can_write": access.has_role(*METER_WRITE_ROLES)},
    )


@login_required
@require_roles(*METER_WRITE_ROLES)
def store_create_view(request: HttpRequest) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    form = StoreForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            store = store_create(operator=access.operator, acting_user=request.user, **form.cleaned_data)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Store %(code)s is saved.") % {"code": store.code})
            return redirect("metering:store_list")
    return render(
        request,
        TEMPLATES + "store_form.html",
        {"form": form, "store": None, "can_write": True},
        status=_status(request),
    )


@login_required
@require_roles(*METER_READ_ROLES)
def store_edit(request: HttpRequest, store_id: int) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    store = store_get_for_access(access=access, store_id=store_id)
    can_write = access.has_role(*METER_WRITE_ROLES)
    posted = request.POST if request.method == "POST" and can_write else None
    form = StoreForm(posted, initial={f: getattr(store, f) for f in StoreForm.base_fields}, editing=True)
    if posted is not None and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("code", None)
        try:
            store_update(store=store, acting_user=request.user, **data)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Store %(code)s is changed.") % {"code": store.code})
            return redirect("metering:store_list")
    return render(
        request,
        TEMPLATES + "store_form.html",
        {"form": form, "store": store, "can_write": can_write},
        status=_status(request) if can_write else 200,
    )


# Meters --------------------------------------------------------------------------------------------------------------


def _meter_link(meter: Meter) -> str:
    return reverse("metering:meter_detail", args=[meter.pk])


@login_required
@require_roles(*METER_READ_ROLES)
def meter_list(request: HttpRequest) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    form = MeterFilterForm(request.GET or None, operator=access.operator)
    filters = form.cleaned_data if form.is_valid() else {}
    meters = meters_visible_to(
        access=access,
        status=filters.get("status") or "",
        store_id=filters["store"].pk if filters.get("store") else None,
        meter_model_id=filters["meter_model"].pk if filters.get("meter_model") else None,
        serial=filters.get("q") or "",
    )
    columns = [
        Column("serial", gettext_lazy("Serial"), order_by="serial", link=_meter_link),
        Column("brand", gettext_lazy("Brand"), order_by="brand"),
        Column("meter_model", gettext_lazy("Model"), order_by="meter_model__code", value=lambda m: m.meter_model.code),
        Column("status", gettext_lazy("Status"), order_by="status", value=lambda m: m.get_status_display()),
        Column("store", gettext_lazy("Store"), order_by="store__code", value=lambda m: m.store.code if m.store else ""),
        Column("received_on", gettext_lazy("Received"), order_by="received_on"),
        Column("last_calibrated_on", gettext_lazy("Last calibrated"), order_by="last_calibrated_on"),
    ]
    template = TEMPLATES + "meter_list.html"
    if request.htmx:  # type: ignore[attr-defined]
        template += "#results"
    return render(
        request,
        template,
        {
            "form": form,
            "table": table(request, meters, columns, default_sort="serial", per_page=50),
            "can_write": access.has_role(*METER_WRITE_ROLES),
        },
    )


@login_required
@require_roles(*METER_READ_ROLES)
def meter_detail(request: HttpRequest, meter_id: int) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    meter = meter_get_for_access(access=access, meter_id=meter_id)
    return render(
        request,
        TEMPLATES + "meter_detail.html",
        {
            "meter": meter,
            "history": meter_history(meter=meter),
            "registers": list(meter.meter_model.registers.all()),
            "can_write": access.has_role(*METER_WRITE_ROLES),
        },
    )


@login_required
@require_roles(*METER_WRITE_ROLES)
def meters_receive_view(request: HttpRequest) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    form = ReceiveForm(request.POST or None, operator=access.operator)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["serials"].strip():
                serials = serials_parse(data["serials"])
            else:
                serials = serial_range(data["serial_from"], data["serial_to"])
            result = meters_receive(
                operator=access.operator,
                store=data["store"],
                meter_model=data["meter_model"],
                serials=serials,
                received_on=data["received_on"],
                supplier=data["supplier"],
                reference=data["reference"],
                note=data["note"],
                key=data["key"],
                acting_user=request.user,
            )
        except DomainError as error:
            form_add_domain_error(form, error)
            if error.code == "key_reused":  # the page's key came back with other serials: the next send is new
                fresh = request.POST.copy()
                fresh["key"] = uuid.uuid4().hex
                form.data = fresh
        else:
            count = result.movement.lines.count()
            messages.success(
                request,
                _("%(count)s meters received into %(store)s.") % {"count": count, "store": data["store"].code},
            )
            return redirect("metering:movement_detail", movement_id=result.movement.pk)
    return render(request, TEMPLATES + "receive_form.html", {"form": form}, status=_status(request))
