"""The components of a tariff (blocks, fixed, flat, per-unit, minimum, derived, package) as exact raw lines."""

import decimal
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, ROUND_UP, Decimal
from fractions import Fraction
from typing import Any

from mita.core.money import quantize
from mita.tariffs.pricing_schema import component_ids, to_decimal
from mita.tariffs.pricing_types import Problem, TariffInvalid, Usage

UTILITY_HEADS = {"water": "water_sales", "electricity": "electricity_sales"}
UTILITY_LABELS = {"water": "Water", "electricity": "Electricity", "sanitation": "Sanitation"}
ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "up": ROUND_UP}
ZERO = Fraction(0)


def package_id(component: dict[str, Any]) -> str:
    """A package's id built from its parts: MG-100W-24H-FLAT, MG-250W-12H-KWH-PRE (prepaid)."""
    pricing = "FLAT" if component.get("pricing") == "flat" else "KWH"
    suffix = "-PRE" if component.get("payment") == "prepaid" else ""
    return f"MG-{component.get('load_limit_w')}W-{component.get('hours')}H-{pricing}{suffix}"


def fraction(value: Any) -> Fraction:
    number = to_decimal(value)
    return Fraction(number) if number is not None else ZERO


def exact_decimal(value: Fraction) -> Decimal:
    """An exact fraction as a Decimal, to 40 significant digits (rounded once afterwards to the currency)."""
    with decimal.localcontext() as context:
        context.prec = 40
        return Decimal(value.numerator) / Decimal(value.denominator)


def shown(value: Fraction) -> Decimal:
    """A quantity or rate for display: exact when it terminates, else to 6 places."""
    number = exact_decimal(value)
    if number != number.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP):
        number = number.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
    if number == number.to_integral_value():
        return number.quantize(Decimal(1))
    return number.normalize()


@dataclass
class RawLine:
    """A line before rounding: exact amount; which component made it."""

    component: str
    label: str
    quantity: Fraction
    rate: Fraction
    amount: Fraction
    head: str
    kind: str


@dataclass
class Pricing:
    definition: dict[str, Any]
    usage: Usage
    quantity: Fraction
    prior: Fraction
    factor: Fraction  # the period as a share of a standard one (1 for a standard period): what proration multiplies by
    raws: list[RawLine] = field(default_factory=list)

    @property
    def unit(self) -> str:
        return str(self.definition["unit"])

    def amount_of(self, ids: Iterable[str]) -> Fraction:
        wanted = set(ids)
        return sum((raw.amount for raw in self.raws if raw.component in wanted), ZERO)

    def billed_of(self, ids: Iterable[str]) -> Fraction:
        """What the lines of these components will show: each rounded when the definition rounds per line."""
        rounding = self.definition.get("rounding") or {}
        if rounding.get("scope") == "total":
            return self.amount_of(ids)
        wanted = set(ids)
        mode = ROUNDING_MODES[rounding.get("mode", "half_up")]
        currency = str(self.definition["currency"])
        return sum(
            (
                Fraction(quantize(exact_decimal(raw.amount), currency, mode))
                for raw in self.raws
                if raw.component in wanted
            ),
            ZERO,
        )


def _head(pricing: Pricing, component: dict[str, Any]) -> str:
    return str(component.get("head") or UTILITY_HEADS.get(pricing.definition["utility"], "other"))


def _label(pricing: Pricing, component: dict[str, Any], default: str) -> str:
    return str(component.get("label") or default)


def _factor(pricing: Pricing, component: dict[str, Any]) -> Fraction:
    return pricing.factor if component.get("prorate", True) else Fraction(1)


def _number(value: Any) -> Fraction:
    return fraction(value)


def number_text(value: Any) -> str:
    number = to_decimal(value) or Decimal(0)
    return format(number.normalize(), "f") if number == number.to_integral_value() else format(number, "f")


def _bands(
    pricing: Pricing,
    component_id: str,
    component: dict[str, Any],
    *,
    bands: list[dict[str, Any]],
    label: str,
    head: str,
    start: Fraction,
    quantity: Fraction,
    free: Fraction,
    method: str,
    kind: str = "band",
) -> None:
    """Blocks over the units [start, start + quantity] of the month (the first `free` units of the month free)."""
    factor = _factor(pricing, component)
    end = start + quantity
    free_units = max(ZERO, min(free, end) - start) if free > start else ZERO
    if free_units > 0:
        pricing.raws.append(RawLine(component_id, f"{label} free allowance", free_units, ZERO, ZERO, head, "free"))
    edges: list[tuple[Fraction, Fraction | None, dict[str, Any]]] = []
    low = ZERO
    for band in bands:
        high = None if band["upto"] is None else _number(band["upto"]) * factor
        edges.append((low, high, band))
        low = high if high is not None else low
    if method == "volumetric":
        charged = quantity - free_units
        if charged <= 0:
            return
        reached = next((edge for edge in edges if edge[1] is None or end <= edge[1]), edges[-1])
        low, high, band = reached
        rate = _number(band["rate"])
        name = band.get("label") or _band_text(label, band, low_band=_low_text(bands, band), unit=pricing.unit)
        pricing.raws.append(
            RawLine(component_id, f"{name} (all units)", charged, rate, charged * rate, head, "volumetric")
        )
        return
    for low, high, band in edges:
        band_start = max(low, start, min(free, end))
        band_end = end if high is None else min(high, end)
        units = band_end - band_start
        if units <= 0:
            continue
        rate = _number(band["rate"])
        name = band.get("label") or _band_text(label, band, low_band=_low_text(bands, band), unit=pricing.unit)
        pricing.raws.append(RawLine(component_id, name, units, rate, units * rate, head, kind))


def _low_text(bands: list[dict[str, Any]], band: dict[str, Any]) -> str:
    index = bands.index(band)
    return "0" if index == 0 else number_text(bands[index - 1]["upto"])


def _band_text(label: str, band: dict[str, Any], *, low_band: str, unit: str) -> str:
    if band["upto"] is None:
        return f"{label} above {low_band} {unit}"
    return f"{label} {low_band}-{number_text(band['upto'])} {unit}"


def _price_blocks(pricing: Pricing, component_id: str, component: dict[str, Any]) -> None:
    factor = _factor(pricing, component)
    allowance = component.get("indigent_free") if pricing.usage.indigent and "indigent_free" in component else None
    if allowance is None:
        allowance = component.get("free", 0)
    _bands(
        pricing,
        component_id,
        component,
        bands=component["bands"],
        label=_label(pricing, component, UTILITY_LABELS[pricing.definition["utility"]]),
        head=_head(pricing, component),
        start=pricing.prior,
        quantity=pricing.quantity,
        free=_number(allowance) * factor,
        method=component.get("method", "incremental"),
    )


def _by_amount(pricing: Pricing, component_id: str, component: dict[str, Any]) -> tuple[Fraction, str]:
    """A fixed or flat amount, looked up by meter size, connection or property type when the component says so."""
    if "amount" in component:
        return _number(component["amount"]), ""
    key = component["by"]
    value = getattr(pricing.usage, key)
    if value in component["amounts"]:
        return _number(component["amounts"][value]), f" ({value})"
    if "default" in component:
        return _number(component["default"]), ""
    index = component_ids(pricing.definition).index(component_id)
    raise TariffInvalid(
        [
            Problem(
                f"usage.{key}",
                f"{component['type'].capitalize()} charge components[{index}] has no amount for {key.replace('_', ' ')} "
                f'{value or "(none)"!r}; give one of: {", ".join(component["amounts"])} (or add a "default").',
            )
        ]
    )


def _price_fixed(pricing: Pricing, component_id: str, component: dict[str, Any]) -> None:
    amount, which = _by_amount(pricing, component_id, component)
    factor = _factor(pricing, component)
    default = "Fixed charge" if component["type"] == "fixed" else "Flat rate"
    label = _label(pricing, component, default) + which
    pricing.raws.append(
        RawLine(component_id, label, factor, amount, amount * factor, _head(pricing, component), component["type"])
    )


def _price_per_unit(pricing: Pricing, component_id: str, component: dict[str, Any]) -> None:
    name = component["count"]
    if name in pricing.usage.counts:
        count = _number(pricing.usage.counts[name])
    elif "default_count" in component:
        count = _number(component["default_count"])
    else:
        raise TariffInvalid(
            [Problem(f"usage.counts.{name}", f"This tariff charges per {name}; give the number of {name}.")]
        )
    quantity = count * _factor(pricing, component)
    rate = _number(component["rate"])
    label = _label(pricing, component, f"Per {name.replace('_', ' ')}")
    pricing.raws.append(
        RawLine(component_id, label, quantity, rate, quantity * rate, _head(pricing, component), "per_unit")
    )


def _price_minimum(pricing: Pricing, component_id: str, component: dict[str, Any]) -> None:
    minimum = _number(component["amount"]) * _factor(pricing, component)
    head = _head(pricing, component)
    if component["mode"] == "on_top":
        label = _label(pricing, component, "Minimum charge")
        pricing.raws.append(
            RawLine(
                component_id, label, _factor(pricing, component), _number(component["amount"]), minimum, head, "minimum"
            )
        )
        return
    ids = component_ids(pricing.definition)
    of = component.get("of") or [
        other
        for other, other_component in zip(
            ids[: ids.index(component_id)], pricing.definition["components"], strict=False
        )
        if other_component["type"] != "minimum"
    ]
    # Against what the lines will show, so that a floor of 1,000 gives a bill of exactly 1,000.
    charged = pricing.billed_of(of)
    if charged < minimum:
        label = _label(pricing, component, "Minimum charge top-up")
        pricing.raws.append(
            RawLine(component_id, label, Fraction(1), minimum - charged, minimum - charged, head, "minimum")
        )


def _price_derived(pricing: Pricing, component_id: str, component: dict[str, Any]) -> None:
    share = _number(component["percent"]) / 100
    factor = _factor(pricing, component)
    cap = _number(component["cap"]) * factor if "cap" in component else None
    head = _head(pricing, component)
    base = component["base"]
    if base != "quantity":
        base_amount = pricing.amount_of([base])
        amount = base_amount * share
        if cap is not None:
            amount = min(amount, cap)
        label = _label(pricing, component, f"{number_text(component['percent'])}% of {base}")
        pricing.raws.append(RawLine(component_id, label, base_amount, share, amount, head, "derived"))
        return
    quantity = pricing.quantity * share
    if cap is not None:
        quantity = min(quantity, cap)
    label = _label(pricing, component, UTILITY_LABELS[pricing.definition["utility"]])
    if "rate" in component:
        rate = _number(component["rate"])
        if quantity > 0:
            pricing.raws.append(RawLine(component_id, label, quantity, rate, quantity * rate, head, "derived"))
        return
    _bands(
        pricing,
        component_id,
        component,
        bands=component["bands"],
        label=label,
        head=head,
        start=ZERO,
        quantity=quantity,
        free=ZERO,
        method=component.get("method", "incremental"),
        kind="derived",
    )


def _price_package(pricing: Pricing, component_id: str, component: dict[str, Any]) -> None:
    identifier = package_id(component)
    label = _label(
        pricing,
        component,
        f"{component.get('name') or 'Package'} {identifier} ({component['load_limit_w']} W, {component['hours']} h/day)",
    )
    head = _head(pricing, component)
    if component["pricing"] == "flat":
        factor = _factor(pricing, component)
        fee = _number(component["fee"])
        pricing.raws.append(RawLine(component_id, label, factor, fee, fee * factor, head, "package"))
    else:
        rate = _number(component["price_per_kwh"])
        pricing.raws.append(
            RawLine(component_id, label, pricing.quantity, rate, pricing.quantity * rate, head, "package")
        )


PRICERS = {
    "blocks": _price_blocks,
    "fixed": _price_fixed,
    "flat": _price_fixed,
    "per_unit": _price_per_unit,
    "minimum": _price_minimum,
    "derived": _price_derived,
    "package": _price_package,
}
