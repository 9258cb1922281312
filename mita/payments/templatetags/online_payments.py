"""{% online_link_button holder %}: the account page's "Send a payment link", shown when the operator takes online
payments."""

from typing import Any

from django import template

from mita.payments.online import online_enabled
from mita.payments.selectors import PAYMENT_ROLES

register = template.Library()


@register.inclusion_tag("payments/_online_link_button.html", takes_context=True)
def online_link_button(context: template.Context, holder: str) -> dict[str, Any]:
    access = getattr(context.get("request"), "access", None)
    operator = getattr(access, "operator", None)
    show = operator is not None and access.has_role(*PAYMENT_ROLES) and online_enabled(operator=operator)  # type: ignore[union-attr]
    return {"show": show, "holder": holder}
