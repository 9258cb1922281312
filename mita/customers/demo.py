"""The demo's customers: a person (now and then an organisation) behind each connection whose account the payments
demo fills with bills and payments, so that receipts and SMS reach a customer. A few customers own two connections.
Then thousands more per operator, loaded through the bulk import from a generated file (seeded, so the same each time)."""

import csv
import datetime
import io
import time
from typing import Any

from django.utils import timezone

from mita.accounts.roles import Role
from mita.core.demo import DemoContext, register_demo_step
from mita.customers.imports import IMPORT_COLUMNS, import_batch_run, import_preview, import_rows_to_fix
from mita.customers.models import Connection, Customer
from mita.customers.parcels import HttpLandRegistry, land_registry_set
from mita.customers.services import connection_create, connection_parcel_resolve, connection_update, customer_create
from mita.customers.services_places import chamber_create, route_create
from mita.integrations.landregistry.fake import SEED_PARCELS, FakeLandRegistry
from mita.registry.models import SupplySystem

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


# The demo's thousands of customers, loaded through the bulk import (which the demo thereby exercises) ----------------

BULK_CUSTOMERS = {"amazi": 2000, "kilaraipur": 1500, "izuba": 1000}  # at the default --accounts 300; fewer below it
BULK_FIRST_CONNECTION = 100001  # above the numbers the payments demo bills
# Operator key → the phone numbers' stem (a block of real mobile prefixes, one per operator) and the villages.
BULK_PLACES = {
    "amazi": (
        "+250788",
        [
            "Nyamata",
            "Gashora",
            "Ruhuha",
            "Mayange",
            "Ntarama",
            "Rilima",
            "Juru",
            "Kamabuye",
            "Mwogo",
            "Musenyi",
            "Ngeruka",
            "Shyara",
        ],
    ),
    "kilaraipur": (
        "+91987",
        [
            "Kila Raipur",
            "Dehlon",
            "Sahnewal",
            "Doraha",
            "Payal",
            "Jarg",
            "Ghudani Kalan",
            "Rampur",
            "Bilaspur",
            "Ghungrali Rajputan",
        ],
    ),
    "izuba": ("+250783", ["Ruheru", "Kibeho", "Mata", "Munini", "Ngoma", "Nyabimata", "Ngera", "Rusenge", "Busanze"]),
}
MORE_PEOPLE = {
    "RW": (
        [
            "Alice",
            "Patrick",
            "Josiane",
            "Olivier",
            "Chantal",
            "Jean Bosco",
            "Solange",
            "Fabrice",
            "Grace",
            "Samuel",
            "Esperance",
            "Celestin",
            "Yvonne",
            "Alphonse",
            "Beatrice",
            "Didier",
            "Immaculee",
            "Faustin",
            "Clarisse",
        ],
        [
            "Mukeshimana",
            "Hakizimana",
            "Uwineza",
            "Bizimana",
            "Nyirahabimana",
            "Tuyisenge",
            "Iradukunda",
            "Kamanzi",
            "Munyaneza",
            "Ndayisaba",
            "Umutoni",
            "Gasana",
            "Nshimiyimana",
            "Uwamahoro",
            "Rukundo",
            "Twagirayezu",
        ],
    ),
    "IN": (
        [
            "Harpreet",
            "Gurdeep",
            "Rajinder",
            "Sukhwinder",
            "Paramjit",
            "Jasleen",
            "Kuldeep",
            "Balwinder",
            "Parminder",
            "Ravneet",
            "Inderjit",
            "Lakhwinder",
            "Amandeep",
            "Ranjit",
            "Sarabjit",
            "Mandeep",
            "Gurmeet",
            "Charanjit",
        ],
        [
            "Bains",
            "Chahal",
            "Dhaliwal",
            "Garcha",
            "Johal",
            "Kang",
            "Mann",
            "Randhawa",
            "Sekhon",
            "Toor",
            "Virk",
            "Aulakh",
            "Bhullar",
            "Cheema",
            "Deol",
        ],
    ),
}
ORGANISATIONS = {
    "RW": [
        "Groupe Scolaire {village}",
        "Centre de Santé {village}",
        "Paroisse {village}",
        "Coopérative Abahuzamugambi {village}",
        "Ecole Primaire {village}",
    ],
    "IN": [
        "Govt. Senior Secondary School {village}",
        "Primary Health Centre {village}",
        "Gurdwara Sahib {village}",
        "{village} Milk Producers' Cooperative",
        "Govt. Primary School {village}",
    ],
}


def bulk_rows(
    *, rng: Any, operator: Any, key: str, customers: int, arrears_as_of: datetime.date
) -> list[dict[str, str]]:
    """Rows of the import file for `customers` customers of one demo operator, generated from the seeded `rng`:
    some owning two or three connections (landlords), some sharing a phone with a relative, a few organisations,
    about one in six bringing arrears from the old register."""
    stem, villages = BULK_PLACES[key]
    first_names = PEOPLE[operator.country_code][0] + MORE_PEOPLE[operator.country_code][0]
    last_names = PEOPLE[operator.country_code][1] + MORE_PEOPLE[operator.country_code][1]
    _unused_stem, language, utility = OPERATORS[key]
    district_codes = sorted(operator.districts.values_list("code", flat=True))
    supply_codes = sorted(
        SupplySystem.objects.filter(cluster__assignments__operator=operator).values_list("code", flat=True).distinct()
    )
    width = 13 - len(stem)
    rows: list[dict[str, str]] = []
    connection = BULK_FIRST_CONNECTION
    phone_number = 0
    for index in range(customers):
        village = rng.choice(villages)
        organisation = rng.random() < 0.03
        if organisation:
            name = rng.choice(ORGANISATIONS[operator.country_code]).format(village=village)
            name = f"{name} {index}" if any(row["name"] == name for row in rows[-200:]) else name
        else:
            name = f"{rng.choice(first_names)} {rng.choice(last_names)}"
        if index and not organisation and rng.random() < 0.04 and rows[-1]["name"] != name:
            phone = rows[-1]["phone"]  # a relative's phone: another customer behind the same number
        else:
            phone_number += 1
            phone = f"{stem}{phone_number:0{width}d}"
        contacts = {
            "kind": Customer.Kind.ORGANISATION if organisation else Customer.Kind.PERSON,
            "name": name,
            "phone": phone,
            "id_type": "company" if organisation else rng.choice(["national_id"] * 3 + [""]),
            "id_number": "" if organisation else f"1{rng.randrange(1950, 2006)}{rng.randrange(10**10):010d}",
            "language": language,
            "district": district_codes[index % len(district_codes)] if district_codes else "",
            "village": village,
            "house": str(rng.randrange(1, 400)),
        }
        if contacts["id_type"] == "":
            contacts["id_number"] = ""
        owned = 1 if organisation or rng.random() > 0.08 else rng.choice([2, 2, 3])
        for _connection_index in range(owned):
            arrears = rng.random() < 0.16
            property_type = (
                Connection.PropertyType.INSTITUTIONAL
                if organisation
                else rng.choice([Connection.PropertyType.RESIDENTIAL] * 9 + [Connection.PropertyType.COMMERCIAL])
            )
            rows.append(
                contacts
                | {
                    "connection_number": f"{operator.prefix}-{connection:06d}",
                    "utility": utility,
                    "property_type": property_type,
                    "metered": "yes" if rng.random() < 0.9 else "no",
                    "supply_system": rng.choice(supply_codes) if supply_codes else "",
                    "opening_arrears": str(rng.randrange(5, 300) * 100) if arrears else "",
                    "arrears_as_of": arrears_as_of.isoformat() if arrears else "",
                }
            )
            connection += 1
    return rows


def rows_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[column.key for column in IMPORT_COLUMNS], extrasaction="raise")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def build_bulk_customers(ctx: DemoContext) -> None:
    scale = min(1.0, ctx.accounts / 300)
    if scale == 0:
        return
    arrears_as_of = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    started = time.perf_counter()
    for key, customers in BULK_CUSTOMERS.items():
        operator: Any = ctx.objects[f"operator:{key}"]
        care = ctx.objects["users"][f"{Role.CUSTOMER_CARE}@{operator}"]
        rows = bulk_rows(
            rng=ctx.rng, operator=operator, key=key, customers=round(customers * scale), arrears_as_of=arrears_as_of
        )
        batch = import_preview(
            operator=operator, acting_user=care, file_name=f"{key}-old-register.csv", content=rows_csv(rows)
        )
        batch = import_batch_run(batch_id=batch.pk, acting_user=care)
        if batch.rows_error or batch.rows_conflict:
            problem = import_rows_to_fix(batch=batch).first()
            raise RuntimeError(f"The demo's import for {key} has rows to fix, e.g. {problem and problem.errors}")
        ctx.log(
            f"{operator.prefix}: imported {batch.customers_created} customers behind {batch.rows_imported} connections"
        )
    ctx.log(f"bulk import of the demo's customers took {time.perf_counter() - started:.1f} s")


register_demo_step(57, "customers.bulk_import", build_bulk_customers)
