"""`mita i18n compile`: compile every .po catalogue to .mo with polib (no system gettext needed).

`mita makemessages -a` (Django's, needs GNU gettext) refreshes the catalogues from the code.
"""

from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Compile the translation catalogues (mita i18n compile)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["compile"])

    def handle(self, *args: Any, **options: Any) -> None:
        roots = [Path(p) for p in settings.LOCALE_PATHS]
        catalogues = [po for root in roots for po in sorted(root.glob("*/LC_MESSAGES/*.po"))]
        if not catalogues:
            raise CommandError(f"No .po catalogues under {', '.join(map(str, roots))}")
        for po_path in catalogues:
            try:
                catalogue = polib.pofile(str(po_path))
            except (OSError, ValueError) as error:
                raise CommandError(f"{po_path}: {error}") from error
            catalogue.save_as_mofile(str(po_path.with_suffix(".mo")))
            self.stdout.write(f"{po_path.parent.parent.name}: {catalogue.percent_translated()}% translated")
