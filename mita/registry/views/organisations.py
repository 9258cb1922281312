"""Pages for switching workspace and for the operators a user may see."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from mita.accounts.roles import Role
from mita.core.audit import audit_for
from mita.core.permissions import require_roles
from mita.core.tables import Column, table
from mita.registry.access import SESSION_KEY
from mita.registry.models import Boundary
from mita.registry.selectors import operators_visible_to

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
    operators = operators_visible_to(request.access).prefetch_related(  # type: ignore[attr-defined]
        Prefetch("districts", queryset=Boundary.objects.order_by("name"))
    )
    if q := request.GET.get("q", "").strip():
        operators = operators.filter(Q(name__icontains=q) | Q(prefix__iexact=q))
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
            "utility",
            gettext_lazy("Utility"),
            order_by="utility",
            value=lambda operator: operator.get_utility_display(),
        ),
        Column(
            "districts",
            gettext_lazy("Districts"),
            value=lambda operator: ", ".join(d.name for d in operator.districts.all()),
        ),
    ]
    return render(
        request,
        "registry/operator_list.html",
        {"table": table(request, operators, columns, default_sort="name"), "q": q},
    )


@login_required
def operator_detail(request: HttpRequest, operator_id: int) -> HttpResponse:
    operator = get_object_or_404(operators_visible_to(request.access), pk=operator_id)  # type: ignore[attr-defined]
    return render(
        request,
        "registry/operator_detail.html",
        {
            "operator": operator,
            "districts": operator.districts.order_by("name"),
            "audit_entries": audit_for(operator)[:50],
        },
    )
