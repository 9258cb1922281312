"""A definition's "assessed_usage" (the bulk demand of a connection without a meter): validated, in the JSON Schema,
and turned into a period's quantity by pricing.assessed_quantity (a connection's own figure first)."""

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest

from mita.tariffs.pricing import SCHEMA, Usage, assessed_quantity, quote, validate

D = Decimal
EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "tariffs"


def definition(**extra) -> dict:
    return {
        "currency": "RWF",
        "utility": "water",
        "unit": "m3",
        "components": [{"type": "blocks", "bands": [{"upto": None, "rate": 100}]}],
        **extra,
    }


def period(start: date, end: date) -> Usage:
    return Usage(period_start=start, period_end=end)


OCTOBER = period(date(2026, 10, 1), date(2026, 10, 31))
FOURTH_QUARTER = period(date(2026, 10, 1), date(2026, 12, 31))


@pytest.mark.parametrize(
    ("extra", "usage", "own", "quantity"),
    [
        ({"assessed_usage": "6"}, OCTOBER, None, "6"),  # one standard period
        ({"assessed_usage": 6}, FOURTH_QUARTER, None, "18"),  # three months of a monthly tariff
        ({"assessed_usage": "6"}, period(date(2026, 10, 1), date(2026, 10, 15)), None, "3"),  # 15 of 30 days
        ({"assessed_usage": "6"}, OCTOBER, D("2.5"), "2.5"),  # the connection's own figure first
        ({"assessed_usage": "6"}, OCTOBER, D(0), "0"),  # even when it is 0
        ({}, OCTOBER, None, "0"),  # neither: nothing
        ({}, FOURTH_QUARTER, D(4), "12"),
        ({"assessed_usage": "7", "period": "quarter"}, OCTOBER, None, "2.333"),  # a third of a quarter, rounded
        ({"assessed_usage": "6"}, Usage(), None, "6"),  # no dates: one period
    ],
)
def test_the_assessed_quantity_is_the_usage_per_period_times_the_periods(extra, usage, own, quantity):
    assert assessed_quantity(definition(**extra), usage, own) == D(quantity)


@pytest.mark.parametrize("value", ["-1", "six", True, [6]])
def test_a_bad_assessed_usage_is_refused_by_validate_and_the_schema(value):
    bad = definition(assessed_usage=value)
    assert [problem.path for problem in validate(bad)] == ["assessed_usage"]
    assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(bad))


@pytest.mark.parametrize("value", ["6", 6, "2.5", 0])
def test_a_good_assessed_usage_passes_both(value):
    good = definition(assessed_usage=value)
    assert validate(good) == []
    assert not list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(good))


def test_johannesburg_standpipe_assessed_at_12_kl_prices_as_12_kl_used():
    # Johannesburg's domestic tariff (6 kL free, 10 kL on the indigent register), assessed at 12 kL a month:
    # the golden figures of 12 kL used (see test_golden.py and test_quote_cli.py)
    johannesburg = {**json.loads((EXAMPLES / "johannesburg-domestic-water.json").read_text()), "assessed_usage": "12"}
    quantity = assessed_quantity(johannesburg, OCTOBER)
    assert quantity == D(12)
    month = {"period_start": OCTOBER.period_start, "period_end": OCTOBER.period_end}
    assert quote(johannesburg, Usage(quantity=quantity, indigent=True, **month)).total == D("27.76")
    assert quote(johannesburg, Usage(quantity=quantity, **month)).total == D("60.61")
