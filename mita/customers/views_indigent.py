"""Pages of the indigent register: the register (in force on a day, or all of it), registering a household, ending a
registration."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mita.core.errors import DomainError
from mita.core.forms import form_add_domain_error
from mita.core.permissions import require_roles
from mita.customers.forms import IndigentEndForm, IndigentForm
from mita.customers.indigent import (
    customer_by_account,
    indigent_end,
    indigent_get_for_access,
    indigent_register,
    indigent_register_visible_to,
)
from mita.customers.selectors import CUSTOMER_READ_ROLES, CUSTOMER_WRITE_ROLES


@login_required
@require_roles(*CUSTOMER_READ_ROLES)
def indigent_list(request: HttpRequest) -> HttpResponse:
    """The register: in force on a day (today unless another is asked), or every registration with ?all=1."""
    access: Any = request.access  # type: ignore[attr-defined]
    show_all = request.GET.get("all") == "1"
    day = parse_date(request.GET.get("on") or "") or timezone.localdate()
    registrations = indigent_register_visible_to(access=access, on=None if show_all else day)
    can_write = access.has_role(*CUSTOMER_WRITE_ROLES)
    form = IndigentForm(request.POST or None, initial={"valid_from": timezone.localdate()})
    status = 200
    if request.method == "POST":
        if not can_write:
            return HttpResponse(status=403)
        if form.is_valid():
            data = dict(form.cleaned_data)
            customer = customer_by_account(operator=access.operator, account=data.pop("account"))
            if customer is None:
                form.add_error("account", _("No customer or connection of yours has this number."))
            else:
                try:
                    indigent_register(operator=access.operator, customer=customer, acting_user=request.user, **data)
                except DomainError as error:
                    form_add_domain_error(form, error)
                else:
                    messages.success(request, _("%(name)s is on the indigent register.") % {"name": customer.name})
                    return redirect("customers:indigent_list")
        status = 400
    context = {
        "registrations": registrations[:500],
        "day": day,
        "show_all": show_all,
        "form": form,
        "end_form": IndigentEndForm(),
        "can_write": can_write,
    }
    return render(request, "customers/indigent_list.html", context, status=status)


@login_required
@require_roles(*CUSTOMER_WRITE_ROLES)
@require_POST
def indigent_end_view(request: HttpRequest, indigent_id: int) -> HttpResponse:
    access: Any = request.access  # type: ignore[attr-defined]
    registration = indigent_get_for_access(access=access, indigent_id=indigent_id)
    form = IndigentEndForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the last day as a date, or leave it empty for today."))
        return redirect("customers:indigent_list")
    try:
        indigent_end(
            registration=registration,
            acting_user=request.user,
            valid_to=form.cleaned_data.get("valid_to"),
            reason=form.cleaned_data.get("reason") or "",
        )
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("The registration of %(name)s is ended.") % {"name": registration.customer.name},
        )
    return redirect("customers:indigent_list")
