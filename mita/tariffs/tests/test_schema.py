"""docs/tariff-schema.json is the code's SCHEMA, and the JSON Schema and validate() agree on what is a definition."""

import copy
import json
from io import StringIO
from pathlib import Path

import jsonschema
import pytest
from django.core.management import call_command
from hypothesis import given, settings

from mita.tariffs.pricing import SCHEMA, validate
from mita.tariffs.tests.test_properties import definitions

DOCS = Path(__file__).resolve().parents[3] / "docs"


def schema_errors(definition) -> list[str]:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    return [error.message for error in validator.iter_errors(definition)]


def test_the_schema_file_in_docs_is_the_schema_in_the_code():
    # Regenerate with: mita tariff schema > docs/tariff-schema.json
    assert json.loads((DOCS / "tariff-schema.json").read_text()) == SCHEMA


def test_mita_tariff_schema_prints_it():
    out = StringIO()
    call_command("tariff", "schema", stdout=out)
    assert json.loads(out.getvalue()) == SCHEMA


def test_the_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", sorted((DOCS / "tariffs").glob("*.json")), ids=lambda path: path.name)
def test_every_example_passes_the_json_schema(path):
    assert schema_errors(json.loads(path.read_text())) == []


@settings(max_examples=100)
@given(definitions())
def test_what_validate_accepts_the_json_schema_accepts(definition):
    assert validate(definition) == []
    assert schema_errors(definition) == []


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(currency="XYZ"),
        lambda d: d.update(colour="blue"),
        lambda d: d["components"][0]["bands"][0].update(rate="-1"),
        lambda d: d["components"][0].update(method="stepped"),
        lambda d: d["components"].append({"type": "fixed"}),
        lambda d: d["components"].append({"type": "package", "load_limit_w": 100, "hours": 30, "pricing": "flat"}),
        lambda d: d.update(vat={"rate": 18}),
    ],
)
def test_what_the_json_schema_refuses_validate_refuses_too(change):
    definition = json.loads((DOCS / "tariffs" / "wasac-2019.json").read_text())
    broken = copy.deepcopy(definition)
    change(broken)
    assert schema_errors(broken)
    assert validate(broken)
