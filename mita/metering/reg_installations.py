"""Registrations of metering: installations (cards, the customer 360 panel, the meter search, the demo step)."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from mita.accounts.roles import Role
from mita.core.access import Access
from mita.core.demo import register_demo_step
from mita.core.navigation import Card, register_card
from mita.customers.models import Customer
from mita.customers.panels import Panel, register_panel, register_panel_data
from mita.customers.search import SearchSource, register_search_source
from mita.customers.selectors import CUSTOMER_READ_ROLES
from mita.metering.demo_installations import build_installations
from mita.metering.selectors_installations import INSTALL_READ_ROLES, customer_meters, customer_open_anomalies
from mita.metering.selectors_installations_find import meter_search_find

# The panel shows to those who open the customer's page and read meters.
PANEL_ROLES = frozenset(INSTALL_READ_ROLES) & frozenset(CUSTOMER_READ_ROLES)


def _panel_context(access: Access, customer: Customer) -> dict[str, Any]:
    return {"customer": customer, "lines": customer_meters(operator=access.operator, customer=customer)}


def _panel_counts(access: Access, customer: Customer) -> dict[str, int]:
    """The customer's readings waiting for review; no figure at all for a customer who has never had a meter."""
    count = customer_open_anomalies(operator=access.operator, customer=customer)
    return {"anomalies": count} if count is not None else {}


def _panel_data(access: Access, customer: Customer) -> dict[str, Any]:
    return {
        "connections": [
            {
                "connection_id": line.connection.pk,
                "connection_number": line.connection.number,
                "meter_serial": line.installation.meter.serial if line.installation else None,
                "installed_on": line.installation.installed_on.isoformat() if line.installation else None,
                "last_reading": (
                    {
                        "read_on": line.last_reading.read_on.isoformat(),
                        "current_index": (
                            str(line.last_reading.current_index)
                            if line.last_reading.current_index is not None
                            else None
                        ),
                        "consumption": (
                            str(line.last_reading.consumption) if line.last_reading.consumption is not None else None
                        ),
                        "status": line.last_reading.status,
                        "anomaly": line.last_reading.anomaly,
                    }
                    if line.last_reading
                    else None
                ),
                "open_anomalies": line.open_anomalies,
            }
            for line in customer_meters(operator=access.operator, customer=customer)
        ]
    }


register_panel(
    Panel(
        key="metering.meters",
        title=_("Meters and readings"),
        template="metering/installations/panels/meters.html",
        context=_panel_context,
        roles=PANEL_ROLES,
        order=40,
        counts=_panel_counts,
    )
)
register_panel_data("metering.meters", _panel_data)
register_search_source(SearchSource("metering.meters", meter_search_find))

register_card(
    Card(
        key="metering.routes",
        title=_("Reading routes by cycle"),
        description=_("Who reads each route in a cycle and how far they got; reading books to print."),
        url_name="metering:route_progress",
        roles=frozenset(INSTALL_READ_ROLES),
        order=41,
    )
)
register_card(
    Card(
        key="metering.my_routes",
        title=_("My routes"),
        description=_("The routes given to you for the cycle, with their reading books."),
        url_name="metering:my_routes",
        roles=frozenset({Role.BILLING_OFFICER}),
        order=42,
    )
)
register_card(
    Card(
        key="metering.find",
        title=_("Find a connection for reading"),
        description=_("By meter serial number, connection number or meter chamber."),
        url_name="metering:reading_find",
        roles=frozenset(INSTALL_READ_ROLES),
        order=43,
        in_menu=False,
    )
)
register_demo_step(59, "metering.installations", build_installations)
