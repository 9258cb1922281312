"""Template helpers of the servicing pages."""

from typing import Any

from django import template

register = template.Library()


@register.filter
def label_of(labels: dict[str, Any], key: str) -> Any:
    """labels[key], or the key itself when it has no label."""
    return labels.get(key, key)
