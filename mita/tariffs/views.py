"""Tariff pages: the list, a tariff with its versions, simulator and comparison, new and changed tariffs, versions
(the JSON definition in a text box), publishing, and packages."""

import datetime
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mita.core.errors import DomainError
from mita.core.forms import form_add_domain_error
from mita.core.permissions import require_roles
from mita.tariffs import pricing
from mita.tariffs.forms import CompareForm, PackageEditForm, PackageForm, SimulateForm, TariffForm, VersionForm
from mita.tariffs.models import Tariff, TariffVersion
from mita.tariffs.selectors import (
    TARIFF_READ_ROLES,
    TARIFF_WRITE_ROLES,
    connection_numbers_of,
    package_get_for_access,
    packages_with_prices,
    supply_system_choices,
    tariff_get_for_access,
    tariff_history,
    tariffs_visible_to,
    version_get_for_access,
    version_in_force,
    versions_of,
    with_version_in_force,
)
from mita.tariffs.services import (
    tariff_create,
    tariff_update,
    version_create,
    version_publish,
    version_update,
)
from mita.tariffs.services_packages import package_create, package_update
from mita.tariffs.simulation import compare, simulate, usage_for


def _status(request: HttpRequest) -> int:
    """A form sent back with errors is a 400: nothing was saved."""
    return 400 if request.method == "POST" else 200


def _access(request: HttpRequest) -> Any:
    return request.access  # type: ignore[attr-defined]


def _writer_tariff(request: HttpRequest, tariff_id: int) -> Tariff:
    """A tariff of the user's own operator that they may change (404 for any other)."""
    access = _access(request)
    tariff = tariff_get_for_access(access=access, tariff_id=tariff_id)
    if access.operator is None or tariff.operator_id != access.operator.pk:
        raise Http404
    return tariff


@login_required
@require_roles(*TARIFF_READ_ROLES)
def tariff_list(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    search = request.GET.get("q", "")[:100]
    utility = request.GET.get("utility", "")
    tariffs = tariffs_visible_to(
        access=access, search=search, utility=utility if utility in Tariff.Utility.values else "", kind="standard"
    )
    rows = with_version_in_force(tariffs, on=timezone.localdate())[:200]
    return render(
        request,
        "tariffs/tariff_list.html",
        {
            "rows": rows,
            "search": search,
            "utility": utility,
            "utilities": Tariff.Utility.choices,
            "oversight": access.operator is None,
            "can_write": access.operator is not None and access.has_role(*TARIFF_WRITE_ROLES),
        },
    )


@login_required
@require_roles(*TARIFF_WRITE_ROLES)
def tariff_create_view(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    if access.operator is None:
        raise Http404
    form = TariffForm(
        request.POST or None,
        supply_systems=supply_system_choices(operator=access.operator),
        initial={"utility": access.operator.utility},
    )
    if request.method == "POST" and form.is_valid():
        try:
            tariff = tariff_create(operator=access.operator, acting_user=request.user, **form.service_values())
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Tariff %(code)s is saved; add its first version.") % {"code": tariff.code})
            return redirect("tariffs:version_create", tariff_id=tariff.pk)
    return render(request, "tariffs/tariff_form.html", {"form": form, "tariff": None}, status=_status(request))


@login_required
@require_roles(*TARIFF_WRITE_ROLES)
def tariff_edit(request: HttpRequest, tariff_id: int) -> HttpResponse:
    tariff = _writer_tariff(request, tariff_id)
    if tariff.kind == Tariff.Kind.PACKAGE:
        raise Http404  # a package's tariff has no applicability to edit
    initial = {
        "code": tariff.code,
        "name": tariff.name,
        "utility": tariff.utility,
        "property_types": tariff.property_types,
        "connection_types": ", ".join(tariff.connection_types),
        "supply_systems": list(tariff.supply_systems.all()),
        "connection_numbers": "\n".join(connection_numbers_of(tariff=tariff)),
        "priority": tariff.priority,
        "active": tariff.active,
    }
    form = TariffForm(
        request.POST or None,
        initial=initial,
        editing=True,
        supply_systems=supply_system_choices(operator=tariff.operator),
    )
    if request.method == "POST" and form.is_valid():
        values = form.service_values()
        values.pop("code", None)
        values.pop("utility", None)
        try:
            tariff_update(tariff=tariff, acting_user=request.user, **values)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Tariff %(code)s is changed.") % {"code": tariff.code})
            return redirect("tariffs:tariff_detail", tariff_id=tariff.pk)
    return render(request, "tariffs/tariff_form.html", {"form": form, "tariff": tariff}, status=_status(request))


def _default_version(tariff: Tariff, versions: list[TariffVersion]) -> TariffVersion | None:
    return version_in_force(tariff=tariff, on=timezone.localdate()) or (versions[0] if versions else None)


@login_required
@require_roles(*TARIFF_READ_ROLES)
def tariff_detail(request: HttpRequest, tariff_id: int) -> HttpResponse:
    access = _access(request)
    tariff = tariff_get_for_access(access=access, tariff_id=tariff_id)
    versions = list(versions_of(tariff=tariff))
    in_force = version_in_force(tariff=tariff, on=timezone.localdate())
    default = _default_version(tariff, versions)
    # Compare the newest version (often a draft of new prices) with the one in force, or the one before it.
    newest = versions[0] if versions else None
    base = in_force if in_force is not None and in_force != newest else (versions[1] if len(versions) > 1 else None)
    simulate_form = SimulateForm(
        initial={"version": default, "usage": 10, "property_type": "residential"},
        versions=versions_of(tariff=tariff),
        auto_id="sim_%s",
    )
    compare_form = CompareForm(
        initial={"old": base, "new": newest, "up_to": 50, "step": 5, "property_type": "residential"},
        versions=versions_of(tariff=tariff),
        auto_id="cmp_%s",
    )
    return render(
        request,
        "tariffs/tariff_detail.html",
        {
            "tariff": tariff,
            "versions": versions,
            "in_force": in_force,
            "supply_systems": list(tariff.supply_systems.order_by("code")),
            "connection_numbers": connection_numbers_of(tariff=tariff),
            "package": getattr(tariff, "package", None) if tariff.kind == Tariff.Kind.PACKAGE else None,
            "simulate_form": simulate_form,
            "compare_form": compare_form,
            "audit_entries": tariff_history(tariff=tariff),
            "can_write": access.operator is not None
            and access.operator.pk == tariff.operator_id
            and access.has_role(*TARIFF_WRITE_ROLES),
        },
    )


@login_required
@require_roles(*TARIFF_READ_ROLES)
def tariff_simulate(request: HttpRequest, tariff_id: int) -> HttpResponse:
    """The simulator's result (an htmx swap on the tariff page, or a page of its own without htmx)."""
    tariff = tariff_get_for_access(access=_access(request), tariff_id=tariff_id)
    form = SimulateForm(request.GET or None, versions=versions_of(tariff=tariff), auto_id="sim_%s")
    context: dict[str, Any] = {"tariff": tariff, "simulate_form": form, "quote": None, "problem": ""}
    status = 200
    if form.is_valid():
        version = form.cleaned_data["version"] or _default_version(tariff, list(versions_of(tariff=tariff)))
        if version is None:
            context["problem"] = _("This tariff has no version yet: add one to simulate its bills.")
            status = 400
        else:
            usage = usage_for(
                usage=form.cleaned_data["usage"],
                property_type=form.cleaned_data["property_type"],
                days=form.cleaned_data["days"],
                indigent=form.cleaned_data["indigent"],
            )
            try:
                context["quote"] = simulate(definition=version.definition, usage=usage)
            except (pricing.TariffInvalid, ValueError) as error:
                context["problem"] = str(error)
                status = 400
            context["version"] = version
    elif request.GET:
        status = 400
    template = "tariffs/_simulation.html" if request.htmx else "tariffs/simulate.html"  # type: ignore[attr-defined]
    return render(request, template, context, status=status)


@login_required
@require_roles(*TARIFF_READ_ROLES)
def tariff_compare(request: HttpRequest, tariff_id: int) -> HttpResponse:
    """What a new version does to bills: both totals and the difference for a range of usages."""
    tariff = tariff_get_for_access(access=_access(request), tariff_id=tariff_id)
    form = CompareForm(request.GET or None, versions=versions_of(tariff=tariff), auto_id="cmp_%s")
    context: dict[str, Any] = {"tariff": tariff, "compare_form": form, "rows": None, "problem": ""}
    status = 200
    if form.is_valid():
        data = form.cleaned_data
        try:
            context["rows"] = compare(
                old=data["old"].definition,
                new=data["new"].definition,
                up_to=data["up_to"],
                step=data["step"],
                property_type=data["property_type"],
                indigent=data["indigent"],
            )
        except (pricing.TariffInvalid, ValueError) as error:
            context["problem"] = str(error)
            status = 400
        context["old"], context["new"] = data["old"], data["new"]
    elif request.GET:
        status = 400
    template = "tariffs/_comparison.html" if request.htmx else "tariffs/compare.html"  # type: ignore[attr-defined]
    return render(request, template, context, status=status)


def _pretty(definition: Any) -> str:
    return json.dumps(definition, indent=2, ensure_ascii=False)


@login_required
@require_roles(*TARIFF_WRITE_ROLES)
def version_create_view(request: HttpRequest, tariff_id: int) -> HttpResponse:
    tariff = _writer_tariff(request, tariff_id)
    latest = versions_of(tariff=tariff).first()
    next_month = (timezone.localdate().replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    initial = {
        "effective_from": next_month,
        "definition": _pretty(latest.definition) if latest else _pretty(_skeleton(tariff)),
    }
    form = VersionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            version = version_create(tariff=tariff, acting_user=request.user, **form.cleaned_data)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("The draft is saved; check it with the simulator, then publish it."))
            return redirect("tariffs:version_detail", version_id=version.pk)
    return render(
        request, "tariffs/version_form.html", {"form": form, "tariff": tariff, "version": None}, status=_status(request)
    )


def _skeleton(tariff: Tariff) -> dict[str, Any]:
    """A starting point for a first version: the operator's currency and the tariff's utility, one open block."""
    unit = "m3" if tariff.utility == Tariff.Utility.WATER else "kWh"
    return {
        "currency": tariff.operator.currency,
        "utility": tariff.utility,
        "unit": unit,
        "period": "month",
        "components": [
            {"type": "blocks", "label": "Consumption", "method": "incremental", "bands": [{"upto": None, "rate": "0"}]}
        ],
    }


@login_required
@require_roles(*TARIFF_READ_ROLES)
def version_detail(request: HttpRequest, version_id: int) -> HttpResponse:
    """A version's definition; a draft can be changed and published by the tariff's writers."""
    access = _access(request)
    version = version_get_for_access(access=access, version_id=version_id)
    can_write = (
        access.operator is not None
        and access.operator.pk == version.operator_id
        and access.has_role(*TARIFF_WRITE_ROLES)
        and version.status == TariffVersion.Status.DRAFT
    )
    initial = {
        "effective_from": version.effective_from,
        "definition": _pretty(version.definition),
        "note": version.note,
    }
    form = VersionForm(request.POST if request.method == "POST" and can_write else None, initial=initial)
    if request.method == "POST" and can_write and form.is_valid():
        try:
            version_update(version=version, acting_user=request.user, **form.cleaned_data)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("The draft is changed."))
            return redirect("tariffs:version_detail", version_id=version.pk)
    return render(
        request,
        "tariffs/version_detail.html",
        {
            "version": version,
            "tariff": version.tariff,
            "form": form,
            "definition": _pretty(version.definition),
            "can_write": can_write,
        },
        status=_status(request) if can_write else 200,
    )


@login_required
@require_roles(*TARIFF_WRITE_ROLES)
@require_POST
def version_publish_view(request: HttpRequest, version_id: int) -> HttpResponse:
    access = _access(request)
    version = version_get_for_access(access=access, version_id=version_id)
    if access.operator is None or version.operator_id != access.operator.pk:
        raise Http404
    try:
        version_publish(version=version, acting_user=request.user)
    except DomainError as error:
        messages.error(request, str(error.message))
        for problems in error.fields.values():
            for problem in problems[:10]:
                messages.error(request, str(problem))
        return redirect("tariffs:version_detail", version_id=version.pk)
    messages.success(
        request,
        _("Version %(version)s is published: it prices bills from %(day)s.")
        % {"version": version, "day": version.effective_from.isoformat()},
    )
    return redirect("tariffs:tariff_detail", tariff_id=version.tariff_id)


@login_required
@require_roles(*TARIFF_READ_ROLES)
def package_list(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    packages = packages_with_prices(access=access, on=timezone.localdate())
    return render(
        request,
        "tariffs/package_list.html",
        {
            "rows": [(package, _price_of(package.price_definition)) for package in packages],  # type: ignore[attr-defined]
            "oversight": access.operator is None,
            "can_write": access.operator is not None and access.has_role(*TARIFF_WRITE_ROLES),
        },
    )


def _price_of(definition: Any) -> str:
    """The package's price as its version in force states it (the fee or the price per kWh)."""
    if isinstance(definition, str):  # a JSON subquery comes back as text on some databases
        definition = json.loads(definition)
    if not isinstance(definition, dict):
        return "—"
    for component in definition.get("components", []):
        if isinstance(component, dict) and component.get("type") == "package":
            return str(component.get("fee") or component.get("price_per_kwh") or "—")
    return "—"


@login_required
@require_roles(*TARIFF_WRITE_ROLES)
def package_create_view(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    if access.operator is None:
        raise Http404
    form = PackageForm(request.POST or None, initial={"effective_from": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            package = package_create(operator=access.operator, acting_user=request.user, **form.cleaned_data)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Package %(code)s is offered.") % {"code": package.code})
            return redirect("tariffs:package_list")
    return render(request, "tariffs/package_form.html", {"form": form}, status=_status(request))


@login_required
@require_roles(*TARIFF_WRITE_ROLES)
def package_edit(request: HttpRequest, package_id: int) -> HttpResponse:
    """Rename a package, change its deposit, or stop offering it; its parts and price are not changed here."""
    access = _access(request)
    package = package_get_for_access(access=access, package_id=package_id)
    if access.operator is None or package.operator_id != access.operator.pk:
        raise Http404
    initial = {"name": package.name, "deposit_amount": package.deposit_amount, "active": package.active}
    form = PackageEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            package_update(package=package, acting_user=request.user, **form.cleaned_data)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Package %(code)s is changed.") % {"code": package.code})
            return redirect("tariffs:package_list")
    context = {
        "form": form,
        "package": package,
        "tariff_url": reverse("tariffs:tariff_detail", args=[package.tariff_id]),
    }
    return render(request, "tariffs/package_edit.html", context, status=_status(request))
