"""`mita tariff quote --tariff FILE --usage X`: price a usage with a tariff definition file, print the quote as JSON.

`mita tariff schema` prints the definition's JSON Schema (docs/tariff-schema.json is its output).
"""

import json
from argparse import ArgumentParser, ArgumentTypeError
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from mita.tariffs.pricing import SCHEMA, TariffInvalid, Usage, quote


def _quantity(text: str) -> Decimal:
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ArgumentTypeError(f"{text!r} is not a number") from None
    if not number.is_finite() or number < 0:
        raise ArgumentTypeError(f"{text!r} is not a quantity of 0 or more")
    return number


def _count(text: str) -> tuple[str, Decimal]:
    name, _equals, value = text.partition("=")
    if not name or not _equals:
        raise ArgumentTypeError(f"{text!r} is not NAME=NUMBER, e.g. taps=3")
    return name, _quantity(value)


class Command(BaseCommand):
    help = "Tariffs from the command line: `mita tariff quote --tariff FILE --usage X` prints the bill lines as JSON."

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        quote_parser = actions.add_parser("quote", help="Price one usage with a tariff definition (JSON file).")
        quote_parser.add_argument("--tariff", required=True, help="a tariff definition file (docs/tariffs.md)")
        quote_parser.add_argument("--usage", required=True, type=_quantity, help="m3 or kWh consumed in the period")
        quote_parser.add_argument("--property-type", default="", help="e.g. residential, commercial, public_tap")
        quote_parser.add_argument("--connection-type", default="")
        quote_parser.add_argument("--meter-size", default="", help='e.g. "15mm"')
        quote_parser.add_argument("--days", type=int, help="days in the period (default: the standard period)")
        quote_parser.add_argument("--indigent", action="store_true", help="the household is on the indigent register")
        quote_parser.add_argument("--prior", type=_quantity, default=Decimal(0), help="units already bought this month")
        quote_parser.add_argument("--count", type=_count, action="append", default=[], help="NAME=N, e.g. taps=3")
        actions.add_parser("schema", help="Print the JSON Schema of a tariff definition.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "schema":
            self.stdout.write(json.dumps(SCHEMA, indent=2))
            return
        definition = self._read(Path(options["tariff"]))
        usage = Usage(
            quantity=options["usage"],
            property_type=options["property_type"],
            connection_type=options["connection_type"],
            meter_size=options["meter_size"],
            days=options["days"],
            indigent=options["indigent"],
            prior_quantity=options["prior"],
            counts=dict(options["count"]),
        )
        try:
            result = quote(definition, usage)
        except TariffInvalid as invalid:
            for problem in invalid.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                f"{options['tariff']}: the tariff cannot price this usage; fix the problems above.",
                returncode=2,
            ) from invalid
        self.stdout.write(json.dumps(result.as_json()))

    def _read(self, path: Path) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
        except OSError as error:
            self.stderr.write(f"{path}: cannot read the file ({error.strerror or error}).")
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            self.stderr.write(f"{path}: not a JSON file ({error}).")
        raise CommandError(f"{path}: not a tariff definition file.", returncode=2)
