"""API of the payments panels of the customer 360 page: posting a miscellaneous charge to a customer's connection.
Amounts travel as decimal strings; the `key` makes a retry safe (same key, same body: the first charge)."""

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from mita.core.money import quantize
from mita.customers.selectors import connections_visible_to, customer_get_for_access
from mita.payments.misc_charges import MISC_CHARGE_ROLES, MiscChargeError, decimal_from_text, misc_charge_post

router = Router(tags=["customers"])


def _money(amount: Decimal, currency: str) -> str:
    """In the currency's minor units, the same on the first answer and on a replay read back from the database."""
    return str(quantize(amount, currency))


class MiscChargeIn(Schema):
    connection_id: int
    head: str
    amount: str  # a decimal string, before VAT
    vat_rule: str = "standard"
    reason: str
    due_date: datetime.date
    key: str  # made by the client once per charge (a UUID)


class MiscChargeOut(Schema):
    id: int
    connection: str
    reference: str
    head: str
    net: str
    vat: str
    total: str
    currency: str
    due_date: datetime.date
    value_date: datetime.date
    reason: str


@router.post(
    "/customers/{customer_id}/charges",
    response={201: MiscChargeOut},
    summary="Post a miscellaneous charge to one of the customer's connections (idempotent by key)",
)
def customer_misc_charge(request: HttpRequest, customer_id: int, payload: MiscChargeIn) -> Status[Any]:
    access = request.access  # type: ignore[attr-defined]
    if not access.has_role(*MISC_CHARGE_ROLES):
        raise PermissionDenied
    customer = customer_get_for_access(access=access, customer_id=customer_id)
    connection = connections_visible_to(access=access, customer=customer).filter(pk=payload.connection_id).first()
    if connection is None:
        message = _("Choose one of this customer's connections.")
        raise MiscChargeError(message, code="connection_invalid", fields={"connection_id": [message]})
    charge = misc_charge_post(
        operator=access.operator,
        customer=customer,
        connection=connection,
        head=payload.head,
        amount=decimal_from_text(payload.amount, field="amount"),
        vat_rule=payload.vat_rule,
        reason=payload.reason,
        due_date=payload.due_date,
        key=payload.key,
        acting_user=request.user,
    )
    return Status(
        201,
        {
            "id": charge.pk,
            "connection": charge.holder,
            "reference": charge.reference,
            "head": charge.head,
            "net": _money(charge.net, charge.currency),
            "vat": _money(charge.vat, charge.currency),
            "total": _money(charge.total, charge.currency),
            "currency": charge.currency,
            "due_date": charge.due_date,
            "value_date": charge.value_date,
            "reason": payload.reason.strip(),
        },
    )
