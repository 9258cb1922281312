"""`mita fake-land-registry`: serve the fake land registry (parcels by UPI) on loopback for the demo."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from mita.integrations.landregistry.fake import FakeLandRegistry


class Command(BaseCommand):
    help = "Serve a fake land registry on loopback, seeded with the demo's parcels (listed at /__parcels)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8660)
        parser.add_argument(
            "--api-key", default=None, help="the X-Api-Key to require (default: MITA_LAND_REGISTRY_API_KEY)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        fake = FakeLandRegistry(
            api_key=options["api_key"] or settings.MITA_LAND_REGISTRY_API_KEY,
            host=options["host"],
            port=options["port"],
        )
        count = len(fake.parcels)
        self.stdout.write(f"Fake land registry on {fake.base_url} with {count} parcels ({fake.base_url}/__parcels)")
        try:
            fake.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            fake.stop()
