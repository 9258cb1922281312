"""Forms of the reading imports: the file to upload, and which reading book to export."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from mita.metering.errors import MeteringError
from mita.metering.reading_books import cycle_clean


class ReadingFileForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (UTF-8, comma or semicolon) or XLSX, one row per reading."),
    )


class ReadingBookForm(forms.Form):
    route: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Route"),
        queryset=None,
        required=False,
        empty_label=_("All routes"),
    )
    cycle = forms.CharField(label=_("Cycle"), max_length=7, help_text=_("The month to read, YYYY-MM."))
    file_format = forms.ChoiceField(label=_("Format"), choices=[("csv", "CSV"), ("xlsx", "XLSX")], initial="csv")

    def __init__(self, *args: Any, routes: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["route"].queryset = routes  # type: ignore[attr-defined]

    def clean_cycle(self) -> str:
        try:
            return cycle_clean(self.cleaned_data["cycle"])
        except MeteringError as error:
            raise forms.ValidationError(str(error.message)) from None
