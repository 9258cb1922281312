"""Registrations of metering: readings (the home cards "Enter a reading" and "My readings")."""

from django.utils.translation import gettext_lazy as _

from mita.core.navigation import Card, register_card
from mita.metering.selectors_readings import READING_ENTRY_ROLES

register_card(
    Card(
        key="metering.reading_enter",
        title=_("Enter a reading"),
        description=_("Find a connection by meter serial or connection number and record its index."),
        url_name="metering:reading_enter",
        roles=frozenset(READING_ENTRY_ROLES),
        order=30,
    )
)
register_card(
    Card(
        key="metering.my_readings",
        title=_("My readings"),
        description=_("Your readings of the last five days, and which of them wait for review."),
        url_name="metering:my_readings",
        roles=frozenset(READING_ENTRY_ROLES),
        order=31,
    )
)
