"""Registrations of metering: meters — the home card "Meters and stores", the benchmark `meters-receive` and the
demo step that makes stores, meter models and meters (order 58; the installations step, 59, takes
`demo_meters_in_store`)."""

from django.utils.translation import gettext_lazy as _

from mita.core.demo import register_demo_step
from mita.core.navigation import Card, register_card
from mita.metering import bench_meters  # noqa: F401  (registers `mita bench meters-receive`)
from mita.metering.demo_meters import build_meters, demo_meters_in_store
from mita.metering.selectors_meters import METER_READ_ROLES

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

register_demo_step(58, "metering.meters", build_meters)
