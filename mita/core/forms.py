"""Form rendering: every field with its label, help and errors next to it."""

from django.forms.renderers import TemplatesSetting


class MitaFormRenderer(TemplatesSetting):
    form_template_name = "core/forms/form.html"
    field_template_name = "core/forms/field.html"
