"""Forms of the reading pages: finding a connection to read, and one reading of each of its meter's registers."""

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mita.metering.errors import MeteringError
from mita.metering.models import Reading
from mita.metering.reading_entry import photo_check
from mita.metering.selectors_readings import RegisterStanding


class ConnectionFindForm(forms.Form):
    q = forms.CharField(
        label=_("Meter serial or connection number"),
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"autofocus": True, "inputmode": "text", "autocomplete": "off"}),
    )


def index_field_name(register: str) -> str:
    return f"index_{register}"


class ReadingEntryForm(forms.Form):
    """One index per register of the installed meter (labelled with its previous index), the date, the source, a
    reader's code (an index may be left out with a code), a photo and a note; `form_key` makes a second submit a
    replay."""

    read_on = forms.DateField(label=_("Read on"), widget=forms.DateInput(attrs={"type": "date"}))
    source = forms.ChoiceField(label=_("Source"))
    reader_code = forms.ChoiceField(
        label=_("Reader's code"),
        required=False,
        choices=[("", _("None"))] + [(value, label) for value, label in Reading.ReaderCode.choices if value],
        help_text=_("Why the meter could not be read, or what the reader saw. With a code the index may be empty."),
    )
    photo = forms.FileField(
        label=_("Photo of the dial"),
        required=False,
        help_text=_("A JPEG, PNG or WebP image of at most 5 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp", "capture": "environment"}),
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
    form_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, registers: list[RegisterStanding], sources: list[tuple[str, Any]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.registers = registers
        self.fields["source"].choices = sources  # type: ignore[attr-defined]
        self.fields["read_on"].initial = timezone.localdate()
        self.fields["form_key"].initial = uuid.uuid4()
        self.photo_content: tuple[bytes, str] | None = None
        index_fields = {}
        for standing in registers:
            index_fields[index_field_name(standing.code)] = forms.DecimalField(
                label=_("Current index: %(register)s (%(unit)s)") % {"register": standing.code, "unit": standing.unit},
                required=False,
                min_value=Decimal(0),
                max_digits=16,
                decimal_places=3,
                help_text=_("Previous: %(index)s on %(date)s")
                % {
                    "index": format(standing.previous_index.normalize(), "f"),
                    "date": standing.previous_read_on.isoformat(),
                },
                widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal", "autocomplete": "off"}),
            )
        # The indexes first: they are what the reader came for.
        self.fields = {**index_fields, **self.fields}

    def clean_read_on(self) -> Any:
        read_on = self.cleaned_data["read_on"]
        if read_on > timezone.localdate():
            raise forms.ValidationError(_("A reading cannot be dated in the future."))
        return read_on

    def clean_photo(self) -> Any:
        upload = self.cleaned_data.get("photo")
        if upload:
            try:
                self.photo_content = photo_check(upload)
            except MeteringError as error:
                raise forms.ValidationError(str(error.message)) from None
        return upload

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("reader_code"):
            for standing in self.registers:
                name = index_field_name(standing.code)
                if cleaned.get(name) is None and name not in self.errors:
                    self.add_error(name, _("Enter the index, or choose a reader's code saying why not."))
        return cleaned

    def indexes(self) -> list[tuple[str, Decimal | None]]:
        return [(standing.code, self.cleaned_data.get(index_field_name(standing.code))) for standing in self.registers]
