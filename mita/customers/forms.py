"""Forms for registering a customer, changing their status, and adding a connection with its opening arrears."""

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from mita.customers.models import Connection, Customer, MeterChamber, Route
from mita.customers.services import CODE_GUARDED_FIELDS
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


class CustomerEditForm(CustomerForm):
    """What a clerk corrects directly: everything but the phones and the e-mail, which change only with the code
    sent to the customer's phone (the contact change)."""

    def __init__(self, *args: Any, districts: Any, **kwargs: Any) -> None:
        super().__init__(*args, districts=districts, **kwargs)
        for field in CODE_GUARDED_FIELDS:
            del self.fields[field]


class CustomerStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=Customer.Status.choices)
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))


class ConnectionDetailsFields(forms.Form):
    """Route and place on it, meter chamber, billing cycle and land parcel: on the new and the edit form."""

    route = forms.ModelChoiceField(
        label=_("Route"), queryset=Route.objects.none(), required=False, empty_label=_("None yet")
    )
    reading_sequence = forms.IntegerField(
        label=_("Reading sequence"),
        min_value=1,
        required=False,
        help_text=_("The connection's place on the route; leave gaps (10, 20, 30) to insert others later."),
    )
    chamber = forms.ModelChoiceField(
        label=_("Meter chamber"), queryset=MeterChamber.objects.none(), required=False, empty_label=_("None")
    )
    billing_cycle = forms.ChoiceField(
        label=_("Billing cycle"),
        choices=Connection.BillingCycle.choices,
        initial=Connection.BillingCycle.MONTHLY,
        required=False,
    )
    parcel_upi = forms.CharField(
        label=_("Land parcel UPI"),
        max_length=40,
        required=False,
        help_text=_("As on the land title, e.g. 1/02/03/04/1234; the land registry fills in the parcel."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "1/02/03/04/1234"}),
    )

    assessed_usage = forms.DecimalField(
        label=_("Assessed usage"),
        max_digits=12,
        decimal_places=3,
        min_value=Decimal("0"),
        required=False,
        help_text=_(
            "For a connection without a meter: the units (m3 or kWh) it is billed for each tariff period. "
            "Empty: the tariff's assessed usage."
        ),
    )

    def __init__(self, *args: Any, routes: Any, chambers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["route"].queryset = routes  # type: ignore[attr-defined]
        self.fields["chamber"].queryset = chambers  # type: ignore[attr-defined]

    def clean_billing_cycle(self) -> str:
        """Monthly unless said otherwise (a form or import that does not know the field)."""
        return self.cleaned_data.get("billing_cycle") or Connection.BillingCycle.MONTHLY


class ConnectionForm(ConnectionDetailsFields):
    field_order = [
        "number",
        "utility",
        "property_type",
        "connection_type",
        "metered",
        "supply_system",
        "cluster",
        "latitude",
        "longitude",
        "route",
        "reading_sequence",
        "chamber",
        "billing_cycle",
        "assessed_usage",
        "parcel_upi",
    ]
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


class ServiceNoteForm(forms.Form):
    """A note for the customer's file, from their 360 page (the service checks the text and the connection)."""

    text = forms.CharField(
        label=_("Note"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000}),
        error_messages={"required": _("Write the note.")},
    )
    connection = forms.ModelChoiceField(
        label=_("About the connection"), queryset=Connection.objects.none(), required=False, empty_label=_("None")
    )

    def __init__(self, *args: Any, connections: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "note_%s")  # the 360 page holds other forms with a "connection" field
        super().__init__(*args, **kwargs)
        self.fields["connection"].queryset = connections  # type: ignore[attr-defined]


class ConnectionEditForm(ConnectionDetailsFields):
    """What may change on a connection; its number, customer and utility never do here."""

    field_order = ["connection_type", "metered", "latitude", "longitude"]
    connection_type = forms.CharField(label=_("Connection type"), max_length=40, required=False)
    metered = forms.BooleanField(label=_("Metered"), required=False)
    latitude = forms.DecimalField(
        label=_("Latitude"), max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False
    )
    longitude = forms.DecimalField(
        label=_("Longitude"), max_digits=9, decimal_places=6, min_value=-180, max_value=180, required=False
    )


class RouteForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=32, help_text=_("Short and unique, e.g. R-07."))
    name = forms.CharField(label=_("Name"), max_length=120)
    supply_system = forms.ModelChoiceField(
        label=_("Supply system"), queryset=SupplySystem.objects.none(), required=False, empty_label=_("Any")
    )

    def __init__(self, *args: Any, supply_systems: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["supply_system"].queryset = supply_systems  # type: ignore[attr-defined]


class ChamberForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=32, help_text=_("Short and unique, e.g. CH-014."))
    description = forms.CharField(
        label=_("Description"),
        max_length=300,
        required=False,
        help_text=_("Where it is and what it holds, e.g. 'concrete pit by the market gate, 6 meters'."),
    )
    latitude = forms.DecimalField(
        label=_("Latitude"), max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False
    )
    longitude = forms.DecimalField(
        label=_("Longitude"), max_digits=9, decimal_places=6, min_value=-180, max_value=180, required=False
    )


class ContactChangeForm(forms.Form):
    """The customer's new phones and e-mail; an operator admin may apply them without the code, with a reason."""

    phone = forms.CharField(label=_("Phone"), max_length=20, help_text=_("E.g. +250788123456."))
    phone_2 = forms.CharField(label=_("Second phone"), max_length=20, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    reason = forms.CharField(
        label=_("Reason for changing without the code"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Operator admins only, when the customer lost their phone: say what happened."),
    )


class ContactCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code the customer received"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class IndigentForm(forms.Form):
    """Put a household on the indigent register (the service checks the dates against the register)."""

    account = forms.CharField(
        label=_("Customer or connection number"),
        max_length=64,
        help_text=_("The household's customer number, or the number of one of its connections."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    reference = forms.CharField(
        label=_("Reference"), max_length=120, help_text=_("The social register's number, or the letter's reference.")
    )
    evidence = forms.CharField(
        label=_("Evidence"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 500}),
        help_text=_("What was seen, and by whom."),
    )
    valid_from = forms.DateField(label=_("Valid from"), widget=DATE)
    valid_to = forms.DateField(
        label=_("Valid until"), widget=DATE, required=False, help_text=_("Empty: until the registration is ended.")
    )


class IndigentEndForm(forms.Form):
    valid_to = forms.DateField(label=_("Last day"), widget=DATE, required=False, help_text=_("Empty: today."))
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)
