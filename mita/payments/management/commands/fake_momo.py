"""`mita fake_momo`: serve the fake MTN MoMo Collection API on loopback for the demo."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from mita.integrations.momo.fake import FakeMomo
from mita.payments.momo import DEFAULTS


def _setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])


class Command(BaseCommand):
    help = (
        "Serve a fake MTN MoMo Collection API on loopback: every request is paid a moment later (MTN's sandbox "
        "numbers fail as they do there) and called back once; requests are listed at /__requests."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8630)
        parser.add_argument("--settle-delay", type=float, default=5.0, help="seconds before the payer answers")
        parser.add_argument("--no-auto-settle", action="store_true", help="leave requests pending until POST /__settle")

    def handle(self, *args: Any, **options: Any) -> None:
        fake = FakeMomo(
            subscription_key=_setting("MITA_MOMO_SUBSCRIPTION_KEY"),
            api_user=_setting("MITA_MOMO_API_USER"),
            api_key=_setting("MITA_MOMO_API_KEY"),
            target_environment=_setting("MITA_MOMO_TARGET_ENVIRONMENT"),
            host=options["host"],
            port=options["port"],
            auto_settle=not options["no_auto_settle"],
            settle_delay=options["settle_delay"],
        )
        self.stdout.write(f"Fake MTN MoMo on {fake.base_url} (requests: {fake.base_url}/__requests)")
        try:
            fake.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            fake.stop()
