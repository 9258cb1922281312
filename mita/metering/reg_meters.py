"""Registrations of metering: meters — the home card "Meters and stores", meters by serial in the global search,
the benchmark `meters-receive` and the demo step that makes stores, meter models and meters (order 58; the
installations step, 59, takes `demo_meters_in_store`)."""

from django.urls import reverse
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _

from mita.core.access import Access
from mita.core.demo import register_demo_step
from mita.core.navigation import Card, register_card
from mita.core.search import SearchHit, register_search
from mita.metering import bench_meters  # noqa: F401  (registers `mita bench meters-receive`)
from mita.metering.demo_meters import build_meters, demo_meters_in_store
from mita.metering.selectors_meters import METER_READ_ROLES, meters_visible_to

__all__ = ["demo_meters_in_store"]

register_card(
    Card(
        key="metering.meters",
        title=_("Meters and stores"),
        description=_("Meter models, meters and their stores, batches received, movements and calibration."),
        url_name="metering:meter_list",
        roles=frozenset(METER_READ_ROLES),
        order=62,
    )
)


def _search_meters(access: Access, query: str) -> list[SearchHit]:
    """Meters whose serial starts with the query (whatever its case), for the global search box."""
    if access.operator is None or not access.has_role(*METER_READ_ROLES):
        return []
    meters = meters_visible_to(access=access, serial=query)[:10]
    return [
        SearchHit(
            kind=gettext_now("Meter"),
            title=f"{meter.brand} {meter.serial}",
            subtitle=f"{meter.get_status_display()}" + (f" · {meter.store.code}" if meter.store else ""),
            url=reverse("metering:meter_detail", args=[meter.pk]),
        )
        for meter in meters
    ]


register_search("metering.meters", _search_meters)
register_demo_step(58, "metering.meters", build_meters)
