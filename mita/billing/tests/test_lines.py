"""A bill's lines as the bill keeps them (billing.lines): what the engine made, in its order, exact to the places the
line columns used to hold."""

import json
from decimal import Decimal

from mita.billing.lines import BillLine, lines_for_charges, lines_read, lines_text
from mita.tariffs import pricing

D = Decimal


def test_a_quote_s_lines_are_kept_as_text_and_read_back_in_order():
    quote = pricing.Quote(
        lines=[
            pricing.Line("0-5 m3", D(5), D(340), D(1700), head="water_sales", vat=D("306.00"), kind="band"),
            pricing.Line("5-20 m3", D("2.1234565"), D("720.0000004"), D("1528.89"), head="water_sales", kind="band"),
            pricing.Line("Round-off", D(0), D(0), D("-0.89"), head="round_off", kind="round_off"),
        ],
        total=D(3228),
        currency="RWF",
    )
    text = lines_text(quote)
    # money to two places, quantities and rates to six (half up), as decimal strings
    assert json.loads(text)[1] == {
        "label": "5-20 m3",
        "quantity": "2.123457",
        "rate": "720.000000",
        "amount": "1528.89",
        "head": "water_sales",
        "vat": "0.00",
        "kind": "band",
    }
    lines = lines_read(text)
    assert lines[0] == BillLine(1, "0-5 m3", D(5), D(340), D(1700), "water_sales", D(306), "band")
    assert [line.position for line in lines] == [1, 2, 3]
    assert sum(line.amount for line in lines) == quote.total
    assert lines_for_charges(text)[2] == ("round_off", D("-0.89"), D(0), "round_off")
    assert lines_read("") == lines_read("[]") == []
