"""The tariff definition format: its JSON Schema (SCHEMA) and validate(), which says what to fix and where."""

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from mita.core.money import CURRENCY_EXPONENTS
from mita.tariffs.pricing_types import Problem

UTILITIES = ("water", "electricity", "sanitation")
UNITS = ("m3", "kL", "kWh")
# A period's standard length in days, used for proration when the definition does not give "standard_days".
PERIOD_DAYS = {"month": 30, "two_months": 60, "quarter": 91, "half_year": 182, "year": 365}
PERIOD_MONTHS = {"month": 1, "two_months": 2, "quarter": 3, "half_year": 6, "year": 12}
COMPONENT_TYPES = ("blocks", "fixed", "flat", "per_unit", "minimum", "derived", "package")
CONDITION_KEYS = ("property_types", "connection_types", "meter_sizes", "indigent")
BY_KEYS = ("meter_size", "connection_type", "property_type")

_NUMBER = {"type": ["number", "string"], "pattern": r"^-?\d+(\.\d+)?$"}
_AMOUNT = {"type": ["number", "string"], "pattern": r"^\d+(\.\d+)?$", "minimum": 0}
_NAME = {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$"}
_NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
_WORDS = {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}
_BAND = {
    "type": "object",
    "additionalProperties": False,
    "required": ["upto", "rate"],
    "properties": {
        "from": _AMOUNT,
        "upto": {"anyOf": [_AMOUNT, {"type": "null"}]},
        "rate": _AMOUNT,
        "label": {"type": "string"},
    },
}
_COMMON = {
    "type": {"type": "string"},
    "id": _NAME,
    "label": {"type": "string", "minLength": 1},
    "head": _NAME,
    "prorate": {"type": "boolean"},
    "when": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "property_types": _WORDS,
            "connection_types": _WORDS,
            "meter_sizes": _WORDS,
            "indigent": {"type": "boolean"},
        },
    },
}


def _component(kind: str, required: list[str], properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["type", *required],
        "properties": {**_COMMON, "type": {"const": kind}, **properties},
        **extra,
    }


_BY_AMOUNTS = {
    "amount": _AMOUNT,
    "by": {"enum": list(BY_KEYS)},
    "amounts": {"type": "object", "additionalProperties": _AMOUNT, "minProperties": 1},
    "default": _AMOUNT,
}
_ONE_AMOUNT = {"oneOf": [{"required": ["amount"]}, {"required": ["by", "amounts"]}]}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://mita.example/schemas/tariff-definition.json",
    "title": "Mita tariff definition",
    "description": "One version of a tariff: how a usage becomes bill lines. See docs/tariffs.md.",
    "type": "object",
    "additionalProperties": False,
    "required": ["currency", "utility", "unit", "components"],
    "properties": {
        "name": {"type": "string"},
        "description": {"type": "string"},
        "source": {"type": "string"},
        "currency": {"enum": sorted(CURRENCY_EXPONENTS)},
        "utility": {"enum": list(UTILITIES)},
        "unit": {"enum": list(UNITS)},
        "period": {"enum": list(PERIOD_DAYS)},
        "standard_days": {"type": "integer", "minimum": 1, "maximum": 400},
        "assessed_usage": _AMOUNT,
        "components": {
            "type": "array",
            "minItems": 1,
            "items": {
                "oneOf": [
                    _component(
                        "blocks",
                        ["bands"],
                        {
                            "method": {"enum": ["incremental", "volumetric"]},
                            "bands": {"type": "array", "minItems": 1, "items": _BAND},
                            "free": _AMOUNT,
                            "indigent_free": _AMOUNT,
                        },
                    ),
                    _component("fixed", [], _BY_AMOUNTS, **_ONE_AMOUNT),
                    _component("flat", [], _BY_AMOUNTS, **_ONE_AMOUNT),
                    _component(
                        "per_unit", ["count", "rate"], {"count": _NAME, "rate": _AMOUNT, "default_count": _AMOUNT}
                    ),
                    _component(
                        "minimum",
                        ["amount", "mode"],
                        {
                            "amount": _AMOUNT,
                            "mode": {"enum": ["floor", "on_top"]},
                            "of": {"type": "array", "items": _NAME, "minItems": 1},
                        },
                    ),
                    _component(
                        "derived",
                        ["base", "percent"],
                        {
                            "base": _NAME,
                            "percent": _AMOUNT,
                            "cap": _AMOUNT,
                            "rate": _AMOUNT,
                            "method": {"enum": ["incremental", "volumetric"]},
                            "bands": {"type": "array", "minItems": 1, "items": _BAND},
                        },
                    ),
                    _component(
                        "package",
                        ["load_limit_w", "hours", "pricing"],
                        {
                            "name": {"type": "string"},
                            "load_limit_w": {"type": "integer", "minimum": 1},
                            "hours": {"type": "integer", "minimum": 1, "maximum": 24},
                            "pricing": {"enum": ["flat", "per_kwh"]},
                            "fee": _AMOUNT,
                            "price_per_kwh": _AMOUNT,
                            "payment": {"enum": ["prepaid", "postpaid"]},
                        },
                    ),
                ]
            },
        },
        "vat": {
            "type": "object",
            "additionalProperties": False,
            "required": ["rate", "mode"],
            "properties": {
                "rate": _AMOUNT,
                "mode": {"enum": ["exclusive", "inclusive"]},
                "applies_to": {"type": "array", "items": _NAME, "minItems": 1},
                "label": {"type": "string"},
            },
        },
        "rounding": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "scope": {"enum": ["line", "total"]},
                "to": {"enum": ["currency", "unit"]},
                "mode": {"enum": ["half_up", "up"]},
            },
        },
    },
}

_TOP_KEYS = tuple(SCHEMA["properties"])
_COMMON_KEYS = ("type", "id", "label", "head", "prorate", "when")
_KEYS: dict[str, tuple[str, ...]] = {
    "blocks": ("method", "bands", "free", "indigent_free"),
    "fixed": tuple(_BY_AMOUNTS),
    "flat": tuple(_BY_AMOUNTS),
    "per_unit": ("count", "rate", "default_count"),
    "minimum": ("amount", "mode", "of"),
    "derived": ("base", "percent", "cap", "rate", "method", "bands"),
    "package": ("name", "load_limit_w", "hours", "pricing", "fee", "price_per_kwh", "payment"),
}


def to_decimal(value: Any) -> Decimal | None:
    """A definition's number as a Decimal, or None when it is not one. JSON floats go through their shortest text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    return number if number.is_finite() else None


def component_ids(definition: dict[str, Any]) -> list[str]:
    """Each component's id: its "id", or c1, c2, ... by position (1-based) when it has none."""
    components = definition.get("components")
    if not isinstance(components, list):
        return []
    return [
        str(component.get("id")) if isinstance(component, dict) and component.get("id") else f"c{index + 1}"
        for index, component in enumerate(components)
    ]


class _Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def unknown_keys(self, path: str, value: dict[str, Any], allowed: tuple[str, ...]) -> None:
        for key in value:
            if key not in allowed:
                self.add(
                    f"{path}.{key}" if path else str(key),
                    f"Unknown key {key!r}; remove it, or use one of: {', '.join(allowed)}.",
                )

    def choice(self, path: str, value: Any, choices: tuple[str, ...], *, required: bool = True) -> None:
        if value is None:
            if required:
                self.add(path, f"Missing; give one of: {', '.join(choices)}.")
            return
        if value not in choices:
            self.add(path, f"{value!r} is not allowed; give one of: {', '.join(choices)}.")

    def amount(self, path: str, value: Any, *, required: bool = True, maximum: Decimal | None = None) -> Decimal | None:
        """A non-negative number (int, decimal or decimal string)."""
        if value is None:
            if required:
                self.add(path, 'Missing; give a number such as 100 or "2.5".')
            return None
        number = to_decimal(value)
        if number is None:
            self.add(path, f'{value!r} is not a number; write it like 100 or "2.5".')
            return None
        if number < 0:
            self.add(path, f"{value} is negative; rates and amounts must be 0 or more.")
            return None
        if maximum is not None and number > maximum:
            self.add(path, f"{value} is more than {maximum}; give at most {maximum}.")
            return None
        return number

    def name(self, path: str, value: Any) -> None:
        if not isinstance(value, str) or not _NAME_PATTERN.fullmatch(value):
            self.add(path, f"{value!r} is not a name: use lower-case letters, digits and _, starting with a letter.")

    def words(self, path: str, value: Any) -> None:
        if not isinstance(value, list) or not value or not all(isinstance(word, str) and word for word in value):
            self.add(path, 'Give a non-empty list of names, e.g. ["residential"].')


def validate(definition: Any) -> list[Problem]:
    """Every problem of a definition, each with its path and what to fix; [] when it is valid. Never raises."""
    check = _Checker()
    if not isinstance(definition, dict):
        check.add("", "A tariff definition is a JSON object with currency, utility, unit and components.")
        return check.problems
    check.unknown_keys("", definition, _TOP_KEYS)
    currency = definition.get("currency")
    if currency is None:
        check.add("currency", f"Missing; give the currency code, one of: {', '.join(sorted(CURRENCY_EXPONENTS))}.")
    elif currency not in CURRENCY_EXPONENTS:
        check.add("currency", f"Unknown currency {currency!r}; give one of: {', '.join(sorted(CURRENCY_EXPONENTS))}.")
    check.choice("utility", definition.get("utility"), UTILITIES)
    check.choice("unit", definition.get("unit"), UNITS)
    check.choice("period", definition.get("period"), tuple(PERIOD_DAYS), required=False)
    standard_days = definition.get("standard_days")
    if standard_days is not None and (
        isinstance(standard_days, bool) or not isinstance(standard_days, int) or not 1 <= standard_days <= 400
    ):
        check.add("standard_days", f"{standard_days!r} is not a number of days; give a whole number from 1 to 400.")
    for key in ("name", "description", "source"):
        if key in definition and not isinstance(definition[key], str):
            check.add(key, "Give text.")
    check.amount("assessed_usage", definition.get("assessed_usage"), required=False)
    components = definition.get("components")
    ids: list[str] = []
    if not isinstance(components, list) or not components:
        check.add("components", "Give a non-empty list of components (blocks, fixed, flat, per_unit, ...).")
    else:
        ids = component_ids(definition)
        seen: set[str] = set()
        for index, component in enumerate(components):
            path = f"components[{index}]"
            if isinstance(component, dict) and "id" in component:
                check.name(f"{path}.id", component["id"])
            if ids[index] in seen:
                check.add(f"{path}.id", f"The id {ids[index]!r} is used twice; give each component its own id.")
            seen.add(ids[index])
            _check_component(check, path, component, earlier=ids[:index])
    _check_vat(check, definition.get("vat"), ids)
    _check_rounding(check, definition.get("rounding"))
    return check.problems


def _check_component(check: _Checker, path: str, component: Any, *, earlier: list[str]) -> None:
    if not isinstance(component, dict):
        check.add(path, 'A component is an object with a "type".')
        return
    kind = component.get("type")
    if kind not in COMPONENT_TYPES:
        check.choice(f"{path}.type", kind, COMPONENT_TYPES)
        return
    check.unknown_keys(path, component, _COMMON_KEYS + _KEYS[kind])
    if "label" in component and (not isinstance(component["label"], str) or not component["label"]):
        check.add(f"{path}.label", "Give the line's label as text.")
    if "head" in component:
        check.name(f"{path}.head", component["head"])
    if "prorate" in component and not isinstance(component["prorate"], bool):
        check.add(f"{path}.prorate", "Give true or false.")
    _check_when(check, f"{path}.when", component.get("when"))
    if kind == "blocks":
        check.choice(f"{path}.method", component.get("method"), ("incremental", "volumetric"), required=False)
        _check_bands(check, f"{path}.bands", component.get("bands"))
        free = check.amount(f"{path}.free", component.get("free"), required=False)
        indigent_free = check.amount(f"{path}.indigent_free", component.get("indigent_free"), required=False)
        if free is not None and indigent_free is not None and indigent_free < free:
            check.add(f"{path}.indigent_free", f"It is smaller than free ({free}); the indigent allowance is larger.")
    elif kind in ("fixed", "flat"):
        _check_by_amounts(check, path, component)
    elif kind == "per_unit":
        if component.get("count") is None:
            check.add(f"{path}.count", 'Missing; name the count, e.g. "taps".')
        else:
            check.name(f"{path}.count", component.get("count"))
        check.amount(f"{path}.rate", component.get("rate"))
        check.amount(f"{path}.default_count", component.get("default_count"), required=False)
    elif kind == "minimum":
        check.amount(f"{path}.amount", component.get("amount"))
        check.choice(f"{path}.mode", component.get("mode"), ("floor", "on_top"))
        of = component.get("of")
        if of is not None:
            _check_references(check, f"{path}.of", of, earlier)
    elif kind == "derived":
        _check_derived(check, path, component, earlier)
    else:
        _check_package(check, path, component)


def _check_when(check: _Checker, path: str, when: Any) -> None:
    if when is None:
        return
    if not isinstance(when, dict) or not when:
        check.add(path, f"Give an object with one or more of: {', '.join(CONDITION_KEYS)}.")
        return
    check.unknown_keys(path, when, CONDITION_KEYS)
    for key in ("property_types", "connection_types", "meter_sizes"):
        if key in when:
            check.words(f"{path}.{key}", when[key])
    if "indigent" in when and not isinstance(when["indigent"], bool):
        check.add(f"{path}.indigent", "Give true or false.")


def _check_bands(check: _Checker, path: str, bands: Any) -> None:
    if not isinstance(bands, list) or not bands:
        check.add(path, 'Give a non-empty list of bands, e.g. [{"upto": 5, "rate": 340}, {"upto": null, "rate": 720}].')
        return
    previous = Decimal(0)
    for index, band in enumerate(bands):
        band_path = f"{path}[{index}]"
        if not isinstance(band, dict):
            check.add(band_path, 'A band is an object with "upto" and "rate".')
            continue
        check.unknown_keys(band_path, band, ("from", "upto", "rate", "label"))
        check.amount(f"{band_path}.rate", band.get("rate"))
        if "label" in band and not isinstance(band["label"], str):
            check.add(f"{band_path}.label", "Give the band's label as text.")
        start = check.amount(f"{band_path}.from", band.get("from"), required=False)
        if start is not None and start != previous:
            what = "overlaps the band before" if start < previous else "leaves a gap after the band before"
            check.add(f"{band_path}.from", f"It starts at {start} but the band before ends at {previous}: it {what}.")
        if "upto" not in band:
            check.add(f"{band_path}.upto", "Missing; give the band's upper edge, or null for the open top band.")
            continue
        upto = band["upto"]
        last = index == len(bands) - 1
        if upto is None:
            if not last:
                check.add(f"{band_path}.upto", "Only the last band may be open (null); give this band an upper edge.")
            continue
        edge = check.amount(f"{band_path}.upto", upto)
        if edge is None:
            continue
        if edge <= previous:
            check.add(
                f"{band_path}.upto",
                f"The bands overlap or are not in order: {edge} is not above the band before's edge {previous}; "
                "sort the bands by their upper edge.",
            )
        else:
            previous = edge
        if last:
            check.add(f"{band_path}.upto", "The top band is missing: the last band must be open (upto null).")


def _check_by_amounts(check: _Checker, path: str, component: dict[str, Any]) -> None:
    has_amount = "amount" in component
    has_table = "by" in component or "amounts" in component
    if has_amount and has_table:
        check.add(path, 'Give either "amount", or "by" with "amounts", not both.')
    elif not has_amount and not has_table:
        check.add(f"{path}.amount", 'Missing; give "amount", or "by" (meter_size, connection_type...) and "amounts".')
    if has_amount:
        check.amount(f"{path}.amount", component["amount"])
    if has_table:
        check.choice(f"{path}.by", component.get("by"), BY_KEYS)
        amounts = component.get("amounts")
        if not isinstance(amounts, dict) or not amounts:
            check.add(f"{path}.amounts", 'Give an object of amounts, e.g. {"15mm": 1000, "20mm": 1500}.')
        else:
            for key, value in amounts.items():
                check.amount(f"{path}.amounts.{key}", value)
        check.amount(f"{path}.default", component.get("default"), required=False)
    elif "default" in component:
        check.add(f"{path}.default", 'A default only goes with "by" and "amounts"; remove it.')


def _check_references(check: _Checker, path: str, references: Any, earlier: list[str]) -> None:
    if not isinstance(references, list) or not references:
        check.add(path, "Give a non-empty list of component ids.")
        return
    for index, reference in enumerate(references):
        if reference not in earlier:
            check.add(
                f"{path}[{index}]",
                f"{reference!r} is not the id of a component before this one; give one of: "
                f"{', '.join(earlier) or '(none)'}.",
            )


def _check_derived(check: _Checker, path: str, component: dict[str, Any], earlier: list[str]) -> None:
    base = component.get("base")
    check.amount(f"{path}.percent", component.get("percent"), maximum=Decimal(1000))
    check.amount(f"{path}.cap", component.get("cap"), required=False)
    if base is None:
        check.add(f"{path}.base", 'Missing; give "quantity" (the usage) or the id of a component before this one.')
        return
    if base == "quantity":
        has_rate, has_bands = "rate" in component, "bands" in component
        if has_rate == has_bands:
            check.add(path, 'A charge on a share of the quantity needs either "rate" or "bands" (not both).')
        if has_rate:
            check.amount(f"{path}.rate", component["rate"])
        if has_bands:
            _check_bands(check, f"{path}.bands", component["bands"])
        check.choice(f"{path}.method", component.get("method"), ("incremental", "volumetric"), required=False)
        return
    if base not in earlier:
        check.add(
            f"{path}.base",
            f'{base!r} is neither "quantity" nor the id of a component before this one; give one of: '
            f"quantity, {', '.join(earlier) or '(none)'}.",
        )
    for key in ("rate", "bands", "method"):
        if key in component:
            check.add(f"{path}.{key}", f'A share of another charge takes no "{key}"; remove it.')


def _check_package(check: _Checker, path: str, component: dict[str, Any]) -> None:
    for key, low, high in (("load_limit_w", 1, 1_000_000), ("hours", 1, 24)):
        value = component.get(key)
        if value is None:
            check.add(f"{path}.{key}", "Missing; give a whole number.")
        elif isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            check.add(f"{path}.{key}", f"{value!r} is not allowed; give a whole number from {low} to {high}.")
    pricing = component.get("pricing")
    check.choice(f"{path}.pricing", pricing, ("flat", "per_kwh"))
    if pricing == "flat":
        check.amount(f"{path}.fee", component.get("fee"))
        if "price_per_kwh" in component:
            check.add(f"{path}.price_per_kwh", 'A flat package has a "fee", not a price per kWh; remove it.')
    elif pricing == "per_kwh":
        check.amount(f"{path}.price_per_kwh", component.get("price_per_kwh"))
        if "fee" in component:
            check.add(f"{path}.fee", 'A per-kWh package has a "price_per_kwh", not a fee; remove it.')
    check.choice(f"{path}.payment", component.get("payment"), ("prepaid", "postpaid"), required=False)
    if "name" in component and not isinstance(component["name"], str):
        check.add(f"{path}.name", "Give the package's name as text.")


def _check_vat(check: _Checker, vat: Any, ids: list[str]) -> None:
    if vat is None:
        return
    if not isinstance(vat, dict):
        check.add("vat", 'Give an object such as {"rate": 18, "mode": "exclusive"}.')
        return
    check.unknown_keys("vat", vat, ("rate", "mode", "applies_to", "label"))
    check.amount("vat.rate", vat.get("rate"), maximum=Decimal(100))
    check.choice("vat.mode", vat.get("mode"), ("exclusive", "inclusive"))
    if "applies_to" in vat:
        _check_references(check, "vat.applies_to", vat["applies_to"], ids)
    if "label" in vat and not isinstance(vat["label"], str):
        check.add("vat.label", "Give the VAT line's label as text.")


def _check_rounding(check: _Checker, rounding: Any) -> None:
    if rounding is None:
        return
    if not isinstance(rounding, dict):
        check.add("rounding", 'Give an object such as {"scope": "line", "to": "currency", "mode": "half_up"}.')
        return
    check.unknown_keys("rounding", rounding, ("scope", "to", "mode"))
    check.choice("rounding.scope", rounding.get("scope"), ("line", "total"), required=False)
    check.choice("rounding.to", rounding.get("to"), ("currency", "unit"), required=False)
    check.choice("rounding.mode", rounding.get("mode"), ("half_up", "up"), required=False)
