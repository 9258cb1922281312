"""Forms for onboarding operators, granting grace periods and uploading a logo."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from mita.accounts.forms import PhoneField
from mita.core.money import CURRENCY_EXPONENTS
from mita.registry.models import Boundary, Operator


class LicenceLookupForm(forms.Form):
    licence_number = forms.CharField(
        label=_("Licence number"), max_length=50, widget=forms.TextInput(attrs={"placeholder": "RURA/WSS/2024/017"})
    )


class OnboardForm(LicenceLookupForm):
    name = forms.CharField(
        label=_("Operator name"),
        max_length=200,
        required=False,
        help_text=_("Leave empty to use the licence holder's name."),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=Operator.Kind.choices)
    utility = forms.ChoiceField(label=_("Utility"), choices=Operator.Utility.choices)
    country_code = forms.ChoiceField(label=_("Country"), choices=[("RW", _("Rwanda")), ("IN", _("India"))])
    currency = forms.ChoiceField(label=_("Currency"), choices=[(code, code) for code in CURRENCY_EXPONENTS])
    districts = forms.ModelMultipleChoiceField(
        label=_("Operating districts"),
        queryset=Boundary.objects.districts().order_by("name"),
        required=False,
        help_text=_("Leave empty to use the licensed districts."),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    language = forms.ChoiceField(label=_("Admin's language"), choices=[])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from django.conf import settings

        super().__init__(*args, **kwargs)
        language_field = self.fields["language"]
        assert isinstance(language_field, forms.ChoiceField)
        language_field.choices = settings.LANGUAGES


class GracePeriodForm(forms.Form):
    starts_on = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class LogoForm(forms.Form):
    logo = forms.FileField(
        label=_("Logo (PNG, JPEG or SVG)"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/svg+xml"}),
    )


class DistrictOfficerInviteForm(forms.Form):
    district = forms.ModelChoiceField(label=_("District"), queryset=Boundary.objects.districts().order_by("name"))
    phone = PhoneField()
    name = forms.CharField(label=_("Name"), max_length=150)
    email = forms.EmailField(label=_("E-mail (optional)"), required=False)
    language = forms.ChoiceField(label=_("Language"), choices=[])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from django.conf import settings

        super().__init__(*args, **kwargs)
        language_field = self.fields["language"]
        assert isinstance(language_field, forms.ChoiceField)
        language_field.choices = settings.LANGUAGES
