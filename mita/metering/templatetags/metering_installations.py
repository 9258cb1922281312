"""Template filters of the installations pages."""

from decimal import Decimal
from typing import Any

from django import template

register = template.Library()


@register.filter
def index(value: Any) -> str:
    """An index or a consumption without trailing zeros: 1234, 12.5 (blank for none)."""
    if value is None or value == "":
        return ""
    return format(Decimal(str(value)).normalize(), "f")
