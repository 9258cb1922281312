"""The messages Mita sends, one entry per template key, translated through gettext.

Bodies use %(name)s placeholders filled from the context given to message_queue(). Subjects and bodies are
lazy translations: services.render() turns them into text inside translation.override(<the message's language>).
A template marked sensitive carries a one-time secret (a code, a link that sets a password): the outbox
pages and API do not show its body to other people once a gateway has it.
"""

import dataclasses
from typing import Any

from django.utils.translation import gettext_lazy as _


@dataclasses.dataclass(frozen=True)
class MessageTemplate:
    key: str
    subject: Any  # a lazy translation (or plain text)
    body: Any
    sensitive: bool = False


_catalogue: dict[str, MessageTemplate] = {}


def register_template(key: str, *, subject: Any, body: Any, sensitive: bool = False) -> None:
    _catalogue[key] = MessageTemplate(key=key, subject=subject, body=body, sensitive=sensitive)


def unregister_template(key: str) -> None:
    _catalogue.pop(key, None)


def template_get(key: str) -> MessageTemplate:
    try:
        return _catalogue[key]
    except KeyError:
        raise LookupError(f"No message template {key!r}; register it in a notifications catalogue") from None


register_template(
    "accounts.invitation",
    subject=_("Your Mita account"),
    body=_(
        "%(inviter)s invited you to Mita as %(role)s for %(organisation)s. "
        "Set your password here within 7 days: %(link)s"
    ),
    sensitive=True,
)
register_template(
    "accounts.password_reset_code",
    subject=_("Your Mita password code"),
    body=_("Your Mita code is %(code)s. It expires in 10 minutes. Never share it."),
    sensitive=True,
)
register_template(
    "notifications.test",
    subject=_("Mita test message"),
    body=_("This is a test message from Mita for %(name)s."),
)
# Payments: the confirmation of a payment on a customer account (mita.payments.confirmations).
register_template(
    "payments.received",
    subject=_("Payment received"),
    body=_(
        "%(operator)s: we received %(amount)s for account %(account)s, receipt %(receipt)s. "
        "Balance due: %(balance)s. Thank you."
    ),
)
register_template(
    "payments.received_in_credit",
    subject=_("Payment received"),
    body=_(
        "%(operator)s: we received %(amount)s for account %(account)s, receipt %(receipt)s. "
        "Your credit: %(balance)s. Thank you."
    ),
)
register_template(
    "payments.online_link",
    subject=_("Pay %(operator)s online"),
    body=_("%(operator)s: pay for account %(account)s online at %(link)s (amount due: %(amount)s)."),
)
