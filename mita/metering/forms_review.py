"""Forms of the review part: the queue's filters and decisions, the anomaly report, adjustments, settings."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from mita.metering.models import MeteringSettings, Reading

DATE = forms.DateInput(attrs={"type": "date"})
CYCLE = forms.TextInput(attrs={"placeholder": "2026-10", "pattern": r"\d{4}-\d{2}"})
NOTE = forms.Textarea(attrs={"rows": 2})


class ReviewFilterForm(forms.Form):
    anomaly = forms.ChoiceField(
        label=_("Anomaly"), required=False, choices=[("", _("Any")), *[c for c in Reading.Anomaly.choices if c[0]]]
    )
    route = forms.TypedChoiceField(label=_("Route"), required=False, coerce=int, empty_value=None)
    reader = forms.TypedChoiceField(label=_("Reader"), required=False, coerce=int, empty_value=None)
    cycle = forms.RegexField(label=_("Cycle"), required=False, regex=r"^\d{4}-\d{2}$", widget=CYCLE)

    def __init__(self, *args: Any, routes: list[tuple[int, str]], readers: list[tuple[int, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["route"].choices = [("", _("Any")), *routes]  # type: ignore[attr-defined]
        self.fields["reader"].choices = [("", _("Any")), *readers]  # type: ignore[attr-defined]


class DecisionForm(forms.Form):
    ACTIONS = [
        ("accept", _("Accept")),
        ("correct", _("Correct")),
        ("estimate", _("Estimate")),
        ("reject", _("Reject")),
    ]
    action = forms.ChoiceField(label=_("Decision"), choices=ACTIONS, widget=forms.HiddenInput)
    current_index = forms.DecimalField(
        label=_("Corrected index"), required=False, min_value=0, max_digits=16, decimal_places=3
    )
    read_on = forms.DateField(label=_("Read on"), required=False, widget=DATE)
    note = forms.CharField(label=_("Note"), max_length=500, widget=NOTE)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == "correct" and data.get("current_index") is None:
            self.add_error("current_index", _("Give the index the meter shows."))
        return data


class EstimatesForm(forms.Form):
    cycle = forms.RegexField(
        label=_("Cycle"), regex=r"^\d{4}-\d{2}$", widget=CYCLE, error_messages={"invalid": _("Write it YYYY-MM.")}
    )


class AnomalyReportForm(forms.Form):
    BY = [("route", _("By route")), ("reader", _("By reader"))]
    date_from = forms.DateField(label=_("From"), widget=DATE)
    date_to = forms.DateField(label=_("Until"), widget=DATE)
    by = forms.ChoiceField(label=_("Group"), choices=BY, initial="route")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("On or after the start of the period."))
        return data


class AdjustmentForm(forms.Form):
    current_index = forms.DecimalField(label=_("New index"), min_value=0, max_digits=16, decimal_places=3)
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=NOTE)


class MeteringSettingsForm(forms.ModelForm):
    class Meta:
        model = MeteringSettings
        fields = [
            "high_factor",
            "low_factor",
            "min_units",
            "history_readings",
            "rollover_share",
            "window_days_before",
            "window_days_after",
            "zero_is_anomaly",
        ]
