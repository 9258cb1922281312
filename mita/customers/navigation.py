"""The customers app's home cards: the customer list, registering a customer, routes, chambers, imports and the
indigent register."""

from django.utils.translation import gettext_lazy as _

from mita.core.navigation import Card, register_card
from mita.customers.selectors import CUSTOMER_READ_ROLES, CUSTOMER_WRITE_ROLES

register_card(
    Card(
        key="customers.list",
        title=_("Customers"),
        description=_("Find a customer by number, connection number, name or phone; their connections."),
        url_name="customers:customer_list",
        roles=frozenset(CUSTOMER_READ_ROLES),
        order=20,
    )
)
register_card(
    Card(
        key="customers.create",
        title=_("New customer"),
        description=_("Register a person or an organisation, then their connections."),
        url_name="customers:customer_create",
        roles=frozenset(CUSTOMER_WRITE_ROLES),
        order=21,
    )
)
register_card(
    Card(
        key="customers.routes",
        title=_("Reading routes"),
        description=_("The routes meter readers walk, and the order of the connections on each."),
        url_name="customers:route_list",
        roles=frozenset(CUSTOMER_READ_ROLES),
        order=22,
    )
)
register_card(
    Card(
        key="customers.chambers",
        title=_("Meter chambers"),
        description=_("Places holding the meters of several connections."),
        url_name="customers:chamber_list",
        roles=frozenset(CUSTOMER_READ_ROLES),
        order=23,
    )
)
register_card(
    Card(
        key="customers.imports",
        title=_("Import customers"),
        description=_("Bring customers and connections from a CSV or XLSX file: preview, then import."),
        url_name="customers:import_list",
        roles=frozenset(CUSTOMER_WRITE_ROLES),
        order=24,
    )
)
register_card(
    Card(
        key="customers.indigent",
        title=_("Indigent register"),
        description=_("Households registered as indigent, who get the tariff's indigent allowance."),
        url_name="customers:indigent_list",
        roles=frozenset(CUSTOMER_READ_ROLES),
        order=25,
    )
)
