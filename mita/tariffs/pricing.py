"""The tariff pricing engine, pure Python (no ORM): the only place Mita computes a charge. See docs/tariffs.md.

validate(definition) -> [Problem]; quote(definition, usage) -> Quote; quote_period(versions, usage) -> Quote;
assessed_quantity(definition, usage, per_period) -> Decimal (the bulk demand of a connection without a meter);
Pricer(definition).quote(usage) for many usages of one definition (validated once, repeated usages priced once).
"""

from mita.tariffs.pricing_components import package_id
from mita.tariffs.pricing_engine import Pricer, assessed_quantity, quote, quote_period
from mita.tariffs.pricing_schema import SCHEMA, validate
from mita.tariffs.pricing_types import Line, Problem, Quote, TariffInvalid, Usage

__all__ = [
    "SCHEMA",
    "Line",
    "Pricer",
    "Problem",
    "Quote",
    "TariffInvalid",
    "Usage",
    "assessed_quantity",
    "package_id",
    "quote",
    "quote_period",
    "validate",
]
