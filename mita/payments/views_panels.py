"""The page side of the payments panels on the customer 360 page: posting a miscellaneous charge."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from mita.core.errors import DomainError
from mita.core.forms import form_add_domain_error
from mita.core.permissions import require_roles
from mita.customers.panels import panel_get, panel_response
from mita.customers.selectors import connections_visible_to, customer_get_for_access
from mita.payments.forms_panels import MiscChargeForm
from mita.payments.misc_charges import MISC_CHARGE_ROLES, misc_charge_post
from mita.payments.panels import charges_context


@login_required
@require_roles(*MISC_CHARGE_ROLES)
@require_POST
def customer_misc_charge(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Post a miscellaneous charge to one of the customer's connections. On success the whole 360 page reloads
    (the debt, the counts and the chart change with it); a form with errors comes back in its panel."""
    access = request.access  # type: ignore[attr-defined]
    customer = customer_get_for_access(access=access, customer_id=customer_id)
    panel = panel_get(access, customer, "payments.charges")
    form = MiscChargeForm(
        request.POST, connections=connections_visible_to(access=access, customer=customer).order_by("number")
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            charge = misc_charge_post(
                operator=access.operator,
                customer=customer,
                connection=data["connection"],
                head=data["head"],
                amount=data["amount"],
                vat_rule=data["vat_rule"],
                reason=data["reason"],
                due_date=data["due_date"],
                key=data["key"],
                acting_user=request.user,
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(
                request,
                _("%(total)s %(currency)s is charged to %(connection)s.")
                % {"total": charge.total, "currency": charge.currency, "connection": charge.holder},
            )
            if getattr(request, "htmx", False):
                # A reload, not a redirect: the page's address may already end in #panel-payments-charges, and a
                # browser only scrolls (no reload) when sent to the address it is on.
                return HttpResponseClientRefresh()
            return redirect(reverse("customers:customer_detail", args=[customer.pk]) + "#panel-payments-charges")
    # htmx swaps only a 2xx answer: the form with its errors comes back as a 200 there, as a 400 to a plain form.
    status = 200 if getattr(request, "htmx", False) else 400
    return panel_response(request, customer, panel, charges_context(access, customer, form), status=status)
