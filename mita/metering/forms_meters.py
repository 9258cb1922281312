"""Forms of metering: meters — meter models and their registers, stores, receiving a batch, movements, calibration."""

import datetime
import uuid
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mita.metering.models import Calibration, Meter, MeterModel, Movement, Store
from mita.metering.selectors_meters import STORE_MOVEMENT_KINDS

DATE = forms.DateInput(attrs={"type": "date"})


def _stores(operator: Any, *, active: bool = True) -> Any:
    stores = Store.objects.filter(operator=operator)
    return (stores.filter(active=True) if active else stores).order_by("code")


def _models(operator: Any) -> Any:
    return MeterModel.objects.filter(operator=operator).order_by("code")


class MeterModelForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=40, help_text=_("Never changes once saved."))
    brand = forms.CharField(label=_("Brand"), max_length=80)
    name = forms.CharField(label=_("Model name"), max_length=120)
    utility = forms.ChoiceField(label=_("Utility"), choices=MeterModel.Utility.choices)
    kind = forms.ChoiceField(label=_("Kind"), choices=MeterModel.Kind.choices)
    size = forms.CharField(
        label=_("Size or diameter"), max_length=40, required=False, help_text=_("15 mm, DN20, 10-60 A, ...")
    )
    dial_digits = forms.IntegerField(
        label=_("Dial digits"),
        min_value=1,
        max_value=12,
        initial=5,
        help_text=_("Whole-number digits: the index wraps to 0 after 10^digits. Fixed once meters of the model exist."),
    )
    reversible = forms.BooleanField(label=_("Can run backwards"), required=False)
    calibration_interval_months = forms.IntegerField(
        label=_("Calibration interval (months)"), min_value=1, max_value=600, required=False
    )
    active = forms.BooleanField(label=_("In use"), required=False, initial=True)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["code"].disabled = True


SMALL = {"size": 8}


class RegisterForm(forms.Form):
    code = forms.CharField(label=_("Register"), max_length=20, required=False, widget=forms.TextInput(attrs=SMALL))
    unit = forms.CharField(label=_("Unit"), max_length=10, required=False, widget=forms.TextInput(attrs=SMALL))
    multiplier = forms.DecimalField(
        label=_("Multiplier"),
        max_digits=12,
        decimal_places=4,
        min_value=0,
        required=False,
        widget=forms.NumberInput(attrs={"step": "any", "style": "width:7rem"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("code") and not data.get("unit"):
            self.add_error("unit", _("Required."))
        if data.get("multiplier") is not None and data["multiplier"] <= 0:
            self.add_error("multiplier", _("Above 0."))
        return data


RegisterFormSet = forms.formset_factory(RegisterForm, extra=2, max_num=6, absolute_max=6)


def registers_of(formset: Any) -> list[dict[str, Any]]:
    return [
        {"code": row["code"], "unit": row["unit"], "multiplier": row.get("multiplier") or 1}
        for row in formset.cleaned_data
        if row and row.get("code")
    ]


class StoreForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=32, help_text=_("Never changes once saved."))
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=Store.Kind.choices, initial=Store.Kind.BRANCH)
    active = forms.BooleanField(label=_("Open"), required=False, initial=True)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["code"].disabled = True


class MeterFilterForm(forms.Form):
    q = forms.CharField(label=_("Serial starts with"), required=False, max_length=60)
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("All")), *Meter.Status.choices], required=False)
    store = forms.ModelChoiceField(label=_("Store"), queryset=Store.objects.none(), required=False)
    meter_model = forms.ModelChoiceField(label=_("Model"), queryset=MeterModel.objects.none(), required=False)

    def __init__(self, *args: Any, operator: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = _stores(operator, active=False)  # type: ignore[attr-defined]
        self.fields["meter_model"].queryset = _models(operator)  # type: ignore[attr-defined]


class ReceiveForm(forms.Form):
    store = forms.ModelChoiceField(label=_("Into store"), queryset=Store.objects.none())
    meter_model = forms.ModelChoiceField(label=_("Meter model"), queryset=MeterModel.objects.none())
    supplier = forms.CharField(label=_("Supplier"), max_length=200)
    received_on = forms.DateField(label=_("Received on"), widget=DATE)
    reference = forms.CharField(label=_("Delivery note or order"), max_length=80, required=False)
    serial_from = forms.CharField(label=_("First serial"), max_length=60, required=False, help_text=_("e.g. WM-030001"))
    serial_to = forms.CharField(label=_("Last serial"), max_length=60, required=False, help_text=_("e.g. WM-030010"))
    serials = forms.CharField(
        label=_("Or the serials, one per line"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("At most 10,000 meters in a batch."),
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
    key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=120)

    def __init__(self, *args: Any, operator: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"received_on": timezone.localdate(), "key": uuid.uuid4().hex})
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = _stores(operator)  # type: ignore[attr-defined]
        self.fields["meter_model"].queryset = _models(operator).filter(active=True)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        ranged = data.get("serial_from") or data.get("serial_to")
        if ranged and data.get("serials", "").strip():
            self.add_error("serials", _("Give a range or a list, not both."))
        elif not ranged and not data.get("serials", "").strip():
            self.add_error("serial_from", _("Give the first and last serials, or the list below."))
        return data


class MovementForm(forms.Form):
    kind = forms.ChoiceField(label=_("Movement"), choices=[(kind.value, kind.label) for kind in STORE_MOVEMENT_KINDS])
    from_store = forms.ModelChoiceField(label=_("From store"), queryset=Store.objects.none())
    to_store = forms.ModelChoiceField(
        label=_("To store"), queryset=Store.objects.none(), required=False, help_text=_("None for reject and scrap.")
    )
    moved_on = forms.DateField(label=_("Date"), widget=DATE)
    serials = forms.CharField(
        label=_("Serials, one per line"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("A line may be a range: WM-030001 .. WM-030010. Or tick the meters in the list below."),
    )
    supplier = forms.CharField(label=_("Supplier"), max_length=200, required=False, help_text=_("For a reject."))
    reference = forms.CharField(label=_("Reference"), max_length=80, required=False)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
    key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=120)

    def __init__(self, *args: Any, operator: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from_store"].queryset = _stores(operator)  # type: ignore[attr-defined]
        self.fields["to_store"].queryset = _stores(operator)  # type: ignore[attr-defined]


class MovementFilterForm(forms.Form):
    date_from = forms.DateField(label=_("From"), required=False, widget=DATE)
    date_to = forms.DateField(label=_("To"), required=False, widget=DATE)
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("All")), *Movement.Kind.choices], required=False)
    store = forms.ModelChoiceField(label=_("Store"), queryset=Store.objects.none(), required=False)

    def __init__(self, *args: Any, operator: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = _stores(operator, active=False)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", _("On or after the first day."))
        return data


class CalibrationForm(forms.Form):
    meter = forms.CharField(label=_("Meter serial"), max_length=60)
    calibrated_on = forms.DateField(label=_("Calibrated on"), widget=DATE)
    result = forms.ChoiceField(label=_("Result"), choices=Calibration.Result.choices)
    to_store = forms.ModelChoiceField(
        label=_("Back to store"),
        queryset=Store.objects.none(),
        required=False,
        help_text=_("Where a meter from the lab goes when it passed."),
    )
    error_percent = forms.DecimalField(label=_("Error (%)"), max_digits=7, decimal_places=3, required=False)
    certificate = forms.CharField(label=_("Certificate"), max_length=80, required=False)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args: Any, operator: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_store"].queryset = _stores(operator).exclude(kind=Store.Kind.LAB)  # type: ignore[attr-defined]


class DueForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=1900, max_value=2200)
    store = forms.ModelChoiceField(label=_("Store"), queryset=Store.objects.none(), required=False)
    meter_model = forms.ModelChoiceField(label=_("Meter model"), queryset=MeterModel.objects.none(), required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("All")), *MeterModel.Kind.choices], required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=DATE)
    date_to = forms.DateField(label=_("To"), required=False, widget=DATE)

    def __init__(self, *args: Any, operator: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = _stores(operator, active=False)  # type: ignore[attr-defined]
        self.fields["meter_model"].queryset = _models(operator)  # type: ignore[attr-defined]


def this_year() -> int:
    return datetime.date.today().year
