"""Miscellaneous charges: what an operator charges a customer outside a bill (a meter test, a replaced seal, a
tanker of water), posted from the customer's 360 page or the API to one of the customer's connections."""

import datetime
import re
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import DecimalField, Exists, OuterRef, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.accounts.roles import Role
from mita.core.audit import audit_record
from mita.core.errors import DomainError
from mita.core.models import AuditEntry
from mita.core.money import CURRENCY_EXPONENTS, quantize
from mita.customers.models import Connection, Customer
from mita.ledger import services as ledger
from mita.ledger.models import Charge
from mita.payments.models_deposits import ChargeCancellation
from mita.payments.selectors import PAYMENT_ROLES

# The payments roles and the billing officer post them; customer care sees the debt, not this form.
MISC_CHARGE_ROLES = (*PAYMENT_ROLES, Role.BILLING_OFFICER)
MISC_REFERENCE_PREFIX = "misc:"
# Charges a bill run posts carry references starting so (docs/customers.md); every other charge is "not from a bill".
BILL_REFERENCE_PREFIX = "bill:"
AUDIT_ACTION = "charge.misc_posted"
KEY_MAX_LENGTH = 64
REASON_MAX_LENGTH = 300
DECIMAL_TEXT = re.compile(r"^-?\d{1,14}(\.\d{1,6})?$")


class MiscChargeError(DomainError):
    """A miscellaneous charge that cannot be posted as given: says which field and what to fix."""


def _problem(field: str, message: str, code: str) -> MiscChargeError:
    return MiscChargeError(message, code=code, fields={field: [message]})


def _checked_amount(*, amount: Any, currency: str) -> Decimal:
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise _problem("amount", _("The amount must be more than zero."), "amount_invalid")
    if quantize(amount, currency) != amount:
        places = CURRENCY_EXPONENTS.get(currency, 2)
        message = (
            _("%(currency)s has no cents: give a whole amount.") % {"currency": currency}
            if places == 0
            else _("Give the amount with at most %(places)d decimals.") % {"places": places}
        )
        raise _problem("amount", message, "amount_precision")
    return amount


def decimal_from_text(text: str, *, field: str) -> Decimal:
    """An amount as the API sends it: a decimal string with a dot, never a float."""
    text = (text or "").strip()
    if not DECIMAL_TEXT.match(text):
        raise _problem(
            field, _("Write the amount as a number with a dot for decimals, e.g. 1500 or 12.50."), "number_format"
        )
    return Decimal(text)


def misc_charge_post(
    *,
    operator: Any,
    customer: Customer,
    connection: Connection,
    head: str,
    amount: Decimal,
    vat_rule: str,
    reason: str,
    due_date: datetime.date | None,
    key: str,
    acting_user: Any,
) -> Charge:
    """Charge one of the customer's connections through the ledger, once per key: the same key again returns the
    first charge, the same key with anything else different is a 409. The reason is kept in the audit entry."""
    key = (key or "").strip()
    if not key or len(key) > KEY_MAX_LENGTH or any(char.isspace() for char in key):
        raise _problem(
            "key",
            _("Send a key of at most %(max)d characters without spaces, made once per charge (a UUID).")
            % {"max": KEY_MAX_LENGTH},
            "key_invalid",
        )
    if connection.operator_id != operator.pk or connection.customer_id != customer.pk:
        raise _problem("connection", _("Choose one of this customer's connections."), "connection_invalid")
    if head not in ledger.REVENUE_HEADS:
        raise _problem(
            "head",
            _("Choose one of the heads: %(heads)s.") % {"heads": ", ".join(sorted(ledger.REVENUE_HEADS))},
            "head_unknown",
        )
    if vat_rule not in ledger.VAT_RULES:
        raise _problem(
            "vat_rule",
            _("Choose a VAT rule: %(rules)s.") % {"rules": ", ".join(ledger.VAT_RULES)},
            "vat_rule_unknown",
        )
    amount = _checked_amount(amount=amount, currency=operator.currency)
    reason = (reason or "").strip()
    if not reason:
        raise _problem("reason", _("Say what the charge is for; the customer will ask."), "reason_required")
    if len(reason) > REASON_MAX_LENGTH:
        raise _problem("reason", _("At most %(max)d characters.") % {"max": REASON_MAX_LENGTH}, "reason_too_long")
    if due_date is None:
        raise _problem("due_date", _("Give the day the charge is due."), "due_date_required")
    reference = f"{MISC_REFERENCE_PREFIX}{key}"
    body = {
        "connection": connection.number,
        "head": head,
        "amount": amount,
        "vat_rule": vat_rule,
        "reason": reason,
        "due_date": due_date,
    }

    def write() -> Charge:
        charge = ledger.charge_post(
            operator=operator,
            holder=connection.number,
            head=head,
            amount=amount,
            vat_rule=vat_rule,
            reference=reference,
            due_date=due_date,
            value_date=timezone.localdate(),
            acting_user=acting_user,
        )
        audit_record(
            actor=acting_user,
            action=AUDIT_ACTION,
            target=charge,
            operator=operator,
            after={
                "customer": customer.pk,
                "connection": connection.number,
                "head": head,
                "net": charge.net,
                "vat": charge.vat,
                "total": charge.total,
                "reason": reason,
                "due_date": due_date,
            },
        )
        return charge

    with transaction.atomic():
        return ledger.idempotent(
            operator=operator,
            key=f"misc-charge:{key}",
            body=body,
            reference=reference,
            write=write,
            replay=lambda first: Charge.objects.filter(operator=operator, reference=first).latest("pk"),
        )


def charges_not_from_bills(*, operator: Any, holders: list[str], limit: int = 50) -> list[Any]:
    """The customer accounts' charges that no bill posted, newest first, each with `paid`, `open_amount`,
    `cancelled` and `reason` (a miscellaneous charge's, from its audit entry; empty for others). Three queries."""
    zero = Value(Decimal("0"), output_field=DecimalField(max_digits=16, decimal_places=2))
    charges = list(
        Charge.objects.filter(operator=operator, holder__in=holders)
        .exclude(reference__startswith=BILL_REFERENCE_PREFIX)
        .annotate(
            paid=Coalesce(Sum("allocations__amount", filter=Q(allocations__voided=False)), zero),
            cancelled=Exists(ChargeCancellation.objects.filter(charge=OuterRef("pk"))),
        )
        .order_by("-value_date", "-pk")[:limit]
    )
    reasons = dict(
        AuditEntry.objects.filter(
            operator_id=operator.pk,
            action=AUDIT_ACTION,
            target_type="ledger.charge",
            target_id__in=[str(charge.pk) for charge in charges],
        ).values_list("target_id", "after__reason")
    )
    for charge in charges:
        charge.open_amount = Decimal("0") if charge.cancelled else charge.total - charge.paid
        charge.reason = reasons.get(str(charge.pk)) or ""
    return charges
