"""Pages for switching workspace and for the operators a user may see."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from mita.accounts.roles import Role
from mita.core.audit import audit_for
from mita.core.permissions import require_roles
from mita.core.tables import Column, table
from mita.registry.access import SESSION_KEY
from mita.registry.models import Boundary, ClusterAssignment, Licence
from mita.registry.selectors import (
    licence_warning,
    licences_expiring,
    operator_billing_permission,
    operators_visible_to,
    operators_with_licences,
)
from mita.registry.selectors_clusters import clusters_needing_attention, in_force_on

OVERSIGHT_ROLES = (Role.REGULATOR_ADMIN, Role.REGULATOR_VIEWER, Role.DISTRICT_OFFICER)


@login_required
@require_POST
def workspace_switch(request: HttpRequest) -> HttpResponse:
    """Switch the organisation the user acts for; remembered for the session."""
    wanted = request.POST.get("workspace", "")
    workspace = next((w for w in request.access.workspaces if w.key == wanted), None)  # type: ignore[attr-defined]
    if workspace is None:
        messages.error(request, _("You have no role there."))
    else:
        request.session[SESSION_KEY] = workspace.key
        messages.success(request, _("You now work for %(organisation)s.") % {"organisation": workspace.label})
    # The page being viewed may belong to the previous operator: go home unless the target is safe and generic.
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) or any(
        c.isdigit() for c in target
    ):
        target = reverse("core:home")
    return HttpResponseRedirect(target)


@login_required
@require_roles(*OVERSIGHT_ROLES)
def operator_list(request: HttpRequest) -> HttpResponse:
    """Every operator overseen, with its licence's status, days to expiry, grace period and warnings."""
    today = timezone.localdate()
    clusters_now = (
        ClusterAssignment.objects.filter(in_force_on(today))
        .select_related("cluster")
        .annotate(systems=Count("cluster__supply_systems"))
        .order_by("cluster__code")
    )
    operators = operators_with_licences(request.access, today=today).prefetch_related(  # type: ignore[attr-defined]
        Prefetch("districts", queryset=Boundary.objects.order_by("name")),
        Prefetch("cluster_assignments", queryset=clusters_now, to_attr="clusters_now"),
    )
    if q := request.GET.get("q", "").strip():
        operators = operators.filter(Q(name__icontains=q) | Q(prefix__iexact=q) | Q(licences__number__iexact=q))
    columns = [
        Column(
            "name",
            gettext_lazy("Operator"),
            order_by="name",
            link=lambda operator: reverse("registry:operator_detail", args=[operator.pk]),
        ),
        Column("prefix", gettext_lazy("Prefix"), order_by="prefix"),
        Column("kind", gettext_lazy("Kind"), order_by="kind", value=lambda operator: operator.get_kind_display()),
        Column(
            "districts",
            gettext_lazy("Districts"),
            value=lambda operator: ", ".join(d.name for d in operator.districts.all()),
        ),
        Column(
            "clusters",
            gettext_lazy("Clusters (supply systems)"),
            value=lambda operator: ", ".join(f"{a.cluster.code} ({a.systems})" for a in operator.clusters_now) or "—",
        ),
        Column("licence_number", gettext_lazy("Licence"), order_by="licence_number"),
        Column(
            "licence_status",
            gettext_lazy("Licence status"),
            order_by="licence_status",
            value=lambda operator: _licence_status_label(operator.licence_status),
        ),
        Column("licence_expires_on", gettext_lazy("Expires"), order_by="licence_expires_on"),
        Column(
            "days_to_expiry",
            gettext_lazy("Days to expiry"),
            order_by="licence_expires_on",
            value=lambda operator: (operator.licence_expires_on - today).days if operator.licence_expires_on else None,
        ),
        Column("grace_until", gettext_lazy("Grace period until"), order_by="grace_until"),
        Column("warning", gettext_lazy("Warning"), value=lambda operator: licence_warning(operator, today=today)),
    ]
    return render(
        request,
        "registry/operator_list.html",
        {
            "table": table(request, operators, columns, default_sort="name"),
            "q": q,
            "expiring": licences_expiring(request.access, today=today),  # type: ignore[attr-defined]
            "clusters_expiring": clusters_needing_attention(request.access, today=today),  # type: ignore[attr-defined]
            "can_onboard": request.access.has_role(Role.REGULATOR_ADMIN),  # type: ignore[attr-defined]
        },
    )


def _licence_status_label(status: str | None) -> str:
    return str(Licence.Status(status).label) if status else "—"


@login_required
def operator_detail(request: HttpRequest, operator_id: int) -> HttpResponse:
    operator = get_object_or_404(operators_visible_to(request.access), pk=operator_id)  # type: ignore[attr-defined]
    return render(
        request,
        "registry/operator_detail.html",
        {
            "operator": operator,
            "districts": operator.districts.order_by("name"),
            "licences": operator.licences.prefetch_related("grace_periods"),
            "billing": operator_billing_permission(operator, timezone.localdate()),
            "audit_entries": audit_for(operator)[:50],
        },
    )
