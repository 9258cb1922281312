"""The tariff simulator and the comparison of two versions: pricing.quote on usages a user types (pure, no writes)."""

import dataclasses
from decimal import Decimal
from typing import Any

from mita.tariffs import pricing


def usage_for(*, usage: Decimal, property_type: str = "", days: int | None = None, indigent: bool = False) -> Any:
    return pricing.Usage(quantity=usage, property_type=property_type or "", days=days, indigent=bool(indigent))


def simulate(*, definition: dict[str, Any], usage: Any) -> Any:
    """The quote of one usage: lines and total (pricing.Quote). Raises pricing.TariffInvalid or ValueError."""
    return pricing.quote(definition, usage)


@dataclasses.dataclass(frozen=True)
class ComparedRow:
    usage: Decimal
    old_total: Decimal
    new_total: Decimal

    @property
    def difference(self) -> Decimal:
        return self.new_total - self.old_total

    @property
    def percent(self) -> Decimal | None:
        if self.old_total == 0:
            return None
        return (self.difference * 100 / self.old_total).quantize(Decimal("0.1"))


def compare(
    *,
    old: dict[str, Any],
    new: dict[str, Any],
    up_to: Decimal,
    step: Decimal,
    property_type: str = "",
    indigent: bool = False,
) -> list[ComparedRow]:
    """What a change does to bills: the totals of both definitions for usages 0, step, 2 x step, ... up to up_to."""
    rows = []
    quantity = Decimal(0)
    while quantity <= up_to:
        usage = usage_for(usage=quantity, property_type=property_type, indigent=indigent)
        rows.append(
            ComparedRow(
                usage=quantity,
                old_total=pricing.quote(old, usage).total,
                new_total=pricing.quote(new, usage).total,
            )
        )
        quantity += step
    return rows
