"""The demo's customers: a person (now and then an organisation) behind each connection whose account the payments
demo fills with bills and payments, so that receipts and SMS reach a customer. A few customers own two connections."""

from typing import Any

from mita.accounts.roles import Role
from mita.core.demo import DemoContext, register_demo_step
from mita.customers.models import Connection, Customer
from mita.customers.parcels import HttpLandRegistry, land_registry_set
from mita.customers.services import connection_create, connection_parcel_resolve, connection_update, customer_create
from mita.customers.services_places import chamber_create, route_create
from mita.integrations.landregistry.fake import SEED_PARCELS, FakeLandRegistry

CONNECTIONS_PER_OPERATOR = 60  # the accounts the payments demo bills (payments/demo.py)
PEOPLE = {
    "RW": (
        ["Jeanne", "Emmanuel", "Claudine", "Jean Paul", "Aline", "Eric", "Vestine", "Innocent", "Diane", "Theoneste"],
        ["Uwase", "Habimana", "Mukamana", "Niyonzima", "Uwimana", "Nsengiyumva", "Ingabire", "Mugisha", "Mutoni"],
    ),
    "IN": (
        ["Gurpreet", "Harjit", "Manpreet", "Baljinder", "Simranjit", "Kulwant", "Jaswinder", "Amarjit", "Navdeep"],
        ["Singh", "Kaur", "Gill", "Sandhu", "Dhillon", "Grewal", "Sidhu", "Brar"],
    ),
}
# Operator key in the demo → (phone number stem, the customers' language, the utility of its connections).
OPERATORS = {
    "amazi": ("+25072200", "rw", Connection.Utility.WATER),
    "kilaraipur": ("+9198765", "pa", Connection.Utility.WATER),
    "izuba": ("+25073300", "rw", Connection.Utility.ELECTRICITY),
}


def build_customers(ctx: DemoContext) -> None:
    count = min(ctx.accounts, CONNECTIONS_PER_OPERATOR)
    if count == 0:
        return
    made = 0
    for key, (stem, language, utility) in OPERATORS.items():
        operator: Any = ctx.objects[f"operator:{key}"]
        care = ctx.objects["users"][f"{Role.CUSTOMER_CARE}@{operator}"]
        first_names, last_names = PEOPLE[operator.country_code]
        width = 13 - len(stem)
        customer = None
        for number in range(1, count + 1):
            if number % 10 != 2 or customer is None:  # every tenth customer owns the next connection too
                institution = number % 17 == 0
                customer = customer_create(
                    operator=operator,
                    acting_user=care,
                    name=(
                        f"{ctx.rng.choice(last_names)} Primary School"
                        if institution
                        else f"{ctx.rng.choice(first_names)} {ctx.rng.choice(last_names)}"
                    ),
                    phone=f"{stem}{number:0{width}d}",
                    kind=Customer.Kind.ORGANISATION if institution else Customer.Kind.PERSON,
                    language=language,
                )
                made += 1
            connection_create(
                operator=operator,
                customer=customer,
                number=f"{operator.prefix}-{number:06d}",
                utility=utility,
                property_type=(
                    Connection.PropertyType.INSTITUTIONAL
                    if customer.kind == Customer.Kind.ORGANISATION
                    else ctx.rng.choice(
                        [Connection.PropertyType.RESIDENTIAL] * 8 + [Connection.PropertyType.COMMERCIAL]
                    )
                ),
                acting_user=care,
            )
    ctx.log(f"{made} customers in all, behind {count} connections per operator (some owning two)")


register_demo_step(55, "customers.people", build_customers)


ROUTE_SIZE = 20  # connections a reader walks in a morning


def build_connection_details(ctx: DemoContext) -> None:
    """Reading routes of twenty connections in reading order (gaps of ten), a meter chamber holding a few meters,
    a billing cycle other than monthly now and then; and, at Amazi, land parcels looked up over HTTP in the fake
    land registry, as the "Look up" button does."""
    with FakeLandRegistry() as registry:
        land_registry_set(HttpLandRegistry(base_url=registry.base_url, api_key=registry.api_key))
        try:
            looked_up = _connection_details(ctx)
        finally:
            land_registry_set(None)
    ctx.log(f"routes of {ROUTE_SIZE} connections, a meter chamber per operator, {looked_up} land parcels looked up")


def _connection_details(ctx: DemoContext) -> int:
    looked_up = 0
    for key in OPERATORS:
        operator: Any = ctx.objects[f"operator:{key}"]
        care = ctx.objects["users"][f"{Role.CUSTOMER_CARE}@{operator}"]
        connections = list(Connection.objects.filter(operator=operator).order_by("number"))
        if not connections:
            continue
        chamber = chamber_create(
            operator=operator, code="CH-001", description="Concrete pit by the market gate", acting_user=care
        )
        route = None
        for index, connection in enumerate(connections):
            if index % ROUTE_SIZE == 0:
                number = index // ROUTE_SIZE + 1
                route = route_create(
                    operator=operator, code=f"R-{number:02d}", name=f"Reading route {number}", acting_user=care
                )
            changes: dict[str, Any] = {"route": route, "reading_sequence": (index % ROUTE_SIZE + 1) * 10}
            if index < 6:
                changes["chamber"] = chamber
            if index % 9 == 4:
                changes["billing_cycle"] = ctx.rng.choice(
                    [Connection.BillingCycle.BIMONTHLY, Connection.BillingCycle.QUARTERLY]
                )
            if key == "amazi" and index < len(SEED_PARCELS):
                changes["parcel"] = connection_parcel_resolve(SEED_PARCELS[index]["upi"])
                looked_up += 1
            connection_update(connection=connection, acting_user=care, **changes)
    return looked_up


register_demo_step(56, "customers.connection_details", build_connection_details)
