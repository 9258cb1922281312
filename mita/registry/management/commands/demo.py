"""`mita demo [--accounts N]`: build the demo deployment, deterministically, and publish its users.

The demo users' password is DEMO_PASSWORD below (also in the README); only this command creates it.
"""

import json
import random
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from mita.core.demo import DemoContext, demo_steps
from mita.registry.models import Regulator

DEMO_PASSWORD = "mita-demo-2026"  # noqa: S105 - the documented demo password
SEED = 2026


class Command(BaseCommand):
    help = "Build the demo deployment: a regulator, districts, three operators, users for every role."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--accounts",
            type=int,
            default=300,
            help="customer accounts per operator, for the modules that add customers (default 300)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["accounts"] < 0:
            raise CommandError("--accounts must be 0 or more")
        users_file = settings.VAR_DIR / "demo-users.json"
        if Regulator.objects.exists():
            if not users_file.exists():
                raise CommandError(
                    "This database already has a deployment but var/demo-users.json is missing. "
                    "Delete var/mita.sqlite3 (make clean) and run `mita demo` again."
                )
            self.stdout.write("The demo is already loaded; its users are in var/demo-users.json.")
            return
        ctx = DemoContext(
            accounts=options["accounts"],
            password=DEMO_PASSWORD,
            rng=random.Random(SEED),
            log=lambda line: self.stdout.write(f"  {line}"),
        )
        with transaction.atomic():
            for step in demo_steps():
                self.stdout.write(f"{step.name}…")
                step.run(ctx)
        users_file.write_text(json.dumps(ctx.users, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        self.stdout.write(
            self.style.SUCCESS(f"Demo ready: {len(ctx.users)} logins written to {users_file}; password {DEMO_PASSWORD}")
        )
