"""`mita fake_mpesa`: serve a fake Daraja on loopback for the demo, playing Safaricom's callbacks too."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from mita.integrations.mpesa.fake import FakeDaraja
from mita.payments.models_mpesa import MpesaChannelConfig
from mita.payments.mpesa import mpesa_callback_urls, mpesa_setting


class Command(BaseCommand):
    help = (
        "Serve a fake M-Pesa Daraja API on loopback. Every operator set up for M-Pesa has its paybill's URLs "
        "registered and its passkey known; POST /__c2b pays a paybill, STK pushes are answered by themselves a "
        "moment later (or at POST /__stk/complete); the state is at /__state."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8640)
        parser.add_argument(
            "--passkey",
            action="append",
            default=[],
            metavar="SHORTCODE=PASSKEY",
            help="a paybill's STK passkey (repeatable); the operators' own are known already",
        )
        parser.add_argument(
            "--stk-result",
            default="0",
            help='the ResultCode every STK push gets by itself: 0 paid, 1032 cancelled, ... ("none" to wait)',
        )
        parser.add_argument("--stk-delay", type=float, default=3.0, help="seconds before the customer answers")
        parser.add_argument(
            "--no-validation", action="store_true", help="send confirmations only, as for a paybill without it"
        )
        parser.add_argument(
            "--drop-stk-callbacks",
            action="store_true",
            help="never send STK results to the CallBackURL (lost callbacks): only the STK query tells the outcome",
        )
        parser.add_argument(
            "--no-operators", action="store_true", help="do not read the operators' paybills from the database"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        passkeys: dict[str, str] = {}
        for entry in options["passkey"]:
            shortcode, sep, passkey = entry.partition("=")
            if not sep or not shortcode.strip() or not passkey.strip():
                raise CommandError(f"--passkey takes SHORTCODE=PASSKEY, not {entry!r}")
            passkeys[shortcode.strip()] = passkey.strip()
        try:
            stk_result = None if options["stk_result"] == "none" else int(options["stk_result"])
        except ValueError as error:
            raise CommandError("--stk-result takes a whole number or none") from error
        configs = [] if options["no_operators"] else self._configs()
        for config in configs:
            if config.passkey:
                passkeys.setdefault(config.shortcode, config.passkey)
        fake = FakeDaraja(
            consumer_key=str(mpesa_setting("MITA_MPESA_CONSUMER_KEY")),
            consumer_secret=str(mpesa_setting("MITA_MPESA_CONSUMER_SECRET")),
            passkeys=passkeys,
            host=options["host"],
            port=options["port"],
            stk_result=stk_result,
            stk_delay=options["stk_delay"],
            external_validation=not options["no_validation"],
            stk_callbacks=not options["drop_stk_callbacks"],
        )
        for config in configs:
            urls = mpesa_callback_urls(config=config)
            fake.register(
                config.shortcode,
                confirmation_url=urls.confirmation,
                validation_url=urls.validation,
                response_type="Completed",
            )
            self.stdout.write(f"Paybill {config.shortcode} of operator {config.operator_id}: {urls.confirmation}")
        self.stdout.write(f"Fake Daraja on {fake.base_url} (state: {fake.base_url}/__state)")
        try:
            fake.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            fake.stop()

    def _configs(self) -> list[MpesaChannelConfig]:
        try:
            return list(MpesaChannelConfig.objects.filter(enabled=True).order_by("pk"))
        except DatabaseError as error:  # not migrated yet: serve without them
            self.stderr.write(f"The operators' paybills could not be read ({error}); serving without them.")
            return []
