"""Forms for registering a customer, changing their status, and adding a connection with its opening arrears."""

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from mita.customers.models import Connection, Customer
from mita.registry.models import Boundary, Cluster, SupplySystem

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CustomerSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_(
            "A customer or connection number, a word of the name, a phone, an ID number, a village or street, "
            "or a bank account; each word you type is the start of one."
        ),
    )
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("Any")), *Customer.Status.choices])


class CustomerForm(forms.Form):
    """The customer's details; the phones are checked and normalised by the service (E.164)."""

    kind = forms.ChoiceField(label=_("Kind"), choices=Customer.Kind.choices, initial=Customer.Kind.PERSON)
    name = forms.CharField(label=_("Name"), max_length=200)
    relative_name = forms.CharField(label=_("Father's or spouse's name"), max_length=200, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=20, help_text=_("E.g. +250788123456."))
    phone_2 = forms.CharField(label=_("Second phone"), max_length=20, required=False)
    id_type = forms.ChoiceField(label=_("ID type"), choices=Customer.IdType.choices, required=False)
    id_number = forms.CharField(label=_("ID number"), max_length=40, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    language = forms.ChoiceField(
        label=_("Language"), choices=[("", _("The operator's default")), *settings.LANGUAGES], required=False
    )
    district = forms.ModelChoiceField(
        label=_("District"), queryset=Boundary.objects.none(), required=False, empty_label=_("Not known")
    )
    village = forms.CharField(label=_("Village"), max_length=120, required=False)
    street = forms.CharField(label=_("Street"), max_length=120, required=False)
    house = forms.CharField(label=_("House"), max_length=60, required=False)
    bank_name = forms.CharField(label=_("Bank"), max_length=120, required=False)
    bank_account = forms.CharField(
        label=_("Bank account"), max_length=40, required=False, help_text=_("As on the bank's papers.")
    )

    def __init__(self, *args: Any, districts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = districts  # type: ignore[attr-defined]


class CustomerStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=Customer.Status.choices)
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))


class ConnectionForm(forms.Form):
    number = forms.CharField(
        label=_("Connection number"),
        max_length=64,
        help_text=_("The customer account number; it can never be changed later."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    utility = forms.ChoiceField(label=_("Utility"), choices=Connection.Utility.choices)
    property_type = forms.ChoiceField(label=_("Property type"), choices=Connection.PropertyType.choices)
    connection_type = forms.CharField(
        label=_("Connection type"), max_length=40, required=False, help_text=_("E.g. a pipe size or a phase code.")
    )
    metered = forms.BooleanField(label=_("Metered"), required=False, initial=True)
    supply_system = forms.ModelChoiceField(
        label=_("Supply system"), queryset=SupplySystem.objects.none(), required=False
    )
    cluster = forms.ModelChoiceField(label=_("Cluster"), queryset=Cluster.objects.none(), required=False)
    latitude = forms.DecimalField(
        label=_("Latitude"), max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False
    )
    longitude = forms.DecimalField(
        label=_("Longitude"), max_digits=9, decimal_places=6, min_value=-180, max_value=180, required=False
    )
    opening_arrears = forms.DecimalField(
        label=_("Opening arrears"),
        max_digits=16,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        help_text=_("What the customer owed on the old register, if anything."),
    )
    arrears_as_of = forms.DateField(label=_("Arrears as of"), widget=DATE, required=False)

    def __init__(self, *args: Any, supply_systems: Any, clusters: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["supply_system"].queryset = supply_systems  # type: ignore[attr-defined]
        self.fields["cluster"].queryset = clusters  # type: ignore[attr-defined]
