"""Form rendering: every field with its label, help and errors next to it."""

from typing import Any

from django.forms.renderers import TemplatesSetting

from mita.core.errors import DomainError


class MitaFormRenderer(TemplatesSetting):
    form_template_name = "core/forms/form.html"
    field_template_name = "core/forms/field.html"


def form_add_domain_error(form: Any, error: DomainError) -> None:
    """Show a service's error on a form: each field's message next to its field, the summary above the form
    (unless it would only repeat the one field message)."""
    placed: list[str] = []
    for field, messages in error.fields.items():
        if field in form.fields:
            for message in messages:
                form.add_error(field, message)
                placed.append(str(message))
    if placed != [str(error.message)]:
        form.add_error(None, str(error.message))
