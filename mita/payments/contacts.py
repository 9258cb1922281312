"""Who to tell about a customer account's money: the customer behind the connection, then any registered lookup.

Payments knows customer accounts only by their ledger holder ("AAL-0001", a connection number); the customers app
knows the people behind them, their phone and language. Payments sits above customers, so it asks the customers
selector directly (the first lookup below); other sources may still add one at start-up:

    register_contact_lookup(lookup)   # (operator, holder) -> Contact | None

When none answers, the payer's phone recorded on the payment is used; with neither, nobody is told.
"""

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from mita.accounts.phones import normalize_phone
from mita.customers.selectors import contact_for_holder


@dataclasses.dataclass(frozen=True)
class Contact:
    phone: str  # E.164
    language: str = ""  # a code of settings.LANGUAGES; empty: the deployment's default
    name: str = ""  # the account holder's name, shown on statements when known


ContactLookup = Callable[[Any, str], Contact | None]

logger = logging.getLogger(__name__)


def customer_contact(operator: Any, holder: str) -> "Contact | None":
    """The phone, language and name of the customer holding the connection numbered `holder`, if there is one."""
    known = contact_for_holder(operator=operator, holder=holder)
    if known is None:
        return None
    return Contact(phone=known.phone, language=known.language, name=known.name)


_lookups: list[ContactLookup] = [customer_contact]


def register_contact_lookup(lookup: ContactLookup) -> None:
    """Add a lookup (operator, holder) -> Contact | None; the first registered that answers wins."""
    if lookup not in _lookups:
        _lookups.append(lookup)


def unregister_contact_lookup(lookup: ContactLookup) -> None:
    if lookup in _lookups:
        _lookups.remove(lookup)


def phone_usable(raw: str, *, region: str = "") -> str:
    """The number in E.164 if it is one a text can go to, else "" (providers send "2507..." without the plus,
    and M-Pesa may send a masked or hashed MSISDN, which is no number at all)."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    candidates = [raw] if not raw.isdigit() else ["+" + raw, raw]
    for candidate in candidates:
        try:
            return normalize_phone(candidate, region or None)
        except ValidationError:
            continue
    return ""


def account_contact(*, operator: Any, holder: str) -> Contact | None:
    """What the registered lookups know of the customer account, if anything.

    Called inside a payment's transaction: a lookup that fails is logged and skipped, in a savepoint so that even a
    database error in it leaves the payment's transaction usable. A payment is never lost for want of a phone.
    Outside a transaction (a payment just committed) a failed read spoils nothing, so no transaction is opened:
    that saves a BEGIN and a COMMIT on every payment taken.
    """
    for lookup in _lookups:
        try:
            if transaction.get_connection().in_atomic_block:
                with transaction.atomic():
                    contact = lookup(operator, holder)
            else:
                contact = lookup(operator, holder)
        except Exception:
            logger.exception("contact lookup %r failed for %s", lookup, holder)
            continue
        if contact is not None:
            return contact
    return None


def contact_for_payment(*, payment: Any) -> Contact | None:
    """Who to text about a payment: the customer account's contact if it has a usable phone, else the payer's."""
    region = (getattr(payment.operator, "country_code", "") or "").upper()
    known = account_contact(operator=payment.operator, holder=payment.holder) if payment.holder else None
    if known is not None and (phone := phone_usable(known.phone, region=region)):
        return dataclasses.replace(known, phone=phone)
    if phone := phone_usable(payment.payer_phone, region=region):
        if known is not None:
            return dataclasses.replace(known, phone=phone)
        return Contact(phone=phone, name=payment.payer_name)
    return None
