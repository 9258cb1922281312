"""The notifications app's home card: the outbox, with a badge of the messages that failed."""

from django.utils.translation import gettext_lazy as _

from mita.core.access import Access
from mita.core.navigation import Card, register_card
from mita.notifications.selectors import OUTBOX_ROLES, outbox_failed_count


def _failed_badge(access: Access) -> int | None:
    return outbox_failed_count(access=access) or None


# Card types title and description as str; they are lazy translations, rendered in the reader's language.
register_card(
    Card(
        key="notifications.outbox",
        title=_("Outbox"),
        description=_("SMS and e-mails sent, waiting, or failed."),
        url_name="notifications:outbox_list",
        roles=frozenset(OUTBOX_ROLES),
        order=85,
        badge=_failed_badge,
    )
)
