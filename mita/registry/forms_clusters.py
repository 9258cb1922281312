"""Forms for clusters: create one, assign or move it, register a supply system, filter the list."""

import json
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from mita.registry.models import Boundary, Cluster, Operator, SupplySystem

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ClusterFilterForm(forms.Form):
    q = forms.CharField(label=_("Code or name"), required=False)
    district = forms.ModelChoiceField(
        label=_("District"), queryset=Boundary.objects.districts().order_by("name"), required=False
    )
    operator = forms.ModelChoiceField(label=_("Operator"), queryset=Operator.objects.none(), required=False)
    attention = forms.BooleanField(label=_("Expiring or expired only"), required=False)

    def __init__(self, *args: Any, operators: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        operator_field = self.fields["operator"]
        assert isinstance(operator_field, forms.ModelChoiceField)
        operator_field.queryset = operators if operators is not None else Operator.objects.none()


class ClusterForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=30, widget=forms.TextInput(attrs={"placeholder": "BUG-01"}))
    name = forms.CharField(label=_("Name"), max_length=120)
    districts = forms.ModelMultipleChoiceField(
        label=_("Districts"),
        queryset=Boundary.objects.districts().order_by("name"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )


class ClusterAssignForm(forms.Form):
    operator = forms.ModelChoiceField(label=_("Operator"), queryset=Operator.objects.filter(is_active=True))
    starts_on = forms.DateField(label=_("From"), widget=DATE)
    expires_on = forms.DateField(label=_("Expires on"), widget=DATE, help_text=_("The last day the operator holds it."))


class ClusterMoveForm(forms.Form):
    to_operator = forms.ModelChoiceField(label=_("New operator"), queryset=Operator.objects.filter(is_active=True))
    on = forms.DateField(
        label=_("From"),
        widget=DATE,
        help_text=_("The first day of the new operator; the current one holds it until the day before."),
    )
    expires_on = forms.DateField(label=_("Expires on"), widget=DATE)


def generation_mix_parse(text: str) -> dict[str, Any]:
    """Read a generation mix written as "solar 90, diesel 10", "solar=90, diesel=10" or JSON."""
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            parsed = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError:
            raise forms.ValidationError(_("Write the mix as: solar 90, diesel 10."), code="invalid") from None
        if not isinstance(parsed, dict):
            raise forms.ValidationError(_("Write the mix as: solar 90, diesel 10."), code="invalid")
        return parsed
    mix: dict[str, Any] = {}
    for part in text.replace(";", ",").split(","):
        if not part.strip():
            continue
        source, _separator, share = part.replace("=", " ").replace(":", " ").strip().rpartition(" ")
        share = share.strip().removesuffix("%")
        try:
            mix[source.strip()] = Decimal(share)
        except ArithmeticError:
            mix[source.strip() or share] = share  # the service names the share that is not a number
    return mix


class SupplySystemForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=SupplySystem.Kind.choices)
    code = forms.CharField(label=_("Code"), max_length=30)
    name = forms.CharField(label=_("Name"), max_length=150)
    district = forms.ModelChoiceField(label=_("District"), queryset=Boundary.objects.none(), required=False)
    technology = forms.ChoiceField(
        label=_("Technology (water)"), choices=[("", "—"), *SupplySystem.Technology.choices], required=False
    )
    capacity_m3_per_day = forms.DecimalField(
        label=_("Capacity in m³/day (water)"), max_digits=12, decimal_places=2, required=False
    )
    source = forms.CharField(
        label=_("Source (water)"), max_length=120, required=False, help_text=_("Spring, borehole, river, lake…")
    )
    capacity_kw = forms.DecimalField(
        label=_("Capacity in kW (mini-grid)"), max_digits=10, decimal_places=2, required=False
    )
    generation_mix = forms.CharField(
        label=_("Generation mix in percent (mini-grid)"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "solar 90, diesel 10"}),
        help_text=_("Each source with its share; the shares add up to 100."),
    )

    def __init__(self, *args: Any, cluster: Cluster, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        district_field = self.fields["district"]
        assert isinstance(district_field, forms.ModelChoiceField)
        cluster_districts = cluster.districts.order_by("name")
        district_field.queryset = (
            cluster_districts if cluster_districts.exists() else Boundary.objects.districts().order_by("name")
        )

    def clean_generation_mix(self) -> dict[str, Any]:
        return generation_mix_parse(self.cleaned_data.get("generation_mix") or "")
