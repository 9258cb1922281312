"""Forms for the deposit schedule, an account's deposit, refunds, charge-backs and charge cancellations."""

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mita.accounts.forms import PhoneField
from mita.core.money import quantize
from mita.payments.forms import DATE, SupervisorField
from mita.payments.models import Refund


class _MoneyForm(forms.Form):
    """A form whose `amount` is in the operator's currency, never finer than its smallest unit."""

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        if "amount" in self.fields:
            self.fields["amount"].help_text = _("In %(currency)s.") % {"currency": currency}

    def clean_amount(self) -> Decimal | None:
        amount: Decimal | None = self.cleaned_data.get("amount")
        if amount is not None and quantize(amount, self.currency) != amount:
            raise forms.ValidationError(
                _("%(currency)s amounts have no smaller units than this: write %(rounded)s."),
                code="precision",
                params={"currency": self.currency, "rounded": quantize(amount, self.currency)},
            )
        return amount


def _amount_field(*, required: bool, minimum: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=_("Amount"),
        max_digits=16,
        decimal_places=2,
        min_value=Decimal(minimum),
        required=required,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


class DepositRateForm(_MoneyForm):
    key = forms.CharField(
        label=_("Connection type or package code"),
        max_length=40,
        help_text=_("As the connection type or package is named elsewhere, e.g. domestic or PKG-50."),
    )
    label = forms.CharField(label=_("Label"), max_length=150, required=False)
    amount = _amount_field(required=True, minimum="0")


class _KeyOrAmountForm(_MoneyForm):
    key = forms.ChoiceField(label=_("From the schedule"), required=False)
    amount = _amount_field(required=False, minimum="0")

    def __init__(self, *args: Any, rates: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        key_field = self.fields["key"]
        assert isinstance(key_field, forms.ChoiceField)
        key_field.choices = [("", _("— or give an amount —"))] + [
            (rate.key, f"{rate.label} ({rate.key}): {quantize(rate.amount, self.currency)} {self.currency}")
            for rate in rates
        ]
        self.fields["amount"].help_text = _("In %(currency)s, when the schedule has no line for it.") % {
            "currency": self.currency
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors and bool(cleaned.get("key")) == (cleaned.get("amount") is not None):
            self.add_error(None, _("Choose a line of the schedule, or give an amount: one of the two."))
        return cleaned


class DepositChargeForm(_KeyOrAmountForm):
    reference = forms.CharField(
        label=_("Reference"), max_length=100, help_text=_("e.g. the connection's work order, WO-2026-0042.")
    )
    due_date = forms.DateField(label=_("Due"), widget=DATE)
    # Made when the form is shown: sending it twice charges the deposit once.
    idempotency_key = forms.CharField(max_length=120, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("idempotency_key", str(uuid.uuid4()))
        kwargs["initial"].setdefault("due_date", timezone.localdate())
        super().__init__(*args, **kwargs)


class DepositAdjustForm(_KeyOrAmountForm):
    reference = forms.CharField(
        label=_("Reference"), max_length=100, help_text=_("e.g. the package change request, SR-2026-0107.")
    )


class RefundRequestForm(_MoneyForm):
    holder = forms.CharField(label=_("Customer account"), max_length=64)
    source = forms.ChoiceField(label=_("Refund from"), choices=Refund.Source.choices, initial=Refund.Source.CREDIT)
    amount = _amount_field(required=True, minimum="0.01")
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    payee_name = forms.CharField(label=_("Payee"), max_length=150, help_text=_("Who receives the money."))
    method = forms.ChoiceField(label=_("Payout method"), choices=Refund.Method.choices)
    payee_phone = PhoneField(label=_("Payee's phone"), required=False, help_text=_("For mobile money."))
    network = forms.ChoiceField(label=_("Mobile network"), choices=[("", "—"), *Refund.Network.choices], required=False)
    bank_name = forms.CharField(label=_("Bank"), max_length=100, required=False, help_text=_("For a bank transfer."))
    bank_account = forms.CharField(label=_("Bank account"), max_length=64, required=False)
    idempotency_key = forms.CharField(max_length=120, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("idempotency_key", str(uuid.uuid4()))
        super().__init__(*args, **kwargs)


class RefundRejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class RefundPayoutForm(forms.Form):
    payout_reference = forms.CharField(
        label=_("Payout reference"),
        max_length=100,
        required=False,
        help_text=_("The bank's or mobile money transaction reference; for cash, the voucher number if any."),
    )
    payout_date = forms.DateField(label=_("Paid on"), widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("payout_date", timezone.localdate())
        super().__init__(*args, **kwargs)


class ChargebackForm(forms.Form):
    provider_reference = forms.CharField(
        label=_("Provider's reversal reference"),
        max_length=100,
        help_text=_("The charge-back or reversal id from MTN, Safaricom or the payment gateway."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class ChargeCancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    approver = SupervisorField(
        label=_("Approving supervisor"), queryset=None, help_text=_("An operator admin or treasurer.")
    )
    approver_password = forms.CharField(
        label=_("Supervisor's password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("The supervisor types it here, on this device, to approve."),
    )

    def __init__(self, *args: Any, supervisors: Any, needs_approval: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not needs_approval:  # a supervisor approves their own cancellation
            del self.fields["approver"]
            del self.fields["approver_password"]
            return
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
