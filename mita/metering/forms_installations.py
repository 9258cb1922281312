"""Forms of the installations pages: install, remove and replace a connection's meter; give a route to a reader;
find a connection to read."""

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mita.accounts.models import User
from mita.customers.models import Route
from mita.metering.models import Installation, Store


class _MeterChoice(forms.Form):
    serial = forms.CharField(
        label=_("Meter serial number"),
        max_length=60,
        help_text=_("The number on the meter, as received into a store."),
        widget=forms.TextInput(attrs={"list": "meters-in-store", "autocomplete": "off"}),
    )
    brand = forms.CharField(
        label=_("Brand"),
        max_length=80,
        required=False,
        help_text=_("Only when meters of two brands carry the same serial."),
    )


class InstallForm(_MeterChoice):
    installed_on = forms.DateField(label=_("Installed on"), widget=forms.DateInput(attrs={"type": "date"}))
    initial_index = forms.DecimalField(
        label=_("Initial index"), help_text=_("What the dial shows now."), max_digits=16, decimal_places=3, min_value=0
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["installed_on"].initial = timezone.localdate()


class _Removal(forms.Form):
    final_index = forms.DecimalField(
        label=_("Final index"),
        help_text=_("What the old meter's dial shows as it comes off."),
        max_digits=16,
        decimal_places=3,
        min_value=0,
    )
    reason = forms.ChoiceField(label=_("Reason"), choices=[("", "—"), *Installation.RemovalReason.choices])
    to_store = forms.ModelChoiceField(
        label=_("Store the meter goes to"), queryset=Store.objects.none(), empty_label="—"
    )

    def __init__(self, *args: Any, stores: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_store"].queryset = stores  # type: ignore[attr-defined]


class RemoveForm(_Removal):
    removed_on = forms.DateField(label=_("Removed on"), widget=forms.DateInput(attrs={"type": "date"}))
    field_order = ["removed_on", "final_index", "reason", "to_store"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["removed_on"].initial = timezone.localdate()


class ReplaceForm(_Removal):
    replaced_on = forms.DateField(label=_("Replaced on"), widget=forms.DateInput(attrs={"type": "date"}))
    serial = _MeterChoice.base_fields["serial"]
    brand = _MeterChoice.base_fields["brand"]
    initial_index = forms.DecimalField(
        label=_("Initial index of the new meter"),
        help_text=_("What the new meter's dial shows."),
        max_digits=16,
        decimal_places=3,
        min_value=0,
    )
    field_order = ["replaced_on", "final_index", "reason", "to_store", "serial", "brand", "initial_index"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["replaced_on"].initial = timezone.localdate()


class AssignForm(forms.Form):
    route = forms.ModelChoiceField(label=_("Route"), queryset=Route.objects.none(), empty_label="—")
    cycle = forms.RegexField(label=_("Cycle"), regex=r"^\d{4}-\d{2}$", max_length=7, help_text=_("YYYY-MM"))
    reader = forms.ModelChoiceField(label=_("Meter reader"), queryset=User.objects.none(), empty_label="—")

    def __init__(self, *args: Any, routes: Any, readers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["route"].queryset = routes  # type: ignore[attr-defined]
        self.fields["reader"].queryset = readers  # type: ignore[attr-defined]
        self.fields["reader"].label_from_instance = lambda user: user.name or user.phone  # type: ignore[attr-defined]


class CycleForm(forms.Form):
    cycle = forms.RegexField(label=_("Cycle"), regex=r"^\d{4}-\d{2}$", max_length=7, required=False)


class FindForm(forms.Form):
    q = forms.CharField(
        label=_("Meter serial, connection number or chamber"),
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )
