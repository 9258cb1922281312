"""The operator admin's page for payment rules: the order charges are cleared in, and advances held without VAT."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mita.accounts.roles import Role
from mita.core.errors import DomainError
from mita.core.forms import form_add_domain_error
from mita.core.permissions import require_roles
from mita.payments.models import PaymentSettings
from mita.payments.preferences import CHART_HEADS, heads_in_order, payment_settings_for, payment_settings_update

PRIORITY_SLOTS = 3


class PaymentSettingsForm(forms.Form):
    allocation_order = forms.ChoiceField(
        label=gettext_lazy("Order of allocation"), choices=PaymentSettings.Order.choices, widget=forms.RadioSelect
    )
    advance_ex_vat = forms.BooleanField(
        label=gettext_lazy("Hold advance payments excluding VAT"),
        required=False,
        help_text=gettext_lazy(
            "A payment beyond what is owed is held as credit at the sales amount excluding VAT; the VAT part is held "
            "apart until the bill that consumes the advance is issued."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", gettext_lazy("(the chart's order)"))] + [(head, head.replace("_", " ")) for head in CHART_HEADS]
        for slot in range(1, PRIORITY_SLOTS + 1):
            self.fields[f"head_{slot}"] = forms.ChoiceField(
                label=gettext_lazy("Head cleared in position %(slot)s") % {"slot": slot},
                choices=choices,
                required=False,
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        seen: set[str] = set()
        for slot in range(1, PRIORITY_SLOTS + 1):
            head = cleaned.get(f"head_{slot}")
            if head and head in seen:
                self.add_error(f"head_{slot}", _("A head appears twice."))
            seen.add(head or "")
        return cleaned

    def head_order(self) -> list[str]:
        return [
            self.cleaned_data[f"head_{slot}"]
            for slot in range(1, PRIORITY_SLOTS + 1)
            if self.cleaned_data[f"head_{slot}"]
        ]


@login_required
@require_roles(Role.OPERATOR_ADMIN)
def payment_settings_view(request: HttpRequest) -> HttpResponse:
    operator = request.access.operator  # type: ignore[attr-defined]
    settings = payment_settings_for(operator=operator)
    initial: dict[str, Any] = {"allocation_order": settings.allocation_order, "advance_ex_vat": settings.advance_ex_vat}
    for slot, head in enumerate(settings.head_order[:PRIORITY_SLOTS], start=1):
        initial[f"head_{slot}"] = head
    form = PaymentSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            payment_settings_update(
                operator=operator,
                allocation_order=form.cleaned_data["allocation_order"],
                head_order=form.head_order(),
                advance_ex_vat=form.cleaned_data["advance_ex_vat"],
                acting_user=request.user,
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("The payment settings are saved."))
            return redirect("payments:settings")
    return render(
        request,
        "payments/settings.html",
        {"form": form, "heads": heads_in_order(settings)},
        status=400 if form.errors else 200,
    )
