"""Golden tests: real published tariffs (docs/tariffs/*.json) priced for usages worked out by hand, band edges included."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from mita.tariffs.pricing import Usage, package_id, quote, validate

EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "tariffs"
D = Decimal


def load(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def lines_of(result) -> list[tuple[str, str, str, str]]:
    return [(line.label, str(line.quantity), str(line.rate), str(line.amount)) for line in result.lines]


def test_every_example_file_is_a_valid_definition_with_its_source():
    files = sorted(EXAMPLES.glob("*.json"))
    assert len(files) >= 11
    for path in files:
        definition = json.loads(path.read_text())
        assert validate(definition) == [], path.name
        assert definition["source"], path.name


# WASAC, February 2019 (RWF, no minor unit): residential 0-5 340, 5-20 720, 20-50 845, >50 877.
@pytest.mark.parametrize(
    ("quantity", "lines", "total"),
    [
        ("0", [], "0"),
        ("5", [("Water 0-5 m3", "5", "340", "1700")], "1700"),
        ("5.5", [("Water 0-5 m3", "5", "340", "1700"), ("Water 5-20 m3", "0.5", "720", "360")], "2060"),
        ("20", [("Water 0-5 m3", "5", "340", "1700"), ("Water 5-20 m3", "15", "720", "10800")], "12500"),
        (
            "25",
            [
                ("Water 0-5 m3", "5", "340", "1700"),
                ("Water 5-20 m3", "15", "720", "10800"),
                ("Water 20-50 m3", "5", "845", "4225"),
            ],
            "16725",
        ),
        (
            "50",
            [
                ("Water 0-5 m3", "5", "340", "1700"),
                ("Water 5-20 m3", "15", "720", "10800"),
                ("Water 20-50 m3", "30", "845", "25350"),
            ],
            "37850",
        ),
        (
            "51",
            [
                ("Water 0-5 m3", "5", "340", "1700"),
                ("Water 5-20 m3", "15", "720", "10800"),
                ("Water 20-50 m3", "30", "845", "25350"),
                ("Water above 50 m3", "1", "877", "877"),
            ],
            "38727",
        ),
    ],
)
def test_wasac_2019_residential(quantity, lines, total):
    result = quote(load("wasac-2019.json"), Usage(quantity=D(quantity), property_type="residential"))
    assert lines_of(result) == lines
    assert result.total == D(total)
    assert result.currency == "RWF"
    assert all(line.head == "water_sales" for line in result.lines)


@pytest.mark.parametrize(
    ("property_type", "quantity", "lines", "total"),
    [
        ("commercial", "50", [("Water 0-50 m3", "50", "877", "43850")], "43850"),
        (
            "industrial",
            "60",
            [("Water 0-50 m3", "50", "877", "43850"), ("Water above 50 m3", "10", "895", "8950")],
            "52800",
        ),
        ("public_tap", "10", [("Water (public tap) above 0 m3", "10", "323", "3230")], "3230"),
        ("public_tap", "100", [("Water (public tap) above 0 m3", "100", "323", "32300")], "32300"),
    ],
)
def test_wasac_2019_non_residential_and_public_tap(property_type, quantity, lines, total):
    result = quote(load("wasac-2019.json"), Usage(quantity=D(quantity), property_type=property_type))
    assert lines_of(result) == lines
    assert result.total == D(total)


@pytest.mark.parametrize(
    ("technology", "quantity", "total"),
    [
        ("gravity", "10", "3380"),
        ("electric-pumping", "10", "8330"),
        ("diesel", "3", "3261"),
        ("complex", "7.5", "5280"),
        ("turbo", "12", "9768"),
        ("gravity", "0", "0"),
    ],
)
def test_rura_2017_rural_maximum_tariffs(technology, quantity, total):
    result = quote(load(f"rura-2017-{technology}.json"), Usage(quantity=D(quantity)))
    assert result.total == D(total)
    assert sum(line.quantity for line in result.lines) == D(quantity)


@pytest.mark.parametrize(
    ("quantity", "prior", "lines", "total"),
    [
        ("20", "0", [("Electricity 0-20 kWh", "20", "89", "1780")], "1780"),
        ("12.5", "0", [("Electricity 0-20 kWh", "12.5", "89", "1113")], "1113"),  # 1112.5 rounds half up
        (
            "50",
            "0",
            [("Electricity 0-20 kWh", "20", "89", "1780"), ("Electricity 20-50 kWh", "30", "310", "9300")],
            "11080",
        ),
        (
            "75",
            "0",
            [
                ("Electricity 0-20 kWh", "20", "89", "1780"),
                ("Electricity 20-50 kWh", "30", "310", "9300"),
                ("Electricity above 50 kWh", "25", "369", "9225"),
            ],
            "20305",
        ),
        # prepaid: a second purchase in the month starts where the first ended
        (
            "10",
            "15",
            [("Electricity 0-20 kWh", "5", "89", "445"), ("Electricity 20-50 kWh", "5", "310", "1550")],
            "1995",
        ),
        (
            "10",
            "45",
            [("Electricity 20-50 kWh", "5", "310", "1550"), ("Electricity above 50 kWh", "5", "369", "1845")],
            "3395",
        ),
        ("10", "60", [("Electricity above 50 kWh", "10", "369", "3690")], "3690"),
    ],
)
def test_rwanda_residential_electricity_october_2025(quantity, prior, lines, total):
    definition = load("rwanda-electricity-residential-2025.json")
    result = quote(definition, Usage(quantity=D(quantity), prior_quantity=D(prior)))
    assert lines_of(result) == lines
    assert result.total == D(total)
    assert all(line.head == "electricity_sales" for line in result.lines)


def test_rwanda_electricity_three_purchases_cost_what_one_purchase_of_the_month_costs():
    definition = load("rwanda-electricity-residential-2025.json")
    purchases = [D(15), D(25), D(35)]
    prior = D(0)
    paid = D(0)
    for units in purchases:
        paid += quote(definition, Usage(quantity=units, prior_quantity=prior)).total
        prior += units
    assert paid == quote(definition, Usage(quantity=D(75))).total == D(20305)


@pytest.mark.parametrize(
    ("quantity", "lines", "total"),
    [
        ("0", [("Minimum charge", "1", "50", "50.00")], "50.00"),
        ("10", [("Water 0-10 kL", "10", "2", "20.00"), ("Minimum charge", "1", "50", "50.00")], "70.00"),
        (
            "25",
            [
                ("Water 0-10 kL", "10", "2", "20.00"),
                ("Water 10-20 kL", "10", "2.5", "25.00"),
                ("Water 20-30 kL", "5", "8", "40.00"),
                ("Minimum charge", "1", "50", "50.00"),
            ],
            "135.00",
        ),
        (
            "40",
            [
                ("Water 0-10 kL", "10", "2", "20.00"),
                ("Water 10-20 kL", "10", "2.5", "25.00"),
                ("Water 20-30 kL", "10", "8", "80.00"),
                ("Water 30-40 kL", "10", "12", "120.00"),
                ("Minimum charge", "1", "50", "50.00"),
            ],
            "295.00",
        ),
        (
            "45",
            [
                ("Water 0-10 kL", "10", "2", "20.00"),
                ("Water 10-20 kL", "10", "2.5", "25.00"),
                ("Water 20-30 kL", "10", "8", "80.00"),
                ("Water 30-40 kL", "10", "12", "120.00"),
                ("Water above 40 kL", "5", "15", "75.00"),
                ("Minimum charge", "1", "50", "50.00"),
            ],
            "370.00",
        ),
    ],
)
def test_mgramseva_slabs_with_the_minimum_charge_on_top(quantity, lines, total):
    result = quote(load("mgramseva-village.json"), Usage(quantity=D(quantity)))
    assert lines_of(result) == lines
    assert result.total == D(total)


@pytest.mark.parametrize(
    ("quantity", "indigent", "lines", "vat", "total"),
    [
        ("6", False, [("Water free allowance", "6", "0", "0.00")], "0", "0.00"),
        (
            "10",
            False,
            [
                ("Water free allowance", "6", "0", "0.00"),
                ("Water 6-10 kL", "4", "7.14", "28.56"),
                ("VAT 15%", "28.56", "0.15", "4.28"),
            ],
            "4.28",
            "32.84",
        ),
        (
            "20",
            False,
            [
                ("Water free allowance", "6", "0", "0.00"),
                ("Water 6-10 kL", "4", "7.14", "28.56"),
                ("Water 10-15 kL", "5", "12.07", "60.35"),
                ("Water 15-20 kL", "5", "17.65", "88.25"),
                ("VAT 15%", "177.16", "0.15", "26.57"),  # 4.28 + 9.05 + 13.24, VAT rounded per line
            ],
            "26.57",
            "203.73",
        ),
        (
            "45",
            False,
            [
                ("Water free allowance", "6", "0", "0.00"),
                ("Water 6-10 kL", "4", "7.14", "28.56"),
                ("Water 10-15 kL", "5", "12.07", "60.35"),
                ("Water 15-20 kL", "5", "17.65", "88.25"),
                ("Water 20-30 kL", "10", "24.03", "240.30"),
                ("Water 30-40 kL", "10", "25.81", "258.10"),
                ("Water above 40 kL", "5", "32.27", "161.35"),
                ("VAT 15%", "836.91", "0.15", "125.54"),
            ],
            "125.54",
            "962.45",
        ),
        # a household on the indigent register gets 10 kL free
        (
            "12",
            True,
            [
                ("Water free allowance", "10", "0", "0.00"),
                ("Water 10-15 kL", "2", "12.07", "24.14"),
                ("VAT 15%", "24.14", "0.15", "3.62"),
            ],
            "3.62",
            "27.76",
        ),
    ],
)
def test_johannesburg_stepped_domestic_water_6_kl_free_plus_15_percent_vat(quantity, indigent, lines, vat, total):
    result = quote(load("johannesburg-domestic-water.json"), Usage(quantity=D(quantity), indigent=indigent))
    assert lines_of(result) == lines
    assert result.vat_total == D(vat)
    assert result.total == D(total)
    assert [line.head for line in result.lines if line.kind == "vat"] == (["vat"] if D(vat) else [])


@pytest.mark.parametrize(
    ("water", "lines", "total"),
    [
        ("6", [("Sanitation step 1 (0-4.2 kL)", "4.2", "0", "0.00")], "0.00"),  # 70% of 6 kL
        (
            "10.5",
            [
                ("Sanitation step 1 (0-4.2 kL)", "4.2", "0", "0.00"),
                ("Sanitation step 2 (4.2-7.35 kL)", "3.15", "10.18", "32.07"),
            ],
            "32.07",
        ),
        (
            "20",
            [
                ("Sanitation step 1 (0-4.2 kL)", "4.2", "0", "0.00"),
                ("Sanitation step 2 (4.2-7.35 kL)", "3.15", "10.18", "32.07"),
                ("Sanitation step 3 (7.35-14 kL)", "6.65", "21.96", "146.03"),
            ],
            "178.10",
        ),
        (
            "50",
            [
                ("Sanitation step 1 (0-4.2 kL)", "4.2", "0", "0.00"),
                ("Sanitation step 2 (4.2-7.35 kL)", "3.15", "10.18", "32.07"),
                ("Sanitation step 3 (7.35-14 kL)", "6.65", "21.96", "146.03"),
                ("Sanitation step 4 (14-24.5 kL)", "10.5", "28.21", "296.21"),
                ("Sanitation step 5 (24.5-35 kL)", "10.5", "38.88", "408.24"),
            ],
            "882.55",
        ),
        # capped at 35 kL of sewage: 80 kL of water costs what 50 kL costs
        (
            "80",
            [
                ("Sanitation step 1 (0-4.2 kL)", "4.2", "0", "0.00"),
                ("Sanitation step 2 (4.2-7.35 kL)", "3.15", "10.18", "32.07"),
                ("Sanitation step 3 (7.35-14 kL)", "6.65", "21.96", "146.03"),
                ("Sanitation step 4 (14-24.5 kL)", "10.5", "28.21", "296.21"),
                ("Sanitation step 5 (24.5-35 kL)", "10.5", "38.88", "408.24"),
            ],
            "882.55",
        ),
    ],
)
def test_cape_town_sanitation_on_70_percent_of_water_capped_at_35_kl(water, lines, total):
    result = quote(load("cape-town-sanitation.json"), Usage(quantity=D(water)))
    assert lines_of(result) == lines
    assert result.total == D(total)


@pytest.mark.parametrize(
    ("quantity", "days", "total"), [("0", None, "3000"), ("42.7", None, "3000"), ("10", 15, "1500")]
)
def test_mini_grid_100_w_package_for_a_flat_monthly_fee(quantity, days, total):
    definition = load("minigrid-100w-flat.json")
    result = quote(definition, Usage(quantity=D(quantity), days=days))
    assert package_id(definition["components"][0]) == "MG-100W-24H-FLAT"
    assert [line.label for line in result.lines] == ["Household package MG-100W-24H-FLAT (100 W, 24 h/day)"]
    assert result.total == D(total)
    assert result.lines[0].head == "electricity_sales"
