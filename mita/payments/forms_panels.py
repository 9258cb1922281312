"""The form of the 360 page's miscellaneous-charges panel (the service checks every value again)."""

import uuid
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mita.customers.models import Connection
from mita.ledger.services import REVENUE_HEADS, STANDARD_CHART

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# The revenue heads of the standard chart in the users' words; a head added to the chart later shows its chart name.
HEAD_LABELS = {
    "water_sales": _("Water sales"),
    "electricity_sales": _("Electricity sales"),
    "connection_fees": _("Connection fees"),
    "material_fees": _("Material fees"),
    "reconnection_fees": _("Reconnection fees"),
    "penalties": _("Penalties"),
    "other": _("Other charges"),
}
VAT_RULE_LABELS = {
    "standard": _("Standard rate"),
    "zero": _("Zero-rated"),
    "exempt": _("Exempt"),
}


def head_choices() -> list[tuple[str, Any]]:
    names = {code.removeprefix("revenue:"): name for code, name, *_rest in STANDARD_CHART}
    return [(head, HEAD_LABELS.get(head, names.get(head, head))) for head in sorted(REVENUE_HEADS)]


def head_label(head: str) -> Any:
    return dict(head_choices()).get(head, head)


class MiscChargeForm(forms.Form):
    connection = forms.ModelChoiceField(label=_("Connection"), queryset=Connection.objects.none())
    head = forms.ChoiceField(label=_("Head"), initial="other")
    amount = forms.DecimalField(
        label=_("Amount before VAT"), max_digits=14, decimal_places=2, min_value=0, localize=False
    )
    vat_rule = forms.ChoiceField(label=_("VAT"), choices=list(VAT_RULE_LABELS.items()), initial="standard")
    reason = forms.CharField(
        label=_("Reason"), max_length=300, help_text=_("What it is for, as the customer will read it.")
    )
    due_date = forms.DateField(label=_("Due"), widget=DATE)
    # Made when the form is shown: sending it twice (a double click, a retry) posts the charge once.
    key = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args: Any, connections: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("key", str(uuid.uuid4()))
        kwargs["initial"].setdefault("due_date", timezone.localdate())
        kwargs.setdefault("auto_id", "charge_%s")  # the 360 page holds other forms with a "connection" field
        super().__init__(*args, **kwargs)
        self.fields["connection"].queryset = connections  # type: ignore[attr-defined]
        self.fields["head"].choices = head_choices()  # type: ignore[attr-defined]
