"""`mita fake_sms`: serve the fake Africa's Talking SMS API on loopback for the demo."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.urls import reverse

from mita.integrations.africastalking.fake import FakeAfricasTalking


def default_callback_url() -> str:
    """Where delivery reports go: this installation's callback, if it has a delivery secret."""
    if not settings.MITA_AT_DELIVERY_SECRET:
        return ""
    path = reverse("notifications:at_delivery_report", args=[settings.MITA_AT_DELIVERY_SECRET])
    return settings.MITA_PUBLIC_URL + path


class Command(BaseCommand):
    help = "Serve a fake Africa's Talking SMS API on loopback; messages are listed at /__messages."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8610)
        parser.add_argument("--api-key", default=None, help="the apiKey to require (default: MITA_AT_API_KEY)")
        parser.add_argument(
            "--callback-url",
            default=None,
            help="delivery reports go here (default: this site's callback if MITA_AT_DELIVERY_SECRET)",
        )
        parser.add_argument(
            "--auto-deliver",
            default="Success",
            help='report each accepted message with this status a second later ("" to stop)',
        )

    def handle(self, *args: Any, **options: Any) -> None:
        callback_url = options["callback_url"] if options["callback_url"] is not None else default_callback_url()
        fake = FakeAfricasTalking(
            api_key=options["api_key"] or settings.MITA_AT_API_KEY,
            host=options["host"],
            port=options["port"],
            callback_url=callback_url,
            auto_deliver=options["auto_deliver"],
        )
        self.stdout.write(f"Fake Africa's Talking on {fake.base_url} (messages: {fake.base_url}/__messages)")
        if callback_url:
            self.stdout.write(f"Delivery reports to {callback_url}")
        else:
            self.stdout.write("No delivery reports: set MITA_AT_DELIVERY_SECRET or give --callback-url")
        try:
            fake.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            fake.stop()
