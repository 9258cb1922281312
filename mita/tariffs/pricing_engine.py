"""The pricing engine: a definition and a usage become bill lines. Exact fractions inside, one rounding per amount."""

import copy
import dataclasses
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from mita.core.money import CURRENCY_EXPONENTS, quantize
from mita.tariffs.pricing_components import (
    PRICERS,
    ROUNDING_MODES,
    ZERO,
    Pricing,
    exact_decimal,
    fraction,
    number_text,
    shown,
)
from mita.tariffs.pricing_schema import PERIOD_DAYS, PERIOD_MONTHS, component_ids, to_decimal, validate
from mita.tariffs.pricing_types import Line, Problem, Quote, TariffInvalid, Usage

QUANTITY_STEP = Decimal("0.001")  # bills keep quantities to a thousandth of a unit


def quote(definition: dict[str, Any], usage: Usage) -> Quote:
    """Price one usage with one definition; raises TariffInvalid when the definition (or the usage) is wrong."""
    problems = validate(definition)
    if problems:
        raise TariffInvalid(problems)
    _check_usage(usage)
    return _price(definition, usage, quantity=fraction(usage.quantity), share=period_share(definition, usage))


def period_share(definition: dict[str, Any], usage: Usage) -> Fraction:
    """How many standard periods the usage's period is: 1 for a standard one; what proration multiplies by.

    `Usage.days` over the standard days when given; else whole calendar months over the definition's period's
    months when the dates are whole months (January 1-31 is one month, not 31/30 of one); else the dates' days
    over the standard days; without days or dates, 1.
    """
    standard = definition.get("standard_days") or PERIOD_DAYS[definition.get("period", "month")]
    if usage.days is not None:
        return Fraction(usage.days, standard)
    start, end = usage.period_start, usage.period_end
    if start is None or end is None:
        return Fraction(1)
    if start.day == 1 and (end + timedelta(days=1)).day == 1:
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        return Fraction(months, PERIOD_MONTHS[definition.get("period", "month")])
    return Fraction((end - start).days + 1, standard)


def assessed_quantity(definition: dict[str, Any], usage: Usage, per_period: Decimal | None = None) -> Decimal:
    """What a connection without a meter is taken to consume over the usage's period ("bulk demand"): its own figure
    `per_period` when given, else the definition's "assessed_usage", each in units per standard period, times the
    periods the usage spans (period_share: a quarter of a monthly tariff is 3). 0 when neither is given. Rounded half
    up to a thousandth of a unit, as bills keep quantities."""
    base = per_period if per_period is not None else to_decimal(definition.get("assessed_usage"))
    if base is None or base <= 0:
        return Decimal(0)
    quantity = exact_decimal(Fraction(base) * period_share(definition, usage))
    return quantity.quantize(QUANTITY_STEP, rounding=ROUND_HALF_UP)


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
    currencies = {str(definition["currency"]) for _start, _end, definition in segments}
    if len(currencies) > 1:
        raise TariffInvalid(
            [
                Problem(
                    "versions",
                    f"The versions in this period use different currencies ({', '.join(sorted(currencies))}).",
                )
            ]
        )
    span = (end - start).days + 1
    quantity = fraction(usage.quantity)
    lines: list[Line] = []
    vat_total = Decimal(0)
    shared = ZERO
    for index, (segment_start, segment_end, definition) in enumerate(segments):
        segment_days = (segment_end - segment_start).days + 1
        # the last part takes what is left, so that the parts add up to the usage exactly
        part_quantity = quantity - shared if index == len(segments) - 1 else quantity * segment_days / span
        shared += part_quantity
        part = _price(
            definition,
            usage,
            quantity=part_quantity,
            share=period_share(definition, usage) * segment_days / span,
            prior=fraction(usage.prior_quantity) if index == 0 else ZERO,
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
        problems.append(
            Problem("usage.days", f"{usage.days!r} is not a number of days; give a whole number of 1 or more.")
        )
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


def _price(
    definition: dict[str, Any],
    usage: Usage,
    *,
    quantity: Fraction,
    share: Fraction,
    prior: Fraction | None = None,
    suffix: str = "",
) -> Quote:
    pricing = Pricing(
        definition=definition,
        usage=usage,
        quantity=quantity,
        prior=fraction(usage.prior_quantity) if prior is None else prior,
        factor=share,
    )
    applied = False
    for component_id, component in zip(component_ids(definition), definition["components"], strict=True):
        if _applies(component.get("when"), usage):
            applied = True
            PRICERS[component["type"]](pricing, component_id, component)
    if not applied:
        raise TariffInvalid([_nothing_applies(definition, usage)])
    return _finish(pricing, suffix)


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
    if property_types and not usage.property_type:
        return Problem("usage.property_type", f"Give the property type, one of: {', '.join(property_types)}.")
    if property_types and usage.property_type not in property_types:
        return Problem(
            "usage.property_type",
            f"No part of this tariff applies to property type {usage.property_type!r}; "
            f"give one of: {', '.join(property_types)}.",
        )
    return Problem("usage", 'No part of this tariff applies to this connection (see each component\'s "when").')


def _finish(pricing: Pricing, suffix: str) -> Quote:
    """Round the lines, add VAT and the round-off line as the definition says."""
    definition = pricing.definition
    currency = str(definition["currency"])
    rounding = definition.get("rounding") or {}
    mode = ROUNDING_MODES[rounding.get("mode", "half_up")]
    vat: dict[str, Any] = definition.get("vat") or {}
    vat_rate = fraction(vat["rate"]) / 100 if vat else ZERO
    taxed = set(vat.get("applies_to") or component_ids(definition)) if vat else set()
    inclusive = bool(vat) and vat["mode"] == "inclusive"

    def money(value: Fraction) -> Decimal:
        return quantize(exact_decimal(value), currency, mode)

    lines: list[Line] = []
    exact_total = ZERO
    vat_base = Decimal(0)
    exclusive_shares: dict[int, Fraction] = {}  # position in lines -> exact VAT added for that line
    for raw in pricing.raws:
        amount = money(raw.amount)
        line_vat = Decimal(0)
        if raw.component in taxed and amount:
            if inclusive:
                line_vat = money(Fraction(amount) * vat_rate / (1 + vat_rate))
            else:
                exclusive_shares[len(lines)] = Fraction(amount) * vat_rate
                vat_base += amount
        exact_total += raw.amount + (raw.amount * vat_rate if raw.component in taxed and not inclusive else ZERO)
        lines.append(
            Line(
                label=raw.label + suffix,
                quantity=shown(raw.quantity),
                rate=shown(raw.rate),
                amount=amount,
                head=raw.head,
                vat=line_vat,
                kind=raw.kind,
            )
        )
    # Exclusive VAT is the VAT line's base x rate, rounded once (as an invoice states it), then shared out over the
    # taxed lines so their `vat` add up to it. Rounding each line's VAT instead could charge more for less water.
    vat_added = money(Fraction(vat_base) * vat_rate)
    for position, share in _shared_out(vat_added, exclusive_shares, currency).items():
        lines[position] = dataclasses.replace(lines[position], vat=share)
    if vat and not inclusive and vat_base:
        label = vat.get("label") or f"VAT {number_text(vat['rate'])}%"
        lines.append(Line(label + suffix, vat_base, shown(vat_rate), vat_added, "vat", Decimal(0), "vat"))
    shown_total = sum((line.amount for line in lines), Decimal(0))
    payable_exact = exact_decimal(exact_total) if rounding.get("scope") == "total" else shown_total
    places = 0 if rounding.get("to") == "unit" else None
    payable = quantize(payable_exact, currency, mode, places=places)
    if payable != shown_total:
        off = payable - shown_total
        lines.append(Line("Round-off" + suffix, Decimal(1), off, off, "round_off", Decimal(0), "round_off"))
    vat_total = vat_added if not inclusive else sum((line.vat for line in lines), Decimal(0))
    return Quote(lines=lines, total=payable, currency=currency, vat_total=vat_total)


def _shared_out(total: Decimal, exact: dict[int, Fraction], currency: str) -> dict[int, Decimal]:
    """`total` (a rounded sum of the exact shares) split over their keys: each share rounded down, and the minor units
    left over to the largest remainders (the first on a tie). They add up to `total`, and are never negative for
    shares that are not (a definition's amounts and rates are 0 or more: pricing_schema)."""
    floors = {key: quantize(exact_decimal(share), currency, ROUND_DOWN) for key, share in exact.items()}
    unit = Decimal(1).scaleb(-CURRENCY_EXPONENTS[currency])
    left = int((total - sum(floors.values(), Decimal(0))) / unit)
    by_remainder = sorted(exact, key=lambda key: (-(exact[key] - Fraction(floors[key])), key))
    for key in by_remainder[:left]:
        floors[key] += unit
    return floors


class Pricer:
    """One definition, validated once, quoting many usages: the bill run's path.

    Bills of one cycle repeat the same few usages (whole m3, a handful of property types), so each different
    usage is priced once and its Quote (immutable) reused. `Pricer(definition).quote(usage) == quote(definition,
    usage)` always.
    """

    MAX_CACHED = 100_000

    def __init__(self, definition: dict[str, Any]) -> None:
        problems = validate(definition)
        if problems:
            raise TariffInvalid(problems)
        self.definition = copy.deepcopy(definition)  # a caller changing its dict later cannot change our answers
        self._quotes: dict[tuple[Any, ...], Quote] = {}

    def quote(self, usage: Usage) -> Quote:
        key = (
            usage.quantity,
            usage.property_type,
            usage.connection_type,
            usage.meter_size,
            usage.indigent,
            usage.days,
            usage.period_start,
            usage.period_end,
            tuple(sorted(usage.counts.items())),
            usage.prior_quantity,
        )
        cached = self._quotes.get(key)
        if cached is None:
            _check_usage(usage)
            cached = _price(
                self.definition,
                usage,
                quantity=fraction(usage.quantity),
                share=period_share(self.definition, usage),
            )
            if len(self._quotes) >= self.MAX_CACHED:
                self._quotes.clear()
            self._quotes[key] = cached
        return cached
