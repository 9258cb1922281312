"""`mita bench <name> [options]`: run one registered benchmark and print its figures as one JSON line."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from mita.core.bench import BENCHMARKS, machine_figures, machine_sample


class Command(BaseCommand):
    help = "Run a benchmark on a scratch database and print one JSON line (e.g. mita bench payments)."

    def add_arguments(self, parser: CommandParser) -> None:
        subparsers = parser.add_subparsers(dest="benchmark", required=True, parser_class=CommandParser)
        for benchmark in sorted(BENCHMARKS.values(), key=lambda b: b.name):
            sub = subparsers.add_parser(benchmark.name, help=benchmark.help)
            sub.add_argument("--keep", action="store_true", help="Keep the scratch database afterwards.")
            benchmark.add_arguments(sub)

    def handle(self, *args: Any, **options: Any) -> None:
        before = machine_sample()
        figures = BENCHMARKS[options["benchmark"]].run(options)
        # A benchmark run in a child process (--database naming another engine) brings the child's own.
        figures.setdefault("machine", machine_figures(before))
        self.stdout.write(json.dumps(figures, sort_keys=False))
