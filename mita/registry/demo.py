"""The demo deployment's organisations and people: a regulator, districts, three operators, every role."""

from typing import Any

from mita.accounts.roles import OPERATOR_ROLES, Role
from mita.accounts.services import membership_grant, user_create
from mita.core.demo import DemoContext, register_demo_step
from mita.registry.models import Boundary, Operator
from mita.registry.services import operator_create, regulator_set

OPERATORS: list[dict[str, Any]] = [
    {
        "key": "amazi",
        "name": "Amazi Meza Ltd",
        "kind": Operator.Kind.PRIVATE_OPERATOR,
        "utility": Operator.Utility.WATER,
        "prefix": "AMZ",
        "country_code": "RW",
        "currency": "RWF",
        "districts": ["Bugesera", "Rwamagana"],
        "phone_base": "+2507883",
        "email": "info@amazimeza.example",
    },
    {
        "key": "kilaraipur",
        "name": "Kila Raipur Gram Panchayat Water Committee",
        "kind": Operator.Kind.WATER_COMMITTEE,
        "utility": Operator.Utility.WATER,
        "prefix": "KRP",
        "country_code": "IN",
        "currency": "INR",
        "districts": ["Ludhiana"],
        "phone_base": "+9198140",
        "email": "gpwsc.kilaraipur@example.in",
    },
    {
        "key": "izuba",
        "name": "Izuba Mini-Grids",
        "kind": Operator.Kind.MINI_GRID,
        "utility": Operator.Utility.ELECTRICITY,
        "prefix": "IZB",
        "country_code": "RW",
        "currency": "RWF",
        "districts": ["Nyaruguru", "Nyamasheke"],
        "phone_base": "+2507884",
        "email": "hello@izuba.example",
    },
]

PEOPLE = {
    # role: (Rwandan name, Punjabi name)
    Role.OPERATOR_ADMIN: ("Claudine Uwase", "Harpreet Kaur"),
    Role.BILLING_OFFICER: ("Eric Niyonzima", "Gurpreet Singh"),
    Role.REVENUE_COLLECTOR: ("Aline Mukamana", "Jaspal Singh"),
    Role.CASHIER: ("Diane Uwimana", "Manpreet Kaur"),
    Role.TREASURER: ("Patrick Habimana", "Baljit Singh"),
    Role.STOREKEEPER: ("Jean Bosco Nsengimana", "Kuldeep Singh"),
    Role.TECHNICIAN: ("Emmanuel Hakizimana", "Sukhwinder Singh"),
    Role.CUSTOMER_CARE: ("Grace Ingabire", "Simran Kaur"),
    Role.COMMITTEE_VIEWER: ("Josephine Mukeshimana", "Amarjit Singh"),
}


def _district(name: str) -> Boundary:
    return Boundary.objects.districts().get(name=name)


def build_organisations(ctx: DemoContext) -> None:
    regulator = regulator_set(
        name="Rural Utilities Regulatory Authority (demo)", short_name="RURA-demo", country_code="RW", acting_user=None
    )
    ctx.objects["regulator"] = regulator

    def person(
        phone: str, name: str, role: str, organisation: object, organisation_label: str, email: str = ""
    ) -> None:
        user = user_create(
            phone=phone,
            name=name,
            email=email,
            password=ctx.password,
            acting_user=None,
            language="pa" if phone.startswith("+91") else "en",
        )
        membership_grant(user=user, role=role, organisation=organisation, acting_user=None)
        ctx.users.append({"phone": user.phone, "password": ctx.password, "role": role, "operator": organisation_label})
        ctx.objects.setdefault("users", {})[f"{role}@{organisation_label}"] = user

    person("+250788100001", "Aimable Rutayisire", Role.REGULATOR_ADMIN, regulator, "", "admin@rura-demo.example")
    person("+250788100002", "Beatrice Mutesi", Role.REGULATOR_VIEWER, regulator, "")
    person("+250788100003", "Charles Gatera", Role.NATIONAL_UTILITY_USER, regulator, "")
    for index, (district_name, phone) in enumerate(
        [("Bugesera", "+250788200001"), ("Nyaruguru", "+250788200002"), ("Ludhiana", "+919815000001")]
    ):
        officer = ["Olivier Mugisha", "Solange Uwera", "Rajinder Kaur"][index]
        person(phone, officer, Role.DISTRICT_OFFICER, _district(district_name), "")

    for spec in OPERATORS:
        operator = operator_create(
            name=spec["name"],
            kind=spec["kind"],
            utility=spec["utility"],
            prefix=spec["prefix"],
            country_code=spec["country_code"],
            currency=spec["currency"],
            districts=[_district(name) for name in spec["districts"]],
            phone=f"{spec['phone_base']}00000"[:13],
            email=spec["email"],
            acting_user=None,
        )
        ctx.objects[f"operator:{spec['key']}"] = operator
        punjabi = spec["country_code"] == "IN"
        for number, role in enumerate(sorted(OPERATOR_ROLES), start=1):
            name = PEOPLE[Role(role)][1 if punjabi else 0]
            person(
                f"{spec['phone_base']}{number:0{13 - len(spec['phone_base'])}d}", name, role, operator, operator.name
            )

    # One person working for two operators, to show the operator switcher.
    amazi, izuba = ctx.objects["operator:amazi"], ctx.objects["operator:izuba"]
    shared = user_create(phone="+250788500001", name="Vestine Kamikazi", password=ctx.password, acting_user=None)
    for operator in (amazi, izuba):
        membership_grant(user=shared, role=Role.TREASURER, organisation=operator, acting_user=None)
        ctx.users.append(
            {"phone": shared.phone, "password": ctx.password, "role": Role.TREASURER, "operator": operator.name}
        )
    ctx.log(f"regulator, {len(OPERATORS)} operators and {len({u['phone'] for u in ctx.users})} users")


register_demo_step(10, "registry.organisations", build_organisations)
