"""Forms of service requests: filters, the new-connection application, complaints, transitions, comments,
attachments, the survey and installation results, fees and terms."""

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from mita.customers.models import Connection
from mita.servicing.models import RequestAttachment, ServiceFee, ServiceRequest
from mita.servicing.types.complaint import CATEGORIES
from mita.servicing.types.disconnection import REASONS as DISCONNECTION_REASONS
from mita.servicing.types.new_connection import CROSSINGS
from mita.servicing.types.package_change import EFFECTIVE as PACKAGE_EFFECTIVE
from mita.servicing.workflow import type_choices, types

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MATERIAL_ROWS = 6
CROSSING_LABELS = {
    "road": _("Road"),
    "swamp": _("Swamp"),
    "river": _("River"),
    "railway": _("Railway"),
    "other": _("Other"),
}


class RequestFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    type = forms.ChoiceField(label=_("Type"), required=False)
    state = forms.ChoiceField(label=_("State"), required=False)
    assignee = forms.TypedChoiceField(label=_("Assignee"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, technicians: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [("", _("Any")), *type_choices()]  # type: ignore[attr-defined]
        states: dict[str, Any] = {}
        for request_type in types():
            for state in request_type.states:
                states.setdefault(state.name, state.label)
        self.fields["state"].choices = [("", _("Any")), *states.items()]  # type: ignore[attr-defined]
        self.fields["assignee"].choices = [  # type: ignore[attr-defined]
            ("", _("Anyone")),
            *[(user.pk, user.name or user.phone) for user in technicians],
        ]


class NewConnectionForm(forms.Form):
    """An application: an existing customer by number, or a new one by name and phone."""

    customer_number = forms.CharField(
        label=_("Existing customer number"),
        required=False,
        max_length=32,
        help_text=_("Leave empty for a new customer, and fill in the name and phone below."),
    )
    name = forms.CharField(label=_("New customer's name"), required=False, max_length=200)
    phone = forms.CharField(label=_("New customer's phone"), required=False, max_length=20)
    id_number = forms.CharField(label=_("National ID number"), required=False, max_length=40)
    language = forms.ChoiceField(
        label=_("Language"), choices=[("", _("The operator's default")), *settings.LANGUAGES], required=False
    )
    village = forms.CharField(label=_("Village"), max_length=120, required=False)
    utility = forms.ChoiceField(label=_("Utility"), choices=Connection.Utility.choices)
    property_type = forms.ChoiceField(label=_("Property type"), choices=Connection.PropertyType.choices)
    number = forms.CharField(
        label=_("Connection number"),
        required=False,
        max_length=64,
        help_text=_("Leave empty to give the next number of your operator's sequence."),
    )
    channel = forms.ChoiceField(label=_("Received"), choices=ServiceRequest.Channel.choices)
    details = forms.CharField(label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    signed_form = forms.FileField(
        label=_("Signed application form"),
        required=False,
        help_text=_("Required at the office: a PDF, JPEG or PNG scan."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )
    terms_accepted = forms.BooleanField(label=_("The applicant accepts the terms and conditions"), required=False)


class ComplaintForm(forms.Form):
    customer_number = forms.CharField(label=_("Customer number"), max_length=32)
    connection_number = forms.CharField(label=_("Connection number"), required=False, max_length=64)
    category = forms.ChoiceField(label=_("About"), choices=list(CATEGORIES.items()))
    channel = forms.ChoiceField(label=_("Received"), choices=ServiceRequest.Channel.choices)
    summary = forms.CharField(label=_("Summary"), max_length=200)
    details = forms.CharField(label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class TransitionForm(forms.Form):
    transition = forms.CharField(widget=forms.HiddenInput, max_length=40)
    assignee = forms.TypedChoiceField(label=_("Technician"), required=False, coerce=int, empty_value=None)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    # A type's own transition fields (mita.servicing.types.register_transition_fields), shown where it asks for them.
    arrears_acknowledged = forms.BooleanField(
        label=_("The new owner takes the arrears on"),
        required=False,
        help_text=_("Needed while the account owes anything; the amount is on the request."),
    )

    def __init__(self, *args: Any, technicians: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *[(user.pk, user.name or user.phone) for user in technicians],
        ]


class TypedRequestForm(forms.Form):
    """A request of one of the connection types (disconnection, reconnection, meter transfer, ownership change,
    package change, termination): the customer and connection, plus the fields the type asks for."""

    customer_number = forms.CharField(label=_("Customer number"), max_length=32)
    connection_number = forms.CharField(label=_("Connection number"), max_length=64)
    channel = forms.ChoiceField(label=_("Received"), choices=ServiceRequest.Channel.choices)
    reason = forms.ChoiceField(label=_("Why"), choices=list(DISCONNECTION_REASONS.items()))
    assignee = forms.TypedChoiceField(
        label=_("Technician"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Started by the operator: the technician who disconnects."),
    )
    to_connection_number = forms.CharField(label=_("Move the meter to connection"), max_length=64)
    to_customer_number = forms.CharField(label=_("New owner's customer number"), max_length=32)
    on_date = forms.DateField(label=_("Owner from"), required=False, widget=DATE, help_text=_("Empty: today."))
    package = forms.CharField(label=_("New package"), max_length=40)
    effective = forms.ChoiceField(label=_("Takes effect"), choices=list(PACKAGE_EFFECTIVE.items()))
    details = forms.CharField(label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    TYPE_FIELDS = (
        "reason",
        "assignee",
        "to_connection_number",
        "to_customer_number",
        "on_date",
        "package",
        "effective",
    )

    def __init__(self, *args: Any, fields: tuple[str, ...], technicians: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.TYPE_FIELDS:
            if name not in fields:
                del self.fields[name]
        if "assignee" in self.fields:
            self.fields["assignee"].choices = [  # type: ignore[attr-defined]
                ("", "—"),
                *[(user.pk, user.name or user.phone) for user in technicians],
            ]


class WorkDoneForm(forms.Form):
    """A disconnection or reconnection work order: what the technician did."""

    note = forms.CharField(label=_("What was done"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def result(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class FinalReadingForm(forms.Form):
    final_index = forms.DecimalField(label=_("Final index"), min_value=0, max_digits=14, decimal_places=3)
    final_amount = forms.DecimalField(
        label=_("Final bill before VAT"),
        min_value=0,
        max_digits=16,
        decimal_places=2,
        help_text=_("What was used since the last bill, priced by the tariff; 0 if nothing."),
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def result(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class AssignForm(forms.Form):
    assignee = forms.TypedChoiceField(label=_("Technician"), coerce=int)

    def __init__(self, *args: Any, technicians: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [(user.pk, user.name or user.phone) for user in technicians]  # type: ignore[attr-defined]


class CommentForm(forms.Form):
    text = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}))


class AttachmentForm(forms.Form):
    kind = forms.ChoiceField(label=_("What it is"), choices=RequestAttachment.Kind.choices)
    file = forms.FileField(
        label=_("File"),
        help_text=_("PDF, JPEG or PNG."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )


class SurveyForm(forms.Form):
    """The surveyor's findings: distance, each kind of crossing, and up to six catalogue materials."""

    distance_m = forms.DecimalField(label=_("Distance from the main (m)"), min_value=0, max_digits=10, decimal_places=2)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, materials: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in CROSSINGS:
            self.fields[f"crossing_{kind}_count"] = forms.IntegerField(
                label=_("%(kind)s crossings") % {"kind": CROSSING_LABELS[kind]}, min_value=0, required=False
            )
            self.fields[f"crossing_{kind}_length"] = forms.DecimalField(
                label=_("%(kind)s crossing length (m)") % {"kind": CROSSING_LABELS[kind]},
                min_value=0,
                max_digits=10,
                decimal_places=2,
                required=False,
            )
        choices = [
            ("", "—"),
            *[(material.pk, f"{material.code} {material.name} ({material.unit})") for material in materials],
        ]
        for row in range(MATERIAL_ROWS):
            self.fields[f"material_{row}"] = forms.TypedChoiceField(
                label=_("Material %(row)s") % {"row": row + 1},
                choices=choices,
                required=False,
                coerce=int,
                empty_value=None,
            )
            self.fields[f"quantity_{row}"] = forms.DecimalField(
                label=_("Quantity %(row)s") % {"row": row + 1},
                min_value=0,
                max_digits=12,
                decimal_places=3,
                required=False,
            )

    def result(self) -> dict[str, Any]:
        data = self.cleaned_data
        crossings = [
            {
                "kind": kind,
                "count": data.get(f"crossing_{kind}_count") or 0,
                "length_m": data.get(f"crossing_{kind}_length") or 0,
            }
            for kind in CROSSINGS
        ]
        materials = [
            {"material_id": data[f"material_{row}"], "quantity": data.get(f"quantity_{row}")}
            for row in range(MATERIAL_ROWS)
            if data.get(f"material_{row}")
        ]
        return {"distance_m": data["distance_m"], "crossings": crossings, "materials": materials, "note": data["note"]}


class InstallationForm(forms.Form):
    meter_serial = forms.CharField(label=_("Meter serial number"), required=False, max_length=40)
    meter_brand = forms.CharField(label=_("Meter brand"), required=False, max_length=60)
    initial_index = forms.DecimalField(
        label=_("Initial index"), required=False, min_value=0, max_digits=14, decimal_places=3
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def result(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["initial_index"] = "" if data.get("initial_index") is None else data["initial_index"]
        return data


class FeeForm(forms.Form):
    kind = forms.ChoiceField(label=_("Fee"), choices=ServiceFee.Kind.choices)
    utility = forms.ChoiceField(label=_("Utility"), choices=Connection.Utility.choices)
    property_type = forms.ChoiceField(
        label=_("Property type"),
        choices=[("", _("Every property type")), *Connection.PropertyType.choices],
        required=False,
    )
    amount = forms.DecimalField(label=_("Amount"), min_value=0, max_digits=16, decimal_places=2)


class TermsForm(forms.Form):
    version = forms.CharField(label=_("Version"), max_length=20, help_text=_("E.g. 2026-1; never reused."))
    effective_from = forms.DateField(label=_("Effective from"), widget=DATE)
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 10}))
