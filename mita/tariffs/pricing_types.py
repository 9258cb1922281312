"""The values the pricing engine takes and gives: Usage in, Quote (of Lines) out, Problems when a definition is wrong."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a definition (or with the usage it was asked to price): where, and what to fix."""

    path: str  # e.g. "components[0].bands[2].rate"; "" for the definition as a whole
    message: str

    def __str__(self) -> str:
        return f"{self.path or '(definition)'}: {self.message}"


class TariffInvalid(ValueError):
    """A definition that does not validate, or a usage it cannot price; `.problems` says what to fix."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems) or "The tariff is not valid.")

    def as_fields(self) -> dict[str, list[str]]:
        """The problems as {path: [message, ...]}, the `fields` of the API's error shape."""
        fields: dict[str, list[str]] = {}
        for problem in self.problems:
            fields.setdefault(problem.path or "definition", []).append(problem.message)
        return fields


_NO_COUNTS: Mapping[str, Decimal] = MappingProxyType({})


@dataclass(frozen=True)
class Usage:
    """The inputs of one charge: what was consumed, by whom, over which days."""

    quantity: Decimal = Decimal(0)  # m3 or kWh consumed in the period (0 for flat-rate)
    property_type: str = ""  # residential, commercial, institutional, public_tap, industrial, other
    connection_type: str = ""
    meter_size: str = ""  # e.g. "15mm"
    indigent: bool = False
    days: int | None = None  # days in the period (None = the standard period, or the dates' span when given)
    period_start: date | None = None
    period_end: date | None = None  # inclusive
    counts: Mapping[str, Decimal] = field(default_factory=lambda: _NO_COUNTS)  # per-unit counts, e.g. {"taps": 3}
    prior_quantity: Decimal = Decimal(0)  # units already bought this calendar month (prepaid blocks)


@dataclass(frozen=True)
class Line:
    """One line of a bill: `amount` is what the customer pays for it (rounded as the definition says)."""

    label: str
    quantity: Decimal
    rate: Decimal
    amount: Decimal
    head: str = "other"  # ledger revenue head: water_sales, electricity_sales, other, ... or vat, round_off
    vat: Decimal = Decimal(0)  # VAT inside this line (inclusive) or added for it (exclusive); 0 if none
    kind: str = ""  # band, free, volumetric, fixed, flat, per_unit, minimum, derived, package, vat, round_off

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "quantity": _plain(self.quantity),
            "rate": _plain(self.rate),
            "amount": format(self.amount, "f"),
            "head": self.head,
            "kind": self.kind,
            "vat": format(self.vat, "f"),
        }


@dataclass(frozen=True)
class Quote:
    """A priced usage: the lines sum to `total`; `vat_total` is the VAT inside the total."""

    lines: list[Line]
    total: Decimal
    currency: str
    vat_total: Decimal = Decimal(0)

    def as_json(self) -> dict[str, Any]:
        """{"lines": [{"label", "quantity", "rate", "amount", "head", "kind", "vat"}], "total": "..."}: decimal strings."""
        return {"lines": [line.as_json() for line in self.lines], "total": format(self.total, "f")}


def _plain(value: Decimal) -> str:
    """A quantity or rate as plain text without an exponent or trailing zeros: 7.000 -> "7", 2.50 -> "2.5"."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text
