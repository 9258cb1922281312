"""Pages for changing a customer's phones or e-mail: the agent starts the change (a code goes to the customer's
current phone), then types the code the customer reads back (htmx); an operator admin may skip the code."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from mita.accounts.roles import Role
from mita.core.errors import DomainError
from mita.core.forms import form_add_domain_error
from mita.core.permissions import require_roles
from mita.customers.forms import ContactChangeForm, ContactCodeForm
from mita.customers.models import ContactChange
from mita.customers.selectors import CUSTOMER_WRITE_ROLES, customer_get_for_access
from mita.customers.selectors_details import contact_change_get_for_access
from mita.customers.services_contacts import contact_change_confirm, contact_change_start, contact_change_without_code

FIELDS = ("phone", "phone_2", "email")


@login_required
@require_roles(*CUSTOMER_WRITE_ROLES)
def contact_change_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    customer = customer_get_for_access(access=access, customer_id=customer_id)
    is_admin = access.has_role(Role.OPERATOR_ADMIN)
    form = ContactChangeForm(request.POST or None, initial={field: getattr(customer, field) for field in FIELDS})
    if not is_admin:
        del form.fields["reason"]
    if request.method == "POST" and form.is_valid():
        changes = {field: form.cleaned_data[field] for field in FIELDS}
        try:
            if is_admin and "without_code" in request.POST:
                contact_change_without_code(
                    customer=customer, changes=changes, reason=form.cleaned_data["reason"], acting_user=request.user
                )
            else:
                change = contact_change_start(customer=customer, changes=changes, acting_user=request.user)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            if is_admin and "without_code" in request.POST:
                messages.success(request, _("The contacts are changed; the old phone gets a notice."))
                return redirect("customers:customer_detail", customer_id=customer.pk)
            return redirect("customers:contact_change_confirm", customer_id=customer.pk, change_id=change.pk)
    return render(
        request,
        "customers/contact_change.html",
        {"customer": customer, "form": form, "is_admin": is_admin},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_roles(*CUSTOMER_WRITE_ROLES)
def contact_change_confirm_view(request: HttpRequest, customer_id: int, change_id: int) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    customer = customer_get_for_access(access=access, customer_id=customer_id)
    change = contact_change_get_for_access(access=access, customer=customer, change_id=change_id)
    form = ContactCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact_change_confirm(change=change, code=form.cleaned_data["code"], acting_user=request.user)
        except DomainError as error:
            form_add_domain_error(form, error)
            change.refresh_from_db()
        else:
            messages.success(request, _("The customer's contacts are changed."))
            detail = reverse("customers:customer_detail", kwargs={"customer_id": customer.pk})
            if getattr(request, "htmx", False):
                return HttpResponseClientRedirect(detail)
            return redirect(detail)
    htmx = bool(getattr(request, "htmx", False))
    context = {
        "customer": customer,
        "change": change,
        "form": form,
        "waiting": change.status == ContactChange.Status.PENDING and change.expires_at > timezone.now(),
    }
    template = "customers/contact_change_confirm.html" + ("#confirm" if htmx else "")
    # htmx swaps only 2xx answers: the part with the error message goes back as a 200, a full page as a 400.
    status = 400 if request.method == "POST" and not htmx else 200
    return render(request, template, context, status=status)
