"""The outbox list's filters."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from mita.notifications.models import OutboxMessage


class OutboxFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *OutboxMessage.Status.choices]
    )
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("Any channel")), *OutboxMessage.Channel.choices]
    )
    to = forms.CharField(label=pgettext_lazy("recipient of a message", "To"), required=False, max_length=254)
