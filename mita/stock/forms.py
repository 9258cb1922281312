"""Forms of the materials catalogue."""

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class MaterialForm(forms.Form):
    code = forms.CharField(label=_("Item code"), max_length=40, help_text=_("Never changes once saved."))
    name = forms.CharField(label=_("Name"), max_length=200)
    unit = forms.CharField(label=_("Unit"), max_length=20, help_text=_("How it is counted: m, piece, kg, ..."))
    unit_price = forms.DecimalField(label=_("Unit price"), min_value=0, max_digits=16, decimal_places=2)
    properties = forms.CharField(
        label=_("Properties"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_('Named values in JSON, e.g. {"diameter_mm": 20, "material": "HDPE"}.'),
    )
    active = forms.BooleanField(label=_("Offered"), required=False, initial=True)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["code"].disabled = True

    def clean_properties(self) -> dict[str, Any]:
        text = (self.cleaned_data.get("properties") or "").strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError:
            raise forms.ValidationError(_('Write the properties as JSON, e.g. {"diameter_mm": 20}.')) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_('Write the properties as JSON, e.g. {"diameter_mm": 20}.'))
        return value


class MaterialSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
