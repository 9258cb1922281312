"""Pages for clusters and supply systems: the regulator's and districts' list, an operator's own, detail and forms."""

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mita.accounts.roles import OPERATOR_ROLES, Role
from mita.core.errors import DomainError
from mita.core.forms import form_add_domain_error
from mita.core.permissions import require_roles
from mita.core.tables import Column, table
from mita.registry.forms_clusters import (
    ClusterAssignForm,
    ClusterFilterForm,
    ClusterForm,
    ClusterMoveForm,
    SupplySystemForm,
)
from mita.registry.models import Boundary, Cluster, ClusterAssignment, SupplySystem
from mita.registry.selectors import operators_visible_to
from mita.registry.selectors_clusters import (
    assignments_in_force,
    cluster_assignment_on,
    cluster_assignments_for,
    cluster_audit_for,
    cluster_get_for_access,
    cluster_warning,
    clusters_expiring,
    clusters_needing_attention,
    clusters_with_holders,
    days_to_expiry,
    holder_in_force,
    holder_last_day,
    in_force_on,
    supply_system_get_for_access,
)
from mita.registry.services.clusters import cluster_assign, cluster_create, cluster_move, supply_system_register

OVERSIGHT_ROLES = (Role.REGULATOR_ADMIN, Role.REGULATOR_VIEWER, Role.DISTRICT_OFFICER)
MANAGER_ROLES = (Role.REGULATOR_ADMIN,)


def _cluster_link(cluster: Cluster) -> str:
    return reverse("registry:cluster_detail", args=[cluster.pk])


def _districts(cluster: Cluster) -> str:
    return ", ".join(district.name for district in cluster.districts.all()) or "—"


def _badge(text: str) -> SafeString:
    return format_html('<span class="badge" data-testid="expiry-warning">{}</span>', text)


def _expiry_text(days: int) -> str:
    return _("Expires today") if days == 0 else _("Expires in %(days)d days") % {"days": days}


def _warning(cluster: Cluster, today: datetime.date) -> SafeString | str:
    warning = cluster_warning(cluster, today=today)
    if warning is None:
        return ""
    days = warning[1]
    return _badge(_("Expired") if days is None else _expiry_text(days))


def _holder(cluster: Cluster, today: datetime.date) -> str:
    return cluster.holder_name if holder_in_force(cluster, today=today) else "—"  # type: ignore[attr-defined]


@login_required
@require_roles(*OVERSIGHT_ROLES)
def cluster_list(request: HttpRequest) -> HttpResponse:
    """Clusters of the operators overseen: who holds each today, until when, and which need attention."""
    access = request.access  # type: ignore[attr-defined]
    today = timezone.localdate()
    form = ClusterFilterForm(request.GET or None, operators=operators_visible_to(access).order_by("name"))
    filters = form.cleaned_data if form.is_valid() else {}
    clusters = clusters_with_holders(access, today=today).prefetch_related(
        Prefetch("districts", queryset=Boundary.objects.order_by("name"))
    )
    if q := (filters.get("q") or "").strip():
        clusters = clusters.filter(Q(code__icontains=q) | Q(name__icontains=q))
    if district := filters.get("district"):
        clusters = clusters.filter(districts=district)
    if operator := filters.get("operator"):
        clusters = clusters.filter(pk__in=assignments_in_force(operator_id=operator.pk, on=today).values("cluster_id"))
    if filters.get("attention"):
        clusters = clusters.filter(pk__in=[c.pk for c in clusters_needing_attention(access, today=today)])
    columns = [
        Column("code", gettext_lazy("Code"), order_by="code", link=_cluster_link),
        Column("name", gettext_lazy("Name"), order_by="name"),
        Column("districts", gettext_lazy("Districts"), value=_districts),
        Column("operator", gettext_lazy("Operator"), order_by="holder_name", value=lambda c: _holder(c, today)),
        Column("expires_on", gettext_lazy("Expires"), order_by="holder_expires_on", value=holder_last_day),
        Column(
            "days_to_expiry",
            gettext_lazy("Days to expiry"),
            order_by="holder_expires_on",
            value=lambda c: days_to_expiry(c, today=today),
        ),
        Column(
            "supply_systems",
            gettext_lazy("Supply systems"),
            order_by="supply_system_count",
            value=lambda c: c.supply_system_count,
        ),
        Column("warning", gettext_lazy("Warning"), value=lambda c: _warning(c, today)),
    ]
    return render(
        request,
        "registry/clusters/cluster_list.html",
        {
            "table": table(request, clusters, columns, default_sort="code"),
            "form": form,
            "expiring": clusters_expiring(access, today=today),
            "warning_days": settings.MITA_EXPIRY_WARNING_DAYS,
            "can_manage": access.has_role(*MANAGER_ROLES),
        },
    )


def _our_period(assignment: ClusterAssignment, today: datetime.date) -> str:
    if today < assignment.starts_on:
        return _("From %(day)s") % {"day": assignment.starts_on.isoformat()}
    if today > assignment.last_day:
        return _("Ended %(day)s") % {"day": assignment.last_day.isoformat()}
    return _("Current")


def _our_warning(assignment: ClusterAssignment, today: datetime.date, continued: set[tuple[int, datetime.date]]) -> str:
    """Warn of our assignment in force ending within the window, unless we hold the cluster again the next day."""
    if not assignment.starts_on <= today <= assignment.last_day or assignment.ended_on is not None:
        return ""
    if (assignment.cluster_id, assignment.last_day + datetime.timedelta(days=1)) in continued:
        return ""
    days = (assignment.last_day - today).days
    return _badge(_expiry_text(days)) if days <= settings.MITA_EXPIRY_WARNING_DAYS else ""


def _supply_systems(assignment: ClusterAssignment) -> SafeString | str:
    systems = assignment.cluster.supply_systems.all()
    if not systems:
        return "—"
    return format_html_join(
        ", ",
        '<a href="{}">{}</a>',
        ((reverse("registry:supply_system_detail", args=[system.pk]), str(system)) for system in systems),
    )


@login_required
@require_roles(*OPERATOR_ROLES)
def cluster_list_ours(request: HttpRequest) -> HttpResponse:
    """The operator's own clusters (current, coming and past assignments) with their supply systems."""
    access = request.access  # type: ignore[attr-defined]
    today = timezone.localdate()
    assignments = (
        ClusterAssignment.objects.filter(operator=access.operator)
        .prefetch_related(
            Prefetch("cluster__districts", queryset=Boundary.objects.order_by("name")),
            Prefetch("cluster__supply_systems", queryset=SupplySystem.objects.order_by("code")),
        )
        .select_related("cluster")
    )
    continued = set(
        ClusterAssignment.objects.filter(operator=access.operator, starts_on__gt=today).values_list(
            "cluster_id", "starts_on"
        )
    )
    columns = [
        Column(
            "cluster__code", gettext_lazy("Code"), order_by="cluster__code", link=lambda a: _cluster_link(a.cluster)
        ),
        Column("cluster__name", gettext_lazy("Name"), order_by="cluster__name"),
        Column("districts", gettext_lazy("Districts"), value=lambda a: _districts(a.cluster)),
        Column("starts_on", gettext_lazy("From"), order_by="starts_on"),
        Column("last_day", gettext_lazy("Until"), order_by="expires_on", value=lambda a: a.last_day),
        Column("status", gettext_lazy("Status"), value=lambda a: _our_period(a, today)),
        Column("supply_systems", gettext_lazy("Supply systems"), value=_supply_systems),
        Column("warning", gettext_lazy("Warning"), value=lambda a: _our_warning(a, today, continued)),
    ]
    return render(
        request,
        "registry/clusters/cluster_list_ours.html",
        {"table": table(request, assignments, columns, default_sort="-starts_on"), "operator": access.operator},
    )


@login_required
def cluster_detail(request: HttpRequest, cluster_id: int) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    cluster = cluster_get_for_access(access=access, cluster_id=cluster_id)
    today = timezone.localdate()
    assignments = list(cluster_assignments_for(access=access, cluster=cluster))
    current = next((a for a in assignments if a.starts_on <= today <= a.last_day), None)
    following = next((a for a in reversed(assignments) if a.starts_on > today), None)
    warning = None
    if current is not None:
        continued = following is not None and following.starts_on == current.last_day + datetime.timedelta(days=1)
        days = (current.last_day - today).days
        if not continued and days <= settings.MITA_EXPIRY_WARNING_DAYS:
            warning = _expiry_text(days)
    return render(
        request,
        "registry/clusters/cluster_detail.html",
        {
            "cluster": cluster,
            "districts": cluster.districts.order_by("name"),
            "assignments": assignments,
            "current": current,
            "following": following,
            "warning": warning,
            "today": today,
            "supply_systems": cluster.supply_systems.select_related("district").order_by("code"),
            "can_manage": access.has_role(*MANAGER_ROLES),
            "audit_entries": cluster_audit_for(access=access, target=cluster)[:50],
        },
    )


@login_required
@require_roles(*MANAGER_ROLES)
def cluster_create_view(request: HttpRequest) -> HttpResponse:
    form = ClusterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            cluster = cluster_create(
                name=data["name"],
                code=data["code"],
                districts=list(data["districts"]),
                acting_user=request.user,  # type: ignore[arg-type]
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Cluster %(code)s is registered.") % {"code": cluster.code})
            return redirect("registry:cluster_detail", cluster_id=cluster.pk)
    return render(request, "registry/clusters/cluster_form.html", {"form": form, "title": _("New cluster")})


def _cluster_for_manager(request: HttpRequest, cluster_id: int) -> Cluster:
    """Another operator's cluster is a 404 whatever the role; then only the regulator's admins may change it."""
    access = request.access  # type: ignore[attr-defined]
    cluster = cluster_get_for_access(access=access, cluster_id=cluster_id)
    if not access.has_role(*MANAGER_ROLES):
        raise PermissionDenied
    return cluster


@login_required
def cluster_assign_view(request: HttpRequest, cluster_id: int) -> HttpResponse:
    cluster = _cluster_for_manager(request, cluster_id)
    form = ClusterAssignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            assignment = cluster_assign(
                cluster=cluster,
                operator=data["operator"],
                starts_on=data["starts_on"],
                expires_on=data["expires_on"],
                acting_user=request.user,  # type: ignore[arg-type]
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(
                request,
                _("%(cluster)s is assigned to %(operator)s.")
                % {"cluster": cluster.code, "operator": assignment.operator},
            )
            return redirect("registry:cluster_detail", cluster_id=cluster.pk)
    return render(
        request,
        "registry/clusters/cluster_form.html",
        {"form": form, "cluster": cluster, "title": _("Assign %(cluster)s") % {"cluster": cluster}},
    )


@login_required
def cluster_move_view(request: HttpRequest, cluster_id: int) -> HttpResponse:
    cluster = _cluster_for_manager(request, cluster_id)
    current = cluster_assignment_on(cluster, timezone.localdate())
    form = ClusterMoveForm(request.POST or None, initial={"expires_on": current.expires_on if current else None})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            assignment = cluster_move(
                cluster=cluster,
                to_operator=data["to_operator"],
                on=data["on"],
                expires_on=data["expires_on"],
                acting_user=request.user,  # type: ignore[arg-type]
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(
                request,
                _("%(cluster)s moves to %(operator)s on %(day)s.")
                % {"cluster": cluster.code, "operator": assignment.operator, "day": assignment.starts_on.isoformat()},
            )
            return redirect("registry:cluster_detail", cluster_id=cluster.pk)
    return render(
        request,
        "registry/clusters/cluster_form.html",
        {
            "form": form,
            "cluster": cluster,
            "current": current,
            "title": _("Move %(cluster)s to another operator") % {"cluster": cluster},
        },
    )


@login_required
def supply_system_register_view(request: HttpRequest, cluster_id: int) -> HttpResponse:
    cluster = _cluster_for_manager(request, cluster_id)
    form = SupplySystemForm(request.POST or None, cluster=cluster)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            supply_system = supply_system_register(
                cluster=cluster,
                kind=data["kind"],
                name=data["name"],
                code=data["code"],
                district=data["district"],
                technology=data["technology"],
                capacity_m3_per_day=data["capacity_m3_per_day"],
                source=data["source"],
                capacity_kw=data["capacity_kw"],
                generation_mix=data["generation_mix"],
                acting_user=request.user,  # type: ignore[arg-type]
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Supply system %(code)s is registered.") % {"code": supply_system.code})
            return redirect("registry:cluster_detail", cluster_id=cluster.pk)
    return render(
        request,
        "registry/clusters/cluster_form.html",
        {
            "form": form,
            "cluster": cluster,
            "title": _("Register a supply system in %(cluster)s") % {"cluster": cluster},
        },
    )


@login_required
def supply_system_detail(request: HttpRequest, supply_system_id: int) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    supply_system = supply_system_get_for_access(access=access, supply_system_id=supply_system_id)
    today = timezone.localdate()
    holder = cluster_assignments_for(access=access, cluster=supply_system.cluster).filter(in_force_on(today)).first()
    return render(
        request,
        "registry/clusters/supply_system_detail.html",
        {
            "supply_system": supply_system,
            "cluster": supply_system.cluster,
            "holder": holder,
            "audit_entries": cluster_audit_for(access=access, target=supply_system)[:50],
        },
    )


urlpatterns = [
    path("clusters/", cluster_list, name="cluster_list"),
    path("clusters/ours/", cluster_list_ours, name="cluster_list_ours"),
    path("clusters/new/", cluster_create_view, name="cluster_create"),
    path("clusters/<int:cluster_id>/", cluster_detail, name="cluster_detail"),
    path("clusters/<int:cluster_id>/assign/", cluster_assign_view, name="cluster_assign"),
    path("clusters/<int:cluster_id>/move/", cluster_move_view, name="cluster_move"),
    path("clusters/<int:cluster_id>/supply-systems/new/", supply_system_register_view, name="supply_system_register"),
    path("supply-systems/<int:supply_system_id>/", supply_system_detail, name="supply_system_detail"),
]
