"""How a bill's lines become ledger charges: per revenue head, with the tariff's VAT, adding up to the total."""

from decimal import Decimal

from mita.billing.charges import charges_of_lines

D = Decimal


def test_exclusive_vat_is_the_vat_lines_and_the_charges_add_up_to_the_total():
    lines = [("water_sales", D(1700), D(306), "band"), ("water_sales", D(500), D(0), "fixed"),
             ("sanitation", D(400), D(72), "derived"), ("vat", D(378), D(0), "vat")]  # fmt: skip
    charges = charges_of_lines(lines)
    assert charges == [("other", D(400), D(72)), ("water_sales", D(2200), D(306))]
    assert sum(net + vat for _head, net, vat in charges) == sum(line[1] for line in lines)


def test_inclusive_vat_is_taken_out_of_the_lines():
    lines = [("water_sales", D(1150), D(150), "band")]
    assert charges_of_lines(lines) == [("water_sales", D(1000), D(150))]


def test_the_round_off_goes_to_the_largest_head_and_a_zero_bill_posts_nothing():
    lines = [("water_sales", D("10.40"), D(0), "band"), ("other", D("2.00"), D(0), "fixed"),
             ("round_off", D("-0.40"), D(0), "round_off")]  # fmt: skip
    assert charges_of_lines(lines) == [("other", D(2), D(0)), ("water_sales", D(10), D(0))]
    assert charges_of_lines([("water_sales", D(0), D(0), "free")]) == []
