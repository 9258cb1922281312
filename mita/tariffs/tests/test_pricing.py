"""The pricing engine's components, VAT, rounding, proration and version changes, with figures worked out by hand."""

import copy
import json
from datetime import date
from decimal import Decimal

import pytest

from mita.tariffs.pricing import Pricer, Problem, TariffInvalid, Usage, package_id, quote, quote_period, validate

D = Decimal


def tariff(*components, currency="RWF", **extra) -> dict:
    return {"currency": currency, "utility": "water", "unit": "m3", "components": list(components), **extra}


def blocks(*bands, **extra) -> dict:
    return {"type": "blocks", "bands": [{"upto": upto, "rate": rate} for upto, rate in bands], **extra}


def amounts(result) -> list[tuple[str, Decimal]]:
    return [(line.label, line.amount) for line in result.lines]


# Volumetric blocks: every unit at the rate of the band the usage reaches (a band includes its upper edge).
@pytest.mark.parametrize(
    ("quantity", "label", "total"),
    [
        ("10", "Water 0-10 m3 (all units)", "1000"),
        ("10.5", "Water 10-20 m3 (all units)", "1575"),
        ("20", "Water 10-20 m3 (all units)", "3000"),
        ("25", "Water above 20 m3 (all units)", "5000"),
    ],
)
def test_volumetric_blocks_charge_all_units_at_the_band_reached(quantity, label, total):
    definition = tariff(blocks((10, 100), (20, 150), (None, 200), method="volumetric"))
    result = quote(definition, Usage(quantity=D(quantity)))
    assert amounts(result) == [(label, D(total))]
    assert result.total == D(total)


def test_volumetric_blocks_leave_the_free_allowance_out():
    definition = tariff(blocks((10, 100), (20, 150), (None, 200), method="volumetric", free=5))
    result = quote(definition, Usage(quantity=D(12)))
    assert amounts(result) == [("Water free allowance", D(0)), ("Water 10-20 m3 (all units)", D(1050))]  # 7 x 150


def test_a_lifeline_allowance_is_free_and_the_indigent_one_larger():
    definition = tariff(blocks((5, 100), (None, 300), free=2, indigent_free=4))
    assert quote(definition, Usage(quantity=D(6))).total == D(3 * 100 + 1 * 300)
    assert quote(definition, Usage(quantity=D(6), indigent=True)).total == D(1 * 100 + 1 * 300)
    assert quote(definition, Usage(quantity=D(3), indigent=True)).total == D(0)


def test_fixed_charge_by_meter_size():
    definition = tariff(
        blocks((None, 100)), {"type": "fixed", "by": "meter_size", "amounts": {"15mm": 1000, "20mm": 2500}}
    )
    result = quote(definition, Usage(quantity=D(3), meter_size="20mm"))
    assert amounts(result) == [("Water above 0 m3", D(300)), ("Fixed charge (20mm)", D(2500))]
    assert result.total == D(2800)


def test_a_meter_size_without_an_amount_is_refused_unless_there_is_a_default():
    definition = tariff(blocks((None, 100)), {"type": "fixed", "by": "meter_size", "amounts": {"15mm": 1000}})
    with pytest.raises(TariffInvalid) as refused:
        quote(definition, Usage(quantity=D(3), meter_size="25mm"))
    assert refused.value.problems[0].path == "usage.meter_size"
    assert "15mm" in refused.value.problems[0].message
    definition["components"][1]["default"] = 1500
    assert quote(definition, Usage(quantity=D(3), meter_size="25mm")).total == D(1800)


def test_fixed_charge_by_connection_type():
    definition = tariff({"type": "fixed", "by": "connection_type", "amounts": {"yard_tap": 500, "house": 1200}})
    assert quote(definition, Usage(connection_type="house")).total == D(1200)
    assert quote(definition, Usage(connection_type="yard_tap")).total == D(500)


@pytest.mark.parametrize(
    ("quantity", "lines"),
    [
        ("3", [("Water above 0 m3", D(300)), ("Minimum charge top-up", D(700))]),
        ("10", [("Water above 0 m3", D(1000))]),
        ("12", [("Water above 0 m3", D(1200))]),
        ("0", [("Minimum charge top-up", D(1000))]),
    ],
)
def test_a_minimum_charge_as_a_floor_tops_the_bill_up(quantity, lines):
    definition = tariff(blocks((None, 100)), {"type": "minimum", "mode": "floor", "amount": 1000})
    result = quote(definition, Usage(quantity=D(quantity)))
    assert amounts(result) == lines
    assert result.total == max(D(1000), D(quantity) * 100)


def test_a_minimum_floor_counts_only_the_components_it_names():
    definition = tariff(
        blocks((None, 100), id="water"),
        {"type": "fixed", "amount": 800, "id": "meter_rent"},
        {"type": "minimum", "mode": "floor", "amount": 1000, "of": ["water"]},
    )
    assert quote(definition, Usage(quantity=D(4))).total == D(400 + 800 + 600)


def test_flat_rate_per_period_and_per_tap():
    definition = tariff({"type": "flat", "amount": 2000}, {"type": "per_unit", "count": "taps", "rate": 500})
    result = quote(definition, Usage(counts={"taps": D(3)}))
    assert [(line.label, line.quantity, line.rate, line.amount) for line in result.lines] == [
        ("Flat rate", D(1), D(2000), D(2000)),
        ("Per taps", D(3), D(500), D(1500)),
    ]
    assert result.total == D(3500)


def test_a_per_unit_charge_needs_its_count_or_a_default():
    definition = tariff({"type": "per_unit", "count": "taps", "rate": 500, "label": "Taps"})
    with pytest.raises(TariffInvalid) as refused:
        quote(definition, Usage())
    assert refused.value.problems == [
        Problem("usage.counts.taps", "This tariff charges per taps; give the number of taps.")
    ]
    definition["components"][0]["default_count"] = 1
    assert quote(definition, Usage()).total == D(500)


@pytest.mark.parametrize(("quantity", "sewer"), [("10", 500), ("16", 800), ("20", 800)])
def test_a_charge_derived_from_another_with_a_cap(quantity, sewer):
    definition = tariff(
        blocks((None, 100), id="water"),
        {"type": "derived", "id": "sewer", "base": "water", "percent": 50, "cap": 800, "label": "Sewerage"},
    )
    result = quote(definition, Usage(quantity=D(quantity)))
    assert result.lines[1].label == "Sewerage"
    assert result.lines[1].amount == D(sewer)
    assert result.total == D(quantity) * 100 + sewer


def test_a_charge_on_a_share_of_the_quantity_at_one_rate():
    definition = tariff({"type": "derived", "base": "quantity", "percent": 80, "rate": 50, "cap": 20})
    assert quote(definition, Usage(quantity=D(10))).total == D(400)  # 8 m3 x 50
    assert quote(definition, Usage(quantity=D(100))).total == D(1000)  # capped at 20 m3


def test_vat_inclusive_shows_the_vat_inside_each_line_and_adds_no_line():
    definition = tariff(
        blocks((None, 116)), {"type": "fixed", "amount": 232}, currency="KES", vat={"rate": 16, "mode": "inclusive"}
    )
    result = quote(definition, Usage(quantity=D(10)))
    assert [(line.amount, line.vat) for line in result.lines] == [
        (D("1160.00"), D("160.00")),
        (D("232.00"), D("32.00")),
    ]
    assert result.total == D("1392.00")
    assert result.vat_total == D("192.00")


def test_vat_exclusive_on_chosen_lines_only():
    definition = tariff(
        blocks((None, 100), id="water"),
        {"type": "fixed", "amount": 50, "id": "meter_rent"},
        currency="KES",
        vat={"rate": 16, "mode": "exclusive", "applies_to": ["water"]},
    )
    result = quote(definition, Usage(quantity=D(10)))
    assert [(line.label, line.amount, line.vat, line.head) for line in result.lines] == [
        ("Water above 0 m3", D("1000.00"), D("160.00"), "water_sales"),
        ("Fixed charge", D("50.00"), D("0"), "water_sales"),
        ("VAT 16%", D("160.00"), D("0"), "vat"),
    ]
    assert result.total == D("1210.00")
    assert result.vat_total == D("160.00")


def test_rounding_per_line_or_on_the_total_with_a_round_off_line():
    components = [blocks((None, "0.335"), id="a"), blocks((None, "0.335"), id="b")]
    per_line = quote(tariff(*components, currency="KES"), Usage(quantity=D(1)))
    assert [line.amount for line in per_line.lines] == [D("0.34"), D("0.34")]
    assert per_line.total == D("0.68")
    on_total = quote(tariff(*components, currency="KES", rounding={"scope": "total"}), Usage(quantity=D(1)))
    assert [(line.label, line.amount, line.kind) for line in on_total.lines] == [
        ("Water above 0 m3", D("0.34"), "band"),
        ("Water above 0 m3", D("0.34"), "band"),
        ("Round-off", D("-0.01"), "round_off"),
    ]
    assert on_total.total == D("0.67")


@pytest.mark.parametrize(
    ("quantity", "mode", "total", "round_off"),
    [
        ("3", "half_up", "31", "0.25"),
        ("1", "half_up", "10", "-0.25"),
        ("1", "up", "11", "0.75"),
        ("4", "up", "41", "0"),
    ],
)
def test_rounding_the_payable_amount_to_a_whole_unit(quantity, mode, total, round_off):
    definition = tariff(blocks((None, "10.25")), currency="KES", rounding={"to": "unit", "mode": mode})
    result = quote(definition, Usage(quantity=D(quantity)))
    assert result.total == D(total)
    offs = [line.amount for line in result.lines if line.kind == "round_off"]
    assert offs == ([D(round_off)] if D(round_off) else [])
    assert sum(line.amount for line in result.lines) == result.total


def test_rounding_up_on_each_line():
    definition = tariff(blocks((None, "0.333")), currency="KES", rounding={"mode": "up"})
    assert quote(definition, Usage(quantity=D(1))).total == D("0.34")


PRORATED = tariff({"type": "fixed", "amount": 3000}, blocks((10, 100), (None, 200)))


@pytest.mark.parametrize(
    ("usage", "total"),
    [
        (Usage(quantity=D(8), days=15), 1500 + 5 * 100 + 3 * 200),  # half a month: half the charge, bands halved
        (Usage(quantity=D(8), period_start=date(2026, 1, 1), period_end=date(2026, 1, 15)), 2600),
        (Usage(quantity=D(20), days=45), 4500 + 15 * 100 + 5 * 200),
        (Usage(quantity=D(20), days=30), 3000 + 10 * 100 + 10 * 200),
        (Usage(quantity=D(20)), 6000),
    ],
)
def test_proration_by_days_for_a_short_or_long_period(usage, total):
    assert quote(PRORATED, usage).total == D(total)


@pytest.mark.parametrize(
    ("start", "end", "total"),
    [
        (date(2026, 1, 1), date(2026, 1, 31), 3000 + 10 * 100 + 10 * 200),  # a calendar month is one month
        (date(2026, 2, 1), date(2026, 2, 28), 3000 + 10 * 100 + 10 * 200),
        (date(2026, 1, 1), date(2026, 2, 28), 6000 + 20 * 100),  # two months: twice the charge, bands twice as wide
        (date(2026, 1, 2), date(2026, 1, 31), 3000 + 10 * 100 + 10 * 200),  # 30 days: the standard
        # 31 days across two months: 31/30 of a month: fixed 3,100; the band edge at 10 1/3 m3:
        # 10 1/3 x 100 = 1,033.33 -> 1,033 and 9 2/3 x 200 = 1,933.33 -> 1,933
        (date(2026, 1, 17), date(2026, 2, 16), 3100 + 1033 + 1933),
    ],
)
def test_dates_covering_whole_calendar_months_are_whole_months(start, end, total):
    usage = Usage(quantity=D(20), period_start=start, period_end=end)
    assert quote(PRORATED, usage).total == D(total)


def test_a_version_change_inside_a_calendar_month_shares_the_month_by_days():
    usage = Usage(quantity=D(31), period_start=date(2026, 1, 1), period_end=date(2026, 1, 31))
    result = quote_period([(date(2025, 7, 1), V1), (date(2026, 1, 21), V2)], usage)
    # 20 days of V1: fixed 3,000 x 20/31 = 1,935.48, 20 m3 x 100; 11 days of V2: 3,600 x 11/31 = 1,277.42, 11 m3 x 130
    assert [line.amount for line in result.lines] == [D(1935), D(2000), D(1277), D(1430)]
    assert result.total == D(6642)


def test_a_component_can_refuse_proration():
    definition = copy.deepcopy(PRORATED)
    definition["components"][0]["prorate"] = False
    assert quote(definition, Usage(quantity=D(8), days=15)).total == D(3000 + 500 + 600)


def test_the_standard_period_can_be_given_in_days():
    definition = {**PRORATED, "standard_days": 31}
    assert quote(definition, Usage(quantity=D(8), days=31)).total == quote(definition, Usage(quantity=D(8))).total


V1 = tariff({"type": "fixed", "amount": 3000}, blocks((None, 100)))
V2 = tariff({"type": "fixed", "amount": 3600}, blocks((None, 130)))


def test_a_version_change_mid_period_splits_the_period_and_the_usage_by_days():
    usage = Usage(quantity=D(30), period_start=date(2026, 1, 1), period_end=date(2026, 1, 30))
    result = quote_period([(date(2026, 1, 21), V2), (date(2025, 7, 1), V1)], usage)
    assert amounts(result) == [
        ("Fixed charge (2026-01-01 to 2026-01-20)", D(2000)),
        ("Water above 0 m3 (2026-01-01 to 2026-01-20)", D(2000)),
        ("Fixed charge (2026-01-21 to 2026-01-30)", D(1200)),
        ("Water above 0 m3 (2026-01-21 to 2026-01-30)", D(1300)),
    ]
    assert result.total == D(6500)


def test_versions_outside_the_period_do_not_split_it():
    usage = Usage(quantity=D(30), period_start=date(2026, 1, 1), period_end=date(2026, 1, 30))
    versions = [(date(2025, 1, 1), V2), (date(2025, 7, 1), V1), (date(2026, 2, 1), V2)]
    assert quote_period(versions, usage) == quote(V1, usage)


def test_a_period_before_the_first_version_is_refused():
    usage = Usage(quantity=D(3), period_start=date(2026, 1, 1), period_end=date(2026, 1, 30))
    with pytest.raises(TariffInvalid) as refused:
        quote_period([(date(2026, 1, 10), V1)], usage)
    assert "2026-01-01" in refused.value.problems[0].message


def test_rates_by_property_type_inside_one_definition_and_a_clear_refusal_without_one():
    definition = tariff(
        blocks((None, 100), when={"property_types": ["residential"]}),
        blocks((None, 300), when={"property_types": ["commercial"]}),
    )
    assert quote(definition, Usage(quantity=D(2), property_type="commercial")).total == D(600)
    with pytest.raises(TariffInvalid) as refused:
        quote(definition, Usage(quantity=D(2)))
    assert refused.value.problems[0].path == "usage.property_type"
    assert "commercial, residential" in refused.value.problems[0].message


def test_a_prepaid_package_priced_per_kwh():
    package = {"type": "package", "load_limit_w": 250, "hours": 12, "pricing": "per_kwh", "price_per_kwh": 400}
    package["payment"] = "prepaid"
    definition = {"currency": "RWF", "utility": "electricity", "unit": "kWh", "components": [package]}
    assert package_id(package) == "MG-250W-12H-KWH-PRE"
    result = quote(definition, Usage(quantity=D("4.5")))
    assert result.total == D(1800)
    assert result.lines[0].label == "Package MG-250W-12H-KWH-PRE (250 W, 12 h/day)"


def test_the_quote_json_has_lines_and_a_total_as_decimal_strings():
    result = quote(tariff(blocks((5, 340), (None, 720))), Usage(quantity=D("5.5")))
    data = json.loads(json.dumps(result.as_json()))
    assert data["total"] == "2060"
    assert [{key: line[key] for key in ("label", "quantity", "rate", "amount")} for line in data["lines"]] == [
        {"label": "Water 0-5 m3", "quantity": "5", "rate": "340", "amount": "1700"},
        {"label": "Water above 5 m3", "quantity": "0.5", "rate": "720", "amount": "360"},
    ]


def test_quote_refuses_an_invalid_definition_with_its_problems():
    with pytest.raises(TariffInvalid) as refused:
        quote(tariff(blocks((5, -340), (None, 720))), Usage(quantity=D(1)))
    assert refused.value.as_fields() == {
        "components[0].bands[0].rate": ["-340 is negative; rates and amounts must be 0 or more."]
    }


@pytest.mark.parametrize(
    ("usage", "path"),
    [
        (Usage(quantity=D(-1)), "usage.quantity"),
        (Usage(days=0), "usage.days"),
        (Usage(period_start=date(2026, 1, 5), period_end=date(2026, 1, 1)), "usage.period_end"),
        (Usage(period_start=date(2026, 1, 5)), "usage.period_end"),
        (Usage(counts={"taps": D(-2)}), "usage.counts.taps"),
    ],
)
def test_an_impossible_usage_is_refused_with_its_field(usage, path):
    with pytest.raises(TariffInvalid) as refused:
        quote(tariff(blocks((None, 100))), usage)
    assert [problem.path for problem in refused.value.problems] == [path]


GOOD = tariff(blocks((5, 340), (None, 720), id="water"))


def broken(change) -> dict:
    definition = copy.deepcopy(GOOD)
    change(definition)
    return definition


@pytest.mark.parametrize(
    ("definition", "path", "words"),
    [
        ("not a dict", "", "JSON object"),
        (broken(lambda d: d.update(colour="blue")), "colour", "Unknown key 'colour'"),
        (broken(lambda d: d["components"][0].update(bandz=[])), "components[0].bandz", "Unknown key"),
        (broken(lambda d: d.update(currency="XYZ")), "currency", "Unknown currency 'XYZ'"),
        (broken(lambda d: d.pop("currency")), "currency", "Missing"),
        (broken(lambda d: d.update(utility="gas")), "utility", "water, electricity, sanitation"),
        (broken(lambda d: d.update(unit="litre")), "unit", "m3, kL, kWh"),
        (broken(lambda d: d.update(components=[])), "components", "non-empty list"),
        (broken(lambda d: d["components"][0].update(type="tiered")), "components[0].type", "blocks, fixed"),
        (broken(lambda d: d["components"][0]["bands"][0].update(rate=-1)), "components[0].bands[0].rate", "negative"),
        (
            broken(lambda d: d["components"][0]["bands"][0].update(rate="abc")),
            "components[0].bands[0].rate",
            "not a number",
        ),
        (
            broken(lambda d: d["components"][0]["bands"][1].update(upto=10)),
            "components[0].bands[1].upto",
            "top band is missing",
        ),
        (
            broken(lambda d: d["components"][0]["bands"][0].update(upto=None)),
            "components[0].bands[0].upto",
            "Only the last band",
        ),
        (
            broken(lambda d: d["components"][0]["bands"].insert(1, {"upto": 3, "rate": 5})),
            "components[0].bands[1].upto",
            "not in order",
        ),
        (
            broken(lambda d: d["components"][0]["bands"][1].update({"from": 4})),
            "components[0].bands[1].from",
            "overlaps",
        ),
        (broken(lambda d: d["components"][0]["bands"][1].update({"from": 6})), "components[0].bands[1].from", "gap"),
        (broken(lambda d: d["components"][0].update(free=5, indigent_free=2)), "components[0].indigent_free", "larger"),
        (
            broken(lambda d: d["components"][0].update(method="stepped")),
            "components[0].method",
            "incremental, volumetric",
        ),
        (
            broken(lambda d: d["components"][0].update(when={"colour": ["x"]})),
            "components[0].when.colour",
            "Unknown key",
        ),
        (
            broken(lambda d: d["components"][0].update(when={"property_types": []})),
            "components[0].when.property_types",
            "non-empty",
        ),
        (broken(lambda d: d["components"].append({"type": "fixed"})), "components[1].amount", "Missing"),
        (
            broken(
                lambda d: d["components"].append(
                    {"type": "fixed", "amount": 1, "by": "meter_size", "amounts": {"a": 1}}
                )
            ),
            "components[1]",
            "not both",
        ),
        (
            broken(lambda d: d["components"].append({"type": "fixed", "by": "colour", "amounts": {"a": 1}})),
            "components[1].by",
            "meter_size",
        ),
        (
            broken(lambda d: d["components"].append({"type": "minimum", "amount": 5, "mode": "max"})),
            "components[1].mode",
            "floor, on_top",
        ),
        (
            broken(
                lambda d: d["components"].append({"type": "minimum", "amount": 5, "mode": "floor", "of": ["sewer"]})
            ),
            "components[1].of[0]",
            "not the id of a component before",
        ),
        (
            broken(lambda d: d["components"].append({"type": "derived", "base": "sewer", "percent": 5})),
            "components[1].base",
            "neither",
        ),
        (
            broken(lambda d: d["components"].append({"type": "derived", "base": "quantity", "percent": 5})),
            "components[1]",
            "rate",
        ),
        (broken(lambda d: d["components"].append({"type": "per_unit", "rate": 5})), "components[1].count", "Missing"),
        (
            broken(
                lambda d: d["components"].append(
                    {"type": "package", "load_limit_w": 0, "hours": 24, "pricing": "flat", "fee": 1}
                )
            ),
            "components[1].load_limit_w",
            "from 1",
        ),
        (
            broken(
                lambda d: d["components"].append(
                    {"type": "package", "load_limit_w": 100, "hours": 24, "pricing": "flat"}
                )
            ),
            "components[1].fee",
            "Missing",
        ),
        (broken(lambda d: d["components"].append({**d["components"][0]})), "components[1].id", "used twice"),
        (broken(lambda d: d["components"][0].update(id="Water!")), "components[0].id", "not a name"),
        (
            broken(lambda d: d.update(vat={"rate": 18, "mode": "exclusive", "applies_to": ["sewer"]})),
            "vat.applies_to[0]",
            "water",
        ),
        (broken(lambda d: d.update(vat={"rate": 180, "mode": "exclusive"})), "vat.rate", "at most 100"),
        (broken(lambda d: d.update(vat={"rate": 18})), "vat.mode", "exclusive, inclusive"),
        (broken(lambda d: d.update(rounding={"scope": "bill"})), "rounding.scope", "line, total"),
        (broken(lambda d: d.update(rounding={"to": "ten"})), "rounding.to", "currency, unit"),
        (broken(lambda d: d.update(standard_days=0)), "standard_days", "1 to 400"),
        (broken(lambda d: d.update(period="week")), "period", "month"),
    ],
)
def test_validate_says_where_each_problem_is_and_what_to_fix(definition, path, words):
    assert validate(GOOD) == []
    problems = validate(definition)
    assert any(problem.path == path and words in problem.message for problem in problems), problems


def test_validate_reports_every_problem_at_once():
    definition = {"currency": "XYZ", "utility": "gas", "unit": "m3", "components": [blocks((5, -1), (3, 2))]}
    assert [problem.path for problem in validate(definition)] == [
        "currency",
        "utility",
        "components[0].bands[0].rate",
        "components[0].bands[1].upto",  # not above the band before
        "components[0].bands[1].upto",  # and the top band is not open
    ]


def test_a_pricer_validates_once_and_keeps_its_own_copy_of_the_definition():
    with pytest.raises(TariffInvalid):
        Pricer(tariff(blocks((5, -1), (None, 2))))
    definition = tariff(blocks((None, 100)))
    pricer = Pricer(definition)
    definition["components"][0]["bands"][0]["rate"] = 999  # the caller's dict changes afterwards
    assert pricer.quote(Usage(quantity=D(3))).total == D(300)
    assert pricer.quote(Usage(quantity=D("3.0"))) is pricer.quote(Usage(quantity=D(3)))
    with pytest.raises(TariffInvalid):
        pricer.quote(Usage(quantity=D(-1)))
