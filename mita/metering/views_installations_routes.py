"""Pages of routes and reading books: routes x cycle with their readers and progress (and giving routes to readers),
a reader's own routes, and a route's printable reading book."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from mita.accounts.roles import Role
from mita.core.forms import form_add_domain_error
from mita.core.permissions import request_access, require_roles
from mita.customers.models import Route
from mita.customers.selectors_details import route_get_for_access
from mita.metering.errors import MeteringError
from mita.metering.forms_installations import AssignForm, CycleForm
from mita.metering.route_assignments import ASSIGN_ROLES, route_assign, routes_assign_many
from mita.metering.selectors_installations import INSTALL_READ_ROLES, operator_of
from mita.metering.selectors_installations_routes import (
    current_cycle,
    readers_of,
    route_book,
    routes_progress,
)

# Who sees their own routes: the meter readers (and an admin who reads too).
READER_PAGE_ROLES = (Role.BILLING_OFFICER, Role.OPERATOR_ADMIN)


def _cycle(request: HttpRequest) -> str:
    form = CycleForm(request.GET or None)
    return (form.cleaned_data["cycle"] if form.is_valid() else "") or current_cycle()


def _routes(operator: object) -> QuerySet[Route]:
    return Route.objects.filter(operator=operator).order_by("code")


@login_required
@require_roles(*INSTALL_READ_ROLES)
def route_progress(request: HttpRequest) -> HttpResponse:
    access = request_access(request)
    operator = operator_of(access)
    cycle = _cycle(request)
    can_assign = access.has_role(*ASSIGN_ROLES)
    readers = readers_of(operator=operator)
    progress = routes_progress(operator=operator, cycle=cycle)
    return render(
        request,
        "metering/installations/route_progress.html",
        {
            "cycle": cycle,
            "progress": progress,
            "readers": list(readers) if can_assign else [],
            "can_assign": can_assign,
            "total": sum(row.total for row in progress),
            "read": sum(row.read for row in progress),
            "unassigned": sum(1 for row in progress if row.assignment is None),
        },
    )


@login_required
@require_roles(*ASSIGN_ROLES)
def route_assign_view(request: HttpRequest) -> HttpResponse:
    """Give a route (or, with `all_unassigned`, every route without a reader in the cycle) to a reader."""
    access = request_access(request)
    operator = operator_of(access)
    form = AssignForm(request.POST or None, routes=_routes(operator), readers=readers_of(operator=operator))
    if request.method == "POST" and request.POST.get("all_unassigned"):
        form.fields["route"].required = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if request.POST.get("all_unassigned"):
                cycle = data["cycle"]
                routes = [
                    row.route for row in routes_progress(operator=operator, cycle=cycle) if row.assignment is None
                ]
                count = routes_assign_many(
                    operator=operator, routes=routes, cycles=[cycle], reader=data["reader"], acting_user=request.user
                )
                messages.success(
                    request,
                    _("%(count)s routes are given to %(reader)s for %(cycle)s.")
                    % {"count": count, "reader": data["reader"].name, "cycle": cycle},
                )
            else:
                outcome = route_assign(
                    operator=operator,
                    route=data["route"],
                    cycle=data["cycle"],
                    reader=data["reader"],
                    acting_user=request.user,
                )
                messages.success(
                    request,
                    _("Route %(route)s is read by %(reader)s in %(cycle)s.")
                    % {"route": data["route"].code, "reader": data["reader"].name, "cycle": outcome.assignment.cycle},
                )
        except MeteringError as error:
            form_add_domain_error(form, error)
        else:
            return redirect(reverse("metering:route_progress") + f"?cycle={data['cycle']}")
    return render(
        request,
        "metering/installations/route_assign.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_roles(*READER_PAGE_ROLES)
def my_routes(request: HttpRequest) -> HttpResponse:
    """The signed-in reader's routes for a cycle, with how far they got."""
    access = request_access(request)
    operator = operator_of(access)
    cycle = _cycle(request)
    progress = routes_progress(operator=operator, cycle=cycle, reader_id=request.user.pk)
    return render(request, "metering/installations/my_routes.html", {"cycle": cycle, "progress": progress})


@login_required
@require_roles(*INSTALL_READ_ROLES)
def route_book_view(request: HttpRequest, route_id: int) -> HttpResponse:
    """A route's reading book for a cycle: its connections in sequence with the previous index; printable."""
    access = request_access(request)
    operator = operator_of(access)
    route = route_get_for_access(access=access, route_id=route_id)
    book = route_book(operator=operator, route=route, cycle=_cycle(request))
    return render(request, "metering/installations/route_book.html", {"book": book, "operator": operator})
