"""Forms for taking a payment, filtering the list, voiding with a supervisor's approval, and assigning from suspense."""

import uuid
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from mita.accounts.forms import PhoneField
from mita.core.money import quantize
from mita.payments.models import Channel, Payment

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PaymentForm(forms.Form):
    account_reference = forms.CharField(
        label=_("Account reference"),
        max_length=64,
        help_text=_("The customer account number, as on the bill (e.g. AMA-0001)."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    amount = forms.DecimalField(
        label=_("Amount"),
        max_digits=16,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=())
    payer_name = forms.CharField(label=_("Payer's name"), max_length=150, required=False)
    payer_phone = PhoneField(label=_("Payer's phone"), required=False)
    # Made when the form is shown: sending the same form twice (a double click, a resend) records one payment.
    idempotency_key = forms.CharField(max_length=120, widget=forms.HiddenInput)

    def __init__(self, *args: Any, channels: list[str], currency: str, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("idempotency_key", str(uuid.uuid4()))
        super().__init__(*args, **kwargs)
        self.currency = currency
        channel_field = self.fields["channel"]
        assert isinstance(channel_field, forms.ChoiceField)
        channel_field.choices = [(channel, Channel(channel).label) for channel in channels]
        if len(channels) == 1:
            channel_field.initial = channels[0]
        self.fields["amount"].help_text = _("In %(currency)s.") % {"currency": currency}

    def clean_amount(self) -> Decimal:
        amount: Decimal = self.cleaned_data["amount"]
        if quantize(amount, self.currency) != amount:
            raise forms.ValidationError(
                _("%(currency)s amounts have no smaller units than this: write %(rounded)s."),
                code="precision",
                params={"currency": self.currency, "rounded": quantize(amount, self.currency)},
            )
        return amount

    def renew_key(self) -> None:
        """Give the form a new key (after the old one was used for another payment)."""
        data = cast(QueryDict, self.data).copy()
        data["idempotency_key"] = str(uuid.uuid4())
        self.data = data


class PaymentFilterForm(forms.Form):
    reference = forms.CharField(label=_("Account or receipt"), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("Any")), *Payment.Status.choices], required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=[("", _("Any")), *Channel.choices], required=False)
    date_from = forms.DateField(label=_("From"), widget=DATE, required=False)
    date_to = forms.DateField(label=_("Until"), widget=DATE, required=False)


class SupervisorField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name or obj.phone)


class VoidForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    approver = SupervisorField(
        label=_("Approving supervisor"),
        queryset=None,
        help_text=_("An operator admin or treasurer other than you."),
    )
    approver_password = forms.CharField(
        label=_("Supervisor's password"),
        strip=False,
        # new-password: the browser must not fill in the signed-in user's own saved password.
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("The supervisor types it here, on this device, to approve."),
    )

    def __init__(self, *args: Any, supervisors: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        approver_field = self.fields["approver"]
        assert isinstance(approver_field, SupervisorField)
        approver_field.queryset = supervisors

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        approver = cleaned.get("approver")
        password = cleaned.get("approver_password")
        if approver is not None and password and not approver.check_password(password):
            self.add_error("approver_password", _("This is not the supervisor's password."))
        return cleaned


class AssignForm(forms.Form):
    holder = forms.CharField(
        label=_("Customer account"),
        max_length=64,
        help_text=_("The account this payment belongs to (e.g. AMA-0001)."),
    )
