"""Registrations of metering: imports (the home card, the benchmark)."""

from django.utils.translation import gettext_lazy as _

from mita.core.navigation import Card, register_card
from mita.metering import bench_imports  # noqa: F401  (registers `mita bench readings-import`)
from mita.metering.selectors_imports import IMPORT_ROLES

register_card(
    Card(
        key="metering.reading_imports",
        title=_("Reading files"),
        description=_("Import files of readings from handhelds or contractors; export reading books for them."),
        url_name="metering:reading_import_list",
        roles=frozenset(IMPORT_ROLES),
        order=46,
    )
)
