"""The pricing engine: a definition and a usage become bill lines. Exact fractions inside, one rounding per amount."""

import decimal
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, ROUND_UP, Decimal
from fractions import Fraction
from typing import Any

from mita.core.money import quantize
from mita.tariffs.pricing_schema import PERIOD_DAYS, component_ids, to_decimal, validate
from mita.tariffs.pricing_types import Line, Problem, Quote, TariffInvalid, Usage

UTILITY_HEADS = {"water": "water_sales", "electricity": "electricity_sales"}
UTILITY_LABELS = {"water": "Water", "electricity": "Electricity", "sanitation": "Sanitation"}
ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "up": ROUND_UP}
_ZERO = Fraction(0)


def package_id(component: dict[str, Any]) -> str:
    """A package's id built from its parts: MG-100W-24H-FLAT, MG-250W-12H-KWH-PRE (prepaid)."""
    pricing = "FLAT" if component.get("pricing") == "flat" else "KWH"
    suffix = "-PRE" if component.get("payment") == "prepaid" else ""
    return f"MG-{component.get('load_limit_w')}W-{component.get('hours')}H-{pricing}{suffix}"


def quote(definition: dict[str, Any], usage: Usage) -> Quote:
    """Price one usage with one definition; raises TariffInvalid when the definition (or the usage) is wrong."""
    problems = validate(definition)
    if problems:
        raise TariffInvalid(problems)
    _check_usage(usage)
    span = _span(usage)
    days = Fraction(usage.days) if usage.days is not None else (Fraction(span) if span is not None else None)
    return _price(definition, usage, quantity=_fraction(usage.quantity), days=days)


def quote_period(versions: list[tuple[date, dict[str, Any]]], usage: Usage) -> Quote:
    """Price a period over which the tariff may change: split by days, the usage shared pro rata by days.

    `versions` are (effective_from, definition), sorted. Without period dates, the latest version prices the usage.
    """
    if not versions:
        raise TariffInvalid([Problem("versions", "There is no tariff version to price with.")])
    ordered = sorted(versions, key=lambda version: version[0])
    problems = [
        Problem(f"versions[{index}].{problem.path}".rstrip("."), problem.message)
        for index, (_effective, definition) in enumerate(ordered)
        for problem in validate(definition)
    ]
    if problems:
        raise TariffInvalid(problems)
    _check_usage(usage)
    start, end = usage.period_start, usage.period_end
    if start is None or end is None:
        return quote(ordered[-1][1], usage)
    segments = _segments(ordered, start, end)
    if len(segments) == 1:
        return quote(segments[0][2], usage)
    currencies = {definition.get("currency") for _start, _end, definition in segments}
    if len(currencies) > 1:
        raise TariffInvalid(
            [Problem("versions", f"The versions in this period use different currencies ({', '.join(sorted(currencies))}).")]  # type: ignore[arg-type]
        )
    span = (end - start).days + 1
    total_days = Fraction(usage.days) if usage.days is not None else Fraction(span)
    quantity = _fraction(usage.quantity)
    lines: list[Line] = []
    vat_total = Decimal(0)
    shared = _ZERO
    for index, (segment_start, segment_end, definition) in enumerate(segments):
        segment_days = (segment_end - segment_start).days + 1
        share = quantity - shared if index == len(segments) - 1 else quantity * segment_days / span
        shared += share
        part = _price(
            definition,
            usage,
            quantity=share,
            days=total_days * segment_days / span,
            prior=_fraction(usage.prior_quantity) if index == 0 else _ZERO,
            suffix=f" ({segment_start.isoformat()} to {segment_end.isoformat()})",
        )
        lines.extend(part.lines)
        vat_total += part.vat_total
    return Quote(
        lines=lines,
        total=sum((line.amount for line in lines), Decimal(0)),
        currency=str(segments[0][2]["currency"]),
        vat_total=vat_total,
    )


def _segments(
    versions: list[tuple[date, dict[str, Any]]], start: date, end: date
) -> list[tuple[date, date, dict[str, Any]]]:
    """The period cut where a version takes effect: (first day, last day, definition) in order."""
    in_force = [index for index, (effective, _definition) in enumerate(versions) if effective <= start]
    if not in_force:
        raise TariffInvalid(
            [Problem("versions", f"No tariff version is in force on {start.isoformat()}, the first day of the period.")]
        )
    current = in_force[-1]
    segments: list[tuple[date, date, dict[str, Any]]] = []
    segment_start = start
    for index in range(current + 1, len(versions)):
        effective = versions[index][0]
        if effective > end:
            break
        if effective > segment_start:
            segments.append((segment_start, effective - timedelta(days=1), versions[current][1]))
            segment_start = effective
        current = index
    segments.append((segment_start, end, versions[current][1]))
    return segments


def _check_usage(usage: Usage) -> None:
    problems = []
    for name, value in (("quantity", usage.quantity), ("prior_quantity", usage.prior_quantity)):
        number = to_decimal(value)
        if number is None or number < 0:
            problems.append(Problem(f"usage.{name}", f"{value!r} is not a quantity; give a number of 0 or more."))
    if usage.days is not None and (isinstance(usage.days, bool) or not isinstance(usage.days, int) or usage.days < 1):
        problems.append(Problem("usage.days", f"{usage.days!r} is not a number of days; give a whole number of 1 or more."))
    if (usage.period_start is None) != (usage.period_end is None):
        problems.append(Problem("usage.period_end", "Give both the first and the last day of the period, or neither."))
    elif usage.period_start is not None and usage.period_end is not None and usage.period_end < usage.period_start:
        problems.append(Problem("usage.period_end", "The period ends before it starts."))
    for name, value in usage.counts.items():
        number = to_decimal(value)
        if number is None or number < 0:
            problems.append(Problem(f"usage.counts.{name}", f"{value!r} is not a count; give a number of 0 or more."))
    if problems:
        raise TariffInvalid(problems)


def _span(usage: Usage) -> int | None:
    if usage.period_start is None or usage.period_end is None:
        return None
    return (usage.period_end - usage.period_start).days + 1


def _fraction(value: Any) -> Fraction:
    number = to_decimal(value)
    return Fraction(number) if number is not None else _ZERO


def _decimal(value: Fraction) -> Decimal:
    """An exact fraction as a Decimal, to 40 significant digits (rounded once afterwards to the currency)."""
    with decimal.localcontext() as context:
        context.prec = 40
        return Decimal(value.numerator) / Decimal(value.denominator)


def _shown(value: Fraction) -> Decimal:
    """A quantity or rate for display: exact when it terminates, else to 6 places."""
    number = _decimal(value)
    if number != number.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP):
        number = number.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
    return number.normalize() if number != 0 else Decimal(0)


@dataclass
class _Raw:
    """A line before rounding: exact amount; which component made it."""

    component: str
    label: str
    quantity: Fraction
    rate: Fraction
    amount: Fraction
    head: str
    kind: str


@dataclass
class _Pricing:
    definition: dict[str, Any]
    usage: Usage
    quantity: Fraction
    prior: Fraction
    factor: Fraction  # days / standard days: 1 for a standard period
    raws: list[_Raw] = field(default_factory=list)

    @property
    def unit(self) -> str:
        return str(self.definition["unit"])

    def amount_of(self, ids: Iterable[str]) -> Fraction:
        wanted = set(ids)
        return sum((raw.amount for raw in self.raws if raw.component in wanted), _ZERO)


def _price(
    definition: dict[str, Any],
    usage: Usage,
    *,
    quantity: Fraction,
    days: Fraction | None,
    prior: Fraction | None = None,
    suffix: str = "",
) -> Quote:
    standard = definition.get("standard_days") or PERIOD_DAYS[definition.get("period", "month")]
    factor = Fraction(1) if days is None else days / standard
    pricing = _Pricing(
        definition=definition,
        usage=usage,
        quantity=quantity,
        prior=_fraction(usage.prior_quantity) if prior is None else prior,
        factor=factor,
    )
    ids = component_ids(definition)
    applied: list[str] = []
    for component_id, component in zip(ids, definition["components"], strict=True):
        if not _applies(component.get("when"), usage):
            continue
        applied.append(component_id)
        _PRICERS[component["type"]](pricing, component_id, component)
    if not applied:
        raise TariffInvalid([_nothing_applies(definition, usage)])
    return _finish(pricing, applied, suffix)


def _applies(when: dict[str, Any] | None, usage: Usage) -> bool:
    if not when:
        return True
    return (
        ("property_types" not in when or usage.property_type in when["property_types"])
        and ("connection_types" not in when or usage.connection_type in when["connection_types"])
        and ("meter_sizes" not in when or usage.meter_size in when["meter_sizes"])
        and ("indigent" not in when or usage.indigent == when["indigent"])
    )


def _nothing_applies(definition: dict[str, Any], usage: Usage) -> Problem:
    property_types = sorted(
        {
            name
            for component in definition["components"]
            for name in (component.get("when") or {}).get("property_types", [])
        }
    )
    if property_types and usage.property_type not in property_types:
        return Problem(
            "usage.property_type",
            f"No part of this tariff applies to property type {usage.property_type or '(none)'!r}; "
            f"give one of: {', '.join(property_types)}.",
        )
    return Problem("usage", "No part of this tariff applies to this connection (see each component's \"when\").")


def _head(pricing: _Pricing, component: dict[str, Any]) -> str:
    return str(component.get("head") or UTILITY_HEADS.get(pricing.definition["utility"], "other"))


def _label(pricing: _Pricing, component: dict[str, Any], default: str) -> str:
    return str(component.get("label") or default)


def _factor(pricing: _Pricing, component: dict[str, Any]) -> Fraction:
    return pricing.factor if component.get("prorate", True) else Fraction(1)


def _number(value: Any) -> Fraction:
    return _fraction(value)


def _edge_text(value: Any) -> str:
    number = to_decimal(value) or Decimal(0)
    return format(number.normalize(), "f") if number == number.to_integral_value() else format(number, "f")


def _bands(
    pricing: _Pricing,
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
    free_units = max(_ZERO, min(free, end) - start) if free > start else _ZERO
    if free_units > 0:
        pricing.raws.append(
            _Raw(component_id, f"{label} free allowance", free_units, _ZERO, _ZERO, head, "free")
        )
    edges: list[tuple[Fraction, Fraction | None, dict[str, Any]]] = []
    low = _ZERO
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
        pricing.raws.append(_Raw(component_id, f"{name} (all units)", charged, rate, charged * rate, head, "volumetric"))
        return
    for low, high, band in edges:
        band_start = max(low, start, min(free, end))
        band_end = end if high is None else min(high, end)
        units = band_end - band_start
        if units <= 0:
            continue
        rate = _number(band["rate"])
        name = band.get("label") or _band_text(label, band, low_band=_low_text(bands, band), unit=pricing.unit)
        pricing.raws.append(_Raw(component_id, name, units, rate, units * rate, head, kind))


def _low_text(bands: list[dict[str, Any]], band: dict[str, Any]) -> str:
    index = bands.index(band)
    return "0" if index == 0 else _edge_text(bands[index - 1]["upto"])


def _band_text(label: str, band: dict[str, Any], *, low_band: str, unit: str) -> str:
    if band["upto"] is None:
        return f"{label} above {low_band} {unit}"
    return f"{label} {low_band}-{_edge_text(band['upto'])} {unit}"


def _price_blocks(pricing: _Pricing, component_id: str, component: dict[str, Any]) -> None:
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


def _by_amount(pricing: _Pricing, component_id: str, component: dict[str, Any]) -> tuple[Fraction, str]:
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
                f"{value or '(none)'!r}; give one of: {', '.join(component['amounts'])} (or add a \"default\").",
            )
        ]
    )


def _price_fixed(pricing: _Pricing, component_id: str, component: dict[str, Any]) -> None:
    amount, which = _by_amount(pricing, component_id, component)
    factor = _factor(pricing, component)
    default = "Fixed charge" if component["type"] == "fixed" else "Flat rate"
    label = _label(pricing, component, default) + which
    pricing.raws.append(
        _Raw(component_id, label, factor, amount, amount * factor, _head(pricing, component), component["type"])
    )


def _price_per_unit(pricing: _Pricing, component_id: str, component: dict[str, Any]) -> None:
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
    pricing.raws.append(_Raw(component_id, label, quantity, rate, quantity * rate, _head(pricing, component), "per_unit"))


def _price_minimum(pricing: _Pricing, component_id: str, component: dict[str, Any]) -> None:
    minimum = _number(component["amount"]) * _factor(pricing, component)
    head = _head(pricing, component)
    if component["mode"] == "on_top":
        label = _label(pricing, component, "Minimum charge")
        pricing.raws.append(_Raw(component_id, label, _factor(pricing, component), _number(component["amount"]), minimum, head, "minimum"))
        return
    ids = component_ids(pricing.definition)
    of = component.get("of") or [
        other
        for other, other_component in zip(ids[: ids.index(component_id)], pricing.definition["components"], strict=False)
        if other_component["type"] != "minimum"
    ]
    charged = pricing.amount_of(of)
    if charged < minimum:
        label = _label(pricing, component, "Minimum charge top-up")
        pricing.raws.append(_Raw(component_id, label, Fraction(1), minimum - charged, minimum - charged, head, "minimum"))


def _price_derived(pricing: _Pricing, component_id: str, component: dict[str, Any]) -> None:
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
        label = _label(pricing, component, f"{_edge_text(component['percent'])}% of {base}")
        pricing.raws.append(_Raw(component_id, label, base_amount, share, amount, head, "derived"))
        return
    quantity = pricing.quantity * share
    if cap is not None:
        quantity = min(quantity, cap)
    label = _label(pricing, component, UTILITY_LABELS[pricing.definition["utility"]])
    if "rate" in component:
        rate = _number(component["rate"])
        if quantity > 0:
            pricing.raws.append(_Raw(component_id, label, quantity, rate, quantity * rate, head, "derived"))
        return
    _bands(
        pricing,
        component_id,
        component,
        bands=component["bands"],
        label=label,
        head=head,
        start=_ZERO,
        quantity=quantity,
        free=_ZERO,
        method=component.get("method", "incremental"),
        kind="derived",
    )


def _price_package(pricing: _Pricing, component_id: str, component: dict[str, Any]) -> None:
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
        pricing.raws.append(_Raw(component_id, label, factor, fee, fee * factor, head, "package"))
    else:
        rate = _number(component["price_per_kwh"])
        pricing.raws.append(_Raw(component_id, label, pricing.quantity, rate, pricing.quantity * rate, head, "package"))


_PRICERS = {
    "blocks": _price_blocks,
    "fixed": _price_fixed,
    "flat": _price_fixed,
    "per_unit": _price_per_unit,
    "minimum": _price_minimum,
    "derived": _price_derived,
    "package": _price_package,
}


def _finish(pricing: _Pricing, applied: list[str], suffix: str) -> Quote:
    """Round the lines, add VAT and the round-off line as the definition says."""
    definition = pricing.definition
    currency = str(definition["currency"])
    rounding = definition.get("rounding") or {}
    mode = ROUNDING_MODES[rounding.get("mode", "half_up")]
    vat = definition.get("vat")
    vat_rate = _number(vat["rate"]) / 100 if vat else _ZERO
    taxed = set(vat.get("applies_to") or component_ids(definition)) if vat else set()
    inclusive = bool(vat) and vat["mode"] == "inclusive"

    def money(value: Fraction) -> Decimal:
        return quantize(_decimal(value), currency, mode)

    lines: list[Line] = []
    exact_total = _ZERO
    vat_base = Decimal(0)
    vat_added = Decimal(0)
    for raw in pricing.raws:
        amount = money(raw.amount)
        line_vat = Decimal(0)
        if raw.component in taxed and amount:
            if inclusive:
                line_vat = money(Fraction(amount) * vat_rate / (1 + vat_rate))
            else:
                line_vat = money(Fraction(amount) * vat_rate)
                vat_base += amount
                vat_added += line_vat
        exact_total += raw.amount + (raw.amount * vat_rate if raw.component in taxed and not inclusive else _ZERO)
        lines.append(
            Line(
                label=raw.label + suffix,
                quantity=_shown(raw.quantity),
                rate=_shown(raw.rate),
                amount=amount,
                head=raw.head,
                vat=line_vat,
                kind=raw.kind,
            )
        )
    if vat and not inclusive and vat_base:
        label = vat.get("label") or f"VAT {_edge_text(vat['rate'])}%"
        lines.append(Line(label + suffix, vat_base, _shown(vat_rate), vat_added, "vat", Decimal(0), "vat"))
    shown_total = sum((line.amount for line in lines), Decimal(0))
    payable_exact = _decimal(exact_total) if rounding.get("scope") == "total" else shown_total
    places = 0 if rounding.get("to") == "unit" else None
    payable = quantize(payable_exact, currency, mode, places=places)
    if payable != shown_total:
        off = payable - shown_total
        lines.append(Line("Round-off" + suffix, Decimal(1), off, off, "round_off", Decimal(0), "round_off"))
    vat_total = vat_added if not inclusive else sum((line.vat for line in lines), Decimal(0))
    return Quote(lines=lines, total=payable, currency=currency, vat_total=vat_total)
