"""`mita fake_gateway`: serve the fake payment gateway (Flutterwave Standard v3) on loopback for the demo."""

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, connections

from mita.integrations.gateway.fake import FakeCheckout, FakeFlutterwave
from mita.payments.online import online_setting, online_webhook_target

logger = logging.getLogger(__name__)


def _webhook_from_mita(checkout: FakeCheckout) -> tuple[str, str] | None:
    """Each operator's "dashboard": the webhook URL and secret hash of its online payment settings in Mita."""
    try:
        return online_webhook_target(tx_ref=checkout.tx_ref)
    except DatabaseError as error:
        logger.warning("fake gateway: no webhook for %s: %s", checkout.tx_ref, error)
        return None
    finally:
        connections.close_all()  # each request of the fake is a thread of its own: leave no connection behind


class Command(BaseCommand):
    help = (
        "Serve a fake payment gateway (Flutterwave Standard v3) on loopback: checkout pages to pay, decline or cancel "
        "on, webhooks to each operator's webhook URL with its secret hash (read from Mita's settings), and "
        "verification; checkouts are listed at /__checkouts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8650)
        parser.add_argument(
            "--only-installation-key",
            action="store_true",
            help="refuse the operators' own secret keys (by default any FLWSECK... key is a merchant)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        fake = FakeFlutterwave(
            secret_key=str(online_setting("MITA_GATEWAY_SECRET_KEY")),
            webhook_for=_webhook_from_mita,
            accept_any_key=not options["only_installation_key"],
            host=options["host"],
            port=options["port"],
        )
        self.stdout.write(f"Fake payment gateway on {fake.base_url} (checkouts: {fake.base_url}/__checkouts)")
        try:
            fake.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            fake.stop()
