"""Forms of the corrections pages: a penalty rule, a penalty run's day, a cancellation's reason."""

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mita.billing.models import PenaltyRule


class PenaltyRuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=PenaltyRule.Kind.choices)
    rate = forms.DecimalField(
        label=_("Rate (%)"), required=False, max_digits=7, decimal_places=4, help_text=_("For a percentage.")
    )
    amount = forms.DecimalField(
        label=_("Flat amount"), required=False, max_digits=16, decimal_places=2, help_text=_("For a flat amount.")
    )
    base = forms.ChoiceField(label=_("On"), choices=PenaltyRule.Base.choices)
    days_after_due = forms.IntegerField(label=_("Days past due"), min_value=1, max_value=3650, initial=30)
    minimum = forms.DecimalField(label=_("Minimum"), required=False, max_digits=16, decimal_places=2)
    maximum = forms.DecimalField(label=_("Maximum"), required=False, max_digits=16, decimal_places=2)
    applies_from = forms.DateField(
        label=_("For bills due from"), initial=timezone.localdate, help_text=_("Bills due earlier are not penalised.")
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    @classmethod
    def of(cls, rule: PenaltyRule, data: Any = None) -> "PenaltyRuleForm":
        initial = {field: getattr(rule, field) for field in cls.base_fields}
        return cls(data, initial=initial)


class PenaltyRunForm(forms.Form):
    on = forms.DateField(label=_("Levy as on"), initial=timezone.localdate)


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
