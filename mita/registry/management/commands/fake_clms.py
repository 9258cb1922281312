"""`mita fake-clms`: serve the fake licensing system (CLMS) on loopback for the demo."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mita.integrations.clms.fake import SEED_FILE, FakeClms, seed_licences


class Command(BaseCommand):
    help = "Serve a fake licensing system (CLMS) on loopback, seeded with the demo's licences (listed at /__licences)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8620)
        parser.add_argument("--token", default=None, help="the bearer token to require (default: MITA_CLMS_TOKEN)")
        parser.add_argument(
            "--licences", type=Path, default=SEED_FILE, help="a JSON list of licences to serve (default: the demo's)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            licences = seed_licences(options["licences"])
        except (OSError, ValueError) as error:
            raise CommandError(f"cannot read the licences from {options['licences']}: {error}") from error
        fake = FakeClms(
            token=options["token"] or settings.MITA_CLMS_TOKEN,
            host=options["host"],
            port=options["port"],
            licences=licences,
        )
        self.stdout.write(f"Fake CLMS on {fake.base_url} with {len(licences)} licences ({fake.base_url}/__licences)")
        try:
            fake.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            fake.stop()
