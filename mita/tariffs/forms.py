"""Forms of tariffs, their versions (the JSON definition in a text box), the simulator, the comparison and
packages."""

import json
import re
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from mita.registry.models import SupplySystem
from mita.tariffs.models import Package, Tariff, TariffVersion

PROPERTY_TYPE_CHOICES = [
    ("residential", _("Residential")),
    ("commercial", _("Commercial")),
    ("institutional", _("Institutional")),
    ("public_tap", _("Public tap")),
    ("industrial", _("Industrial")),
    ("other", _("Other")),
]


def _words(text: str) -> list[str]:
    return [word for word in re.split(r"[\s,;]+", text or "") if word]


class TariffForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=40, help_text=_("Never changes once saved, e.g. RES-2026."))
    name = forms.CharField(label=_("Name"), max_length=200)
    utility = forms.ChoiceField(label=_("Utility"), choices=Tariff.Utility.choices)
    property_types = forms.MultipleChoiceField(
        label=_("Property types"),
        choices=PROPERTY_TYPE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every property type."),
    )
    connection_types = forms.CharField(
        label=_("Connection types"),
        required=False,
        max_length=500,
        help_text=_("Separated by commas, e.g. yard_tap, household; empty: every connection type."),
    )
    supply_systems: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(
        label=_("Supply systems"),
        queryset=SupplySystem.objects.none(),  # set per operator
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every supply system."),
    )
    connection_numbers = forms.CharField(
        label=_("Named connections"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Connection numbers separated by commas or lines; this tariff then applies to them only."),
    )
    priority = forms.IntegerField(
        label=_("Priority"),
        initial=0,
        min_value=-1000,
        max_value=1000,
        help_text=_("Only decides between two equally specific tariffs: the higher wins."),
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, supply_systems: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["supply_systems"].queryset = supply_systems  # type: ignore[attr-defined]
        if editing:
            self.fields["code"].disabled = True
            self.fields["utility"].disabled = True

    def clean_connection_types(self) -> list[str]:
        return _words(self.cleaned_data.get("connection_types", ""))

    def clean_connection_numbers(self) -> list[str]:
        return _words(self.cleaned_data.get("connection_numbers", ""))

    def service_values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["supply_system_ids"] = [system.pk for system in data.pop("supply_systems", [])]
        return data


class DefinitionField(forms.CharField):
    """The definition as JSON text: the text is kept as typed; a JSON mistake says where it is."""

    widget = forms.Textarea(attrs={"rows": 24, "spellcheck": "false", "class": "code"})

    def clean(self, value: Any) -> Any:
        text = super().clean(value)
        try:
            parsed = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(
                _("This is not JSON: %(problem)s at line %(line)d, column %(column)d.")
                % {"problem": error.msg, "line": error.lineno, "column": error.colno}
            ) from None
        if not isinstance(parsed, dict):
            raise forms.ValidationError(_("Write the definition as a JSON object: {...}."))
        return _plain(parsed)


def _plain(value: Any) -> Any:
    """JSON numbers with a fraction come back as Decimal (never float); the stored JSON keeps them as strings."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


class VersionForm(forms.Form):
    effective_from = forms.DateField(
        label=_("Effective from"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The first day it prices."),
    )
    definition = DefinitionField(
        label=_("Definition (JSON)"), help_text=_("The format is in docs/tariffs.md; each problem names its place.")
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=300, help_text=_("Why it changes, e.g. RURA decision.")
    )


class VersionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.effective_from.isoformat()} ({obj.get_status_display()})"


class SimulateForm(forms.Form):
    version = VersionChoiceField(label=_("Version"), queryset=TariffVersion.objects.none(), required=False)
    usage = forms.DecimalField(label=_("Usage"), min_value=0, max_digits=14, decimal_places=3, initial=10)
    property_type = forms.ChoiceField(
        label=_("Property type"), choices=[("", "—"), *PROPERTY_TYPE_CHOICES], required=False
    )
    days = forms.IntegerField(
        label=_("Days"), min_value=1, max_value=400, required=False, help_text=_("Empty: the standard period.")
    )
    indigent = forms.BooleanField(label=_("On the indigent register"), required=False)

    def __init__(self, *args: Any, versions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["version"].queryset = versions  # type: ignore[attr-defined]


class CompareForm(forms.Form):
    old = VersionChoiceField(label=_("Old version"), queryset=TariffVersion.objects.none())
    new = VersionChoiceField(label=_("New version"), queryset=TariffVersion.objects.none())
    up_to = forms.DecimalField(label=_("Usages up to"), min_value=0, max_value=100000, initial=50, max_digits=12)
    step = forms.DecimalField(label=_("In steps of"), min_value=Decimal("0.001"), initial=5, max_digits=12)
    property_type = forms.ChoiceField(
        label=_("Property type"), choices=[("", "—"), *PROPERTY_TYPE_CHOICES], required=False
    )
    indigent = forms.BooleanField(label=_("On the indigent register"), required=False)

    def __init__(self, *args: Any, versions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["old"].queryset = versions  # type: ignore[attr-defined]
        self.fields["new"].queryset = versions  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        up_to, step = cleaned.get("up_to"), cleaned.get("step")
        if up_to is not None and step and up_to / step > 200:
            self.add_error("step", _("At most 200 rows: take a larger step."))
        return cleaned


class PackageForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    load_limit_w = forms.IntegerField(label=_("Load limit (W)"), min_value=1)
    hours_per_day = forms.IntegerField(label=_("Hours of supply per day"), min_value=1, max_value=24, initial=24)
    charging = forms.ChoiceField(label=_("Charging"), choices=Package.Charging.choices)
    price = forms.DecimalField(
        label=_("Price"), min_value=0, max_digits=16, decimal_places=4, help_text=_("The fee per month, or per kWh.")
    )
    payment = forms.ChoiceField(label=_("Payment"), choices=Package.Payment.choices)
    deposit_amount = forms.DecimalField(
        label=_("Deposit"), min_value=0, max_digits=16, decimal_places=2, required=False
    )
    effective_from = forms.DateField(label=_("Price effective from"), widget=forms.DateInput(attrs={"type": "date"}))


class PackageEditForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    deposit_amount = forms.DecimalField(
        label=_("Deposit"), min_value=0, max_digits=16, decimal_places=2, required=False
    )
    active = forms.BooleanField(
        label=_("Offered to new customers"),
        required=False,
        help_text=_("A package no longer offered still prices the connections on it."),
    )
