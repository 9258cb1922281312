"""Writes of the materials catalogue: adding an item and changing it (its code never changes)."""

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from mita.core.audit import audit_record, snapshot
from mita.core.errors import Conflict, DomainError
from mita.core.money import quantize
from mita.stock.models import Material

MATERIAL_FIELDS = ("code", "name", "unit", "properties", "unit_price", "active")
EDITABLE = ("name", "unit", "properties", "unit_price", "active")


class MaterialError(DomainError):
    """Bad catalogue input: says which field and what to fix."""


def _clean(*, operator: Any, values: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    for field, value in values.items():
        if field in ("code", "name", "unit"):
            value = (value or "").strip()
            if not value:
                problems[field] = [_("Required.")]
                continue
            if field == "code" and any(char.isspace() for char in value):
                problems[field] = [_("An item code has no spaces.")]
                continue
        elif field == "unit_price":
            try:
                value = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
            except (InvalidOperation, ValueError):
                problems[field] = [_("Write a number, e.g. 1500.")]
                continue
            if value < 0:
                problems[field] = [_("Zero or more.")]
                continue
            if quantize(value, operator.currency) != value:
                problems[field] = [
                    _("%(currency)s amounts have no smaller units than this: write %(rounded)s.")
                    % {"currency": operator.currency, "rounded": quantize(value, operator.currency)}
                ]
                continue
        elif field == "properties":
            if value in (None, ""):
                value = {}
            if not isinstance(value, dict):
                problems[field] = [_('Properties are named values, e.g. {"diameter_mm": 20}.')]
                continue
        elif field == "active":
            value = bool(value)
        cleaned[field] = value
    if problems:
        raise MaterialError(_("Please correct the item's details."), code="material_invalid", fields=problems)
    return cleaned


def _code_taken(code: str) -> Conflict:
    return Conflict(
        _("Item code %(code)s is already in your catalogue.") % {"code": code},
        code="material_code_taken",
        fields={"code": [_("Already in use.")]},
    )


@transaction.atomic
def material_create(
    *,
    operator: Any,
    acting_user: Any,
    code: str,
    name: str,
    unit: str,
    unit_price: Decimal,
    properties: dict[str, Any] | None = None,
    active: bool = True,
) -> Material:
    """Add an item to the operator's catalogue; its code is unique whatever its case."""
    cleaned = _clean(
        operator=operator,
        values={
            "code": code,
            "name": name,
            "unit": unit,
            "unit_price": unit_price,
            "properties": properties or {},
            "active": active,
        },
    )
    if Material.objects.filter(operator=operator, code__iexact=cleaned["code"]).exists():
        raise _code_taken(cleaned["code"])
    try:
        with transaction.atomic():
            material = Material.objects.create(operator=operator, created_by=acting_user, **cleaned)
    except IntegrityError:
        raise _code_taken(cleaned["code"]) from None
    audit_record(
        actor=acting_user, action="material.created", target=material, after=snapshot(material, list(MATERIAL_FIELDS))
    )
    return Material.objects.get(pk=material.pk)  # the price as stored (in the currency's decimals)


@transaction.atomic
def material_update(*, material: Material, acting_user: Any, **changes: Any) -> Material:
    """Change an item's name, unit, properties, price or whether it is offered; prices already quoted on requests
    stay as they were (they are frozen there)."""
    if "code" in changes and (changes["code"] or "").strip() != material.code:
        raise MaterialError(
            _("An item code cannot be changed; add a new item and deactivate this one."),
            code="code_not_editable",
            fields={"code": [_("Not editable.")]},
        )
    changes.pop("code", None)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise MaterialError(_("“%(field)s” cannot be changed here.") % {"field": unknown[0]}, code="field_not_editable")
    material = Material.objects.select_for_update().get(pk=material.pk)
    cleaned = _clean(operator=material.operator, values=changes)
    changed = [field for field, value in cleaned.items() if getattr(material, field) != value]
    if not changed:
        return material
    before = snapshot(material, changed)
    for field in changed:
        setattr(material, field, cleaned[field])
    material.save(update_fields=[*changed, "updated_at"])
    audit_record(
        actor=acting_user, action="material.updated", target=material, before=before, after=snapshot(material, changed)
    )
    return Material.objects.get(pk=material.pk)
