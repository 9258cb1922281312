"""`mita tariff quote`: the engine from the command line; a bad file or definition prints problems and exits 2."""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "tariffs"


def run(*args: str) -> dict:
    out = StringIO()
    call_command("tariff", "quote", *args, stdout=out)
    return json.loads(out.getvalue())


def test_quote_prints_the_lines_and_total_as_json():
    result = run("--tariff", str(EXAMPLES / "wasac-2019.json"), "--usage", "51", "--property-type", "residential")
    assert set(result) == {"lines", "total"}
    assert [(line["label"], line["amount"]) for line in result["lines"]] == [
        ("Water 0-5 m3", "1700"),
        ("Water 5-20 m3", "10800"),
        ("Water 20-50 m3", "25350"),
        ("Water above 50 m3", "877"),
    ]
    assert result["total"] == "38727"
    assert all(set(line) >= {"label", "quantity", "rate", "amount"} for line in result["lines"])


def test_indigent_and_days_change_the_quote():
    johannesburg = str(EXAMPLES / "johannesburg-domestic-water.json")
    # 28.56 + 24.14 = 52.70, + VAT 15% of 52.70 = 7.905, rounded once
    assert run("--tariff", johannesburg, "--usage", "12")["total"] == "60.61"
    assert run("--tariff", johannesburg, "--usage", "12", "--indigent")["total"] == "27.76"
    minigrid = str(EXAMPLES / "minigrid-100w-flat.json")
    assert run("--tariff", minigrid, "--usage", "0", "--days", "15")["total"] == "1500"


def test_counts_and_prior_purchases_are_options():
    electricity = str(EXAMPLES / "rwanda-electricity-residential-2025.json")
    assert run("--tariff", electricity, "--usage", "10", "--prior", "15")["total"] == "1995"


def test_a_definition_that_does_not_validate_prints_its_problems_and_exits_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"currency": "XYZ", "utility": "water", "unit": "m3", "components": []}))
    err = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("tariff", "quote", "--tariff", str(bad), "--usage", "1", stdout=StringIO(), stderr=err)
    assert failed.value.returncode == 2
    assert "currency: Unknown currency 'XYZ'" in err.getvalue()
    assert "components: Give a non-empty list" in err.getvalue()


@pytest.mark.parametrize(("content", "words"), [(None, "cannot read"), ("{not json", "not a JSON file")])
def test_a_missing_or_broken_file_exits_2(tmp_path, content, words):
    path = tmp_path / "tariff.json"
    if content is not None:
        path.write_text(content)
    err = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("tariff", "quote", "--tariff", str(path), "--usage", "1", stdout=StringIO(), stderr=err)
    assert failed.value.returncode == 2
    assert words in err.getvalue()


def test_the_mita_command_in_a_real_process(tmp_path):
    mita = [sys.executable, "-m", "mita.cli"]
    env = {**os.environ, "MITA_VAR_DIR": str(tmp_path)}
    good = subprocess.run(
        [*mita, "tariff", "quote", "--tariff", str(EXAMPLES / "mgramseva-village.json"), "--usage", "25"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["total"] == "135.00"
    bad = subprocess.run(
        [*mita, "tariff", "quote", "--tariff", str(EXAMPLES / "wasac-2019.json"), "--usage", "25"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert bad.returncode == 2
    assert "usage.property_type: Give the property type" in bad.stderr
    assert bad.stdout == ""
