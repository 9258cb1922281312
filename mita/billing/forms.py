"""Forms of the billing pages: a year's calendar, a new bill run."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from mita.billing.models import BillingCycle, BillRun


class CyclesForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    frequency = forms.ChoiceField(label=_("Frequency"), choices=BillingCycle.Frequency.choices)
    due_days = forms.IntegerField(label=_("Due days after issue"), min_value=0, max_value=120, initial=15)
    window_before = forms.IntegerField(
        label=_("Read from days before the cycle ends"), min_value=0, max_value=27, initial=5
    )
    window_after = forms.IntegerField(
        label=_("Read until days after the cycle ends"), min_value=0, max_value=27, initial=10
    )


class RunForm(forms.Form):
    cycle = forms.ModelChoiceField(label=_("Cycle"), queryset=BillingCycle.objects.none())
    scope_kind = forms.ChoiceField(label=_("Scope"), choices=BillRun.Scope.choices, initial=BillRun.Scope.OPERATOR)
    scope_id = forms.IntegerField(
        label=_("Scope id"), required=False, help_text=_("The route, cluster or supply system (its number).")
    )

    def __init__(self, *args: Any, operator: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cycle"].queryset = BillingCycle.objects.filter(  # type: ignore[attr-defined]
            operator=operator, status=BillingCycle.Status.OPEN
        ).order_by("-start")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("scope_kind") not in (None, BillRun.Scope.OPERATOR) and not data.get("scope_id"):
            self.add_error("scope_id", _("Give the route, cluster or supply system this run bills."))
        return data
