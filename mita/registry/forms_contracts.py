"""Forms for contracts, the checklist and the requirement list; the rules themselves live in the services."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files import File
from django.utils.translation import gettext_lazy as _

from mita.core.errors import DomainError
from mita.registry.models import Contract, Operator, Requirement
from mita.registry.services.contracts import contract_document_check


class DateInput(forms.DateInput):
    input_type = "date"


class ContractForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    parties = forms.CharField(
        label=_("Parties"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Who signed the contract, one per line."),
    )
    signed_on = forms.DateField(label=_("Signed on"), widget=DateInput)
    starts_on = forms.DateField(label=_("Starts on"), widget=DateInput)
    ends_on = forms.DateField(label=_("Ends on"), widget=DateInput)
    document = forms.FileField(
        label=_("Contract (PDF)"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
        help_text=_("The signed contract as one PDF file."),
    )

    def clean_document(self) -> File:
        document: File = self.cleaned_data["document"]
        try:
            contract_document_check(document=document)
        except DomainError as error:
            raise ValidationError(error.fields.get("document") or [str(error.message)], code=error.code) from None
        return document

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", _("The contract must end on or after the day it starts."))
        return cleaned

    @property
    def document_needs_choosing_again(self) -> bool:
        """After an error the browser forgets the chosen file, even a good one: say so next to the field."""
        return self.is_bound and bool(self.errors) and "document" not in self.errors and bool(self.files)


class NationalUtilityContractForm(ContractForm):
    operator = forms.ModelChoiceField(
        label=_("Operator"),
        queryset=Operator.objects.filter(is_active=True).order_by("name"),
        help_text=_("The operator the contract is with."),
    )
    field_order = ["operator", "title", "parties", "signed_on", "starts_on", "ends_on", "document"]


class ContractRejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for rejection"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The national utility reads this: say what to correct."),
        error_messages={"required": _("Say why the contract is rejected, so the national utility can correct it.")},
    )


class ChecklistTickForm(forms.Form):
    requirement = forms.ModelChoiceField(
        queryset=Requirement.objects.filter(is_active=True),
        error_messages={
            "invalid_choice": _(
                "This requirement is no longer on the checklist. Reload the page to see the current list."
            )
        },
    )
    checked = forms.TypedChoiceField(
        choices=[("1", _("ticked")), ("0", _("not ticked"))], coerce=lambda value: value == "1"
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class RequirementForm(forms.Form):
    title = forms.CharField(label=_("Requirement"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("What the district officer checks before ticking it."),
    )
    order = forms.IntegerField(
        label=_("Position"),
        min_value=0,
        max_value=32767,
        initial=100,
        help_text=_("Requirements are listed from the smallest position to the largest."),
    )


class ContractFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("Any")), *Contract.Status.choices], required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("Any")), *Contract.Kind.choices], required=False)
    q = forms.CharField(label=_("Title, parties or operator"), required=False)
