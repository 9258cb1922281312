"""Pages of the materials catalogue: the list, adding an item, changing one."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from mita.core.errors import DomainError
from mita.core.forms import form_add_domain_error
from mita.core.permissions import require_roles
from mita.stock.forms import MaterialForm, MaterialSearchForm
from mita.stock.selectors import (
    MATERIAL_READ_ROLES,
    MATERIAL_WRITE_ROLES,
    material_get_for_access,
    materials_visible_to,
)
from mita.stock.services import material_create, material_update


def _status(request: HttpRequest) -> int:
    return 400 if request.method == "POST" else 200


@login_required
@require_roles(*MATERIAL_READ_ROLES)
def material_list(request: HttpRequest) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    form = MaterialSearchForm(request.GET or None)
    search = form.cleaned_data.get("q", "") if form.is_valid() else ""
    return render(
        request,
        "stock/material_list.html",
        {
            "form": form,
            "materials": materials_visible_to(access=access, search=search),
            "currency": access.operator.currency,
            "can_write": access.has_role(*MATERIAL_WRITE_ROLES),
        },
    )


@login_required
@require_roles(*MATERIAL_WRITE_ROLES)
def material_create_view(request: HttpRequest) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    form = MaterialForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            material = material_create(operator=access.operator, acting_user=request.user, **form.cleaned_data)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Item %(code)s is in the catalogue.") % {"code": material.code})
            return redirect("stock:material_list")
    return render(request, "stock/material_form.html", {"form": form, "material": None}, status=_status(request))


@login_required
@require_roles(*MATERIAL_READ_ROLES)
def material_edit(request: HttpRequest, material_id: int) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    material = material_get_for_access(access=access, material_id=material_id)
    can_write = access.has_role(*MATERIAL_WRITE_ROLES)
    initial = {
        "code": material.code,
        "name": material.name,
        "unit": material.unit,
        "unit_price": material.unit_price,
        "properties": json.dumps(material.properties) if material.properties else "",
        "active": material.active,
    }
    form = MaterialForm(request.POST if request.method == "POST" and can_write else None, initial=initial, editing=True)
    if request.method == "POST" and can_write and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("code", None)
        try:
            material_update(material=material, acting_user=request.user, **data)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Item %(code)s is changed.") % {"code": material.code})
            return redirect("stock:material_list")
    return render(
        request,
        "stock/material_form.html",
        {"form": form, "material": material, "can_write": can_write},
        status=_status(request) if can_write else 200,
    )
