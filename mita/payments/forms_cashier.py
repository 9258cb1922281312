"""Forms of the cashier pages: open a till, count it at the close, a banking slip, a hand-over and its dispute."""

import datetime
import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from mita.core.money import quantize
from mita.payments.denominations import Denomination, denominations_of
from mita.payments.forms import DATE, SupervisorField

MONEY_INPUT = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})


def _with_key(kwargs: dict[str, Any]) -> dict[str, Any]:
    """A key made when the form is shown: sending it twice (a double click, a resend) makes one record."""
    kwargs.setdefault("initial", {})
    kwargs["initial"].setdefault("idempotency_key", str(uuid.uuid4()))
    return kwargs


def _exact(amount: Decimal | None, currency: str) -> Decimal | None:
    if amount is not None and quantize(amount, currency) != amount:
        raise forms.ValidationError(
            _("%(currency)s amounts have no smaller units than this: write %(rounded)s."),
            code="precision",
            params={"currency": currency, "rounded": quantize(amount, currency)},
        )
    return amount


def count_field_name(denomination: Denomination) -> str:
    return "count_" + denomination.key.replace(".", "_")


class CountFields(forms.Form):
    """One field per note and coin of the currency: how many pieces were counted."""

    def add_count_fields(self, currency: str) -> None:
        self.denominations = denominations_of(currency)
        for denomination in self.denominations:
            self.fields[count_field_name(denomination)] = forms.IntegerField(
                label=f"{formats.number_format(denomination.value, force_grouping=True)} ({denomination.form_label})",
                min_value=0,
                max_value=1_000_000,
                required=False,
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": "0", "class": "count"}),
            )

    def count_fields(self) -> list[forms.BoundField]:
        return [self[count_field_name(denomination)] for denomination in self.denominations]

    def other_fields(self) -> list[forms.BoundField]:
        counted = {count_field_name(denomination) for denomination in self.denominations}
        return [self[name] for name in self.fields if name not in counted]

    def counts(self) -> dict[str, int]:
        return {
            denomination.key: self.cleaned_data.get(count_field_name(denomination)) or 0
            for denomination in self.denominations
        }


class TillOpenForm(forms.Form):
    float_amount = forms.DecimalField(
        label=_("Float"),
        max_digits=16,
        decimal_places=2,
        min_value=Decimal("0"),
        widget=MONEY_INPUT,
    )
    idempotency_key = forms.CharField(max_length=120, widget=forms.HiddenInput)

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **_with_key(kwargs))
        self.currency = currency
        self.fields["float_amount"].help_text = _(
            "The change you start the day with, in %(currency)s (0 if none). It is counted back at the close."
        ) % {"currency": currency}

    def clean_float_amount(self) -> Decimal | None:
        return _exact(self.cleaned_data.get("float_amount"), self.currency)


class TillCloseForm(CountFields):
    explanation = forms.CharField(
        label=_("Explanation of the variance"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed when the count differs from what the till should hold."),
    )

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_count_fields(currency)


class TillField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(_("Till %(number)s · %(name)s · %(day)s")) % {
            "number": obj.pk,
            "name": obj.cashier.name,
            "day": obj.business_date.isoformat(),
        }


class BankingSlipForm(forms.Form):
    till = TillField(
        label=_("Till"),
        queryset=None,
        required=False,
        help_text=_("The closed till whose cash you bank."),
    )
    bank_name = forms.CharField(label=_("Bank"), max_length=100)
    slip_number = forms.CharField(label=_("Slip number"), max_length=60)
    amount = forms.DecimalField(
        label=_("Amount"), max_digits=16, decimal_places=2, min_value=Decimal("0.01"), widget=MONEY_INPUT
    )
    deposited_on = forms.DateField(label=_("Deposited on"), widget=DATE)
    idempotency_key = forms.CharField(max_length=120, widget=forms.HiddenInput)

    def __init__(self, *args: Any, currency: str, tills: Any, till_required: bool, **kwargs: Any) -> None:
        kwargs = _with_key(kwargs)
        kwargs["initial"].setdefault("deposited_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.currency = currency
        till_field = self.fields["till"]
        assert isinstance(till_field, TillField)
        till_field.queryset = tills
        till_field.required = till_required
        if not till_required:
            till_field.empty_label = _("Office cash in general (no one till)")
        self.fields["amount"].help_text = _("In %(currency)s.") % {"currency": currency}

    def clean_amount(self) -> Decimal | None:
        return _exact(self.cleaned_data.get("amount"), self.currency)

    def clean_deposited_on(self) -> datetime.date | None:
        deposited_on: datetime.date | None = self.cleaned_data.get("deposited_on")
        if deposited_on is not None and deposited_on > timezone.localdate():
            raise forms.ValidationError(_("A deposit cannot be dated in the future."), code="future")
        return deposited_on


class HandoverForm(CountFields):
    treasurer = SupervisorField(
        label=_("Handed to"),
        queryset=None,
        help_text=_("The treasurer (or admin) who receives the cash and confirms it."),
    )
    amount = forms.DecimalField(
        label=_("Amount"), max_digits=16, decimal_places=2, min_value=Decimal("0.01"), widget=MONEY_INPUT
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
    idempotency_key = forms.CharField(max_length=120, widget=forms.HiddenInput)

    def __init__(self, *args: Any, currency: str, treasurers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **_with_key(kwargs))
        self.currency = currency
        treasurer_field = self.fields["treasurer"]
        assert isinstance(treasurer_field, SupervisorField)
        treasurer_field.queryset = treasurers
        self.fields["amount"].help_text = _("In %(currency)s.") % {"currency": currency}
        self.add_count_fields(currency)

    def clean_amount(self) -> Decimal | None:
        return _exact(self.cleaned_data.get("amount"), self.currency)

    def counts(self) -> dict[str, int]:
        return {key: count for key, count in super().counts().items() if count}


class DisputeForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you dispute it?"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("e.g. 20,000 counted, not 25,000. The cash stays in the collector's hand."),
    )
