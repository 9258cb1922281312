"""The bill page's corrections part: its cancellation or what it replaces, its penalties, and the cancel and rebill
buttons for the roles that may use them."""

from typing import Any

from django import template

from mita.billing.selectors_corrections import CANCEL_ROLES, REBILL_ROLES
from mita.billing.selectors_corrections import bill_corrections as corrections_of

register = template.Library()


@register.simple_tag(takes_context=True)
def bill_corrections(context: Any, bill: Any) -> dict[str, Any]:
    access = getattr(context.get("request"), "access", None)
    if access is None or access.operator is None or access.operator.pk != bill.operator_id:
        return {**corrections_of(bill), "can_cancel": False, "can_rebill": False}
    found = corrections_of(bill)
    cancellation = found["cancellation"]
    found["can_cancel"] = bill.status == "issued" and access.has_role(*CANCEL_ROLES)
    found["can_rebill"] = (
        bill.status == "cancelled"
        and cancellation is not None
        and cancellation.rebill_id is None
        and access.has_role(*REBILL_ROLES)
    )
    return found
