"""The demo deployment's organisations and people: a regulator, districts, operators onboarded from licences, every role."""

import datetime
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from mita.accounts.roles import OPERATOR_ROLES, Role
from mita.accounts.services import membership_grant, user_create
from mita.core.demo import DemoContext, register_demo_step
from mita.integrations.clms.client import ClmsClient
from mita.integrations.clms.fake import FakeClms
from mita.registry.clms import ClmsLicensingSystem
from mita.registry.models import Boundary, Operator, Requirement, SupplySystem
from mita.registry.services import regulator_set
from mita.registry.services.clusters import cluster_assign, cluster_create, cluster_move, supply_system_register
from mita.registry.services.contracts import (
    contract_submit_by_national_utility,
    contract_upload_by_district,
    contract_verify,
    requirement_check,
)
from mita.registry.services.licences import licence_upsert_from_record
from mita.registry.services.onboarding import grace_period_grant, operator_onboard

OPERATORS: list[dict[str, Any]] = [
    {
        "key": "amazi",
        "name": "Amazi Meza Ltd",
        "licence": "RURA/WSS/2024/017",
        "kind": Operator.Kind.PRIVATE_OPERATOR,
        "utility": Operator.Utility.WATER,
        "country_code": "RW",
        "currency": "RWF",
        "districts": [],
        "phone_base": "+2507883",
    },
    {
        "key": "kilaraipur",
        "name": "Kila Raipur Gram Panchayat Water Committee",
        "licence": "PB/GPWSC/2024/112",
        "kind": Operator.Kind.WATER_COMMITTEE,
        "utility": Operator.Utility.WATER,
        "country_code": "IN",
        "currency": "INR",
        "districts": [],
        "phone_base": "+9198140",
    },
    {
        "key": "izuba",
        "name": "Izuba Mini-Grids",
        "licence": "RURA/MG/2023/004",
        "kind": Operator.Kind.MINI_GRID,
        "utility": Operator.Utility.ELECTRICITY,
        "country_code": "RW",
        "currency": "RWF",
        "districts": [],
        "phone_base": "+2507884",
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


def _people_of(ctx: DemoContext, spec: dict[str, Any], operator: Operator, person: Any) -> None:
    punjabi = spec["country_code"] == "IN"
    width = 13 - len(spec["phone_base"])
    for number, role in enumerate(sorted(OPERATOR_ROLES), start=1):
        person(
            f"{spec['phone_base']}{number:0{width}d}",
            PEOPLE[Role(role)][1 if punjabi else 0],
            role,
            operator,
            operator.name,
        )


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
        ctx.objects.setdefault("users", {})[f"{role}@{organisation}"] = user

    person("+250788100001", "Aimable Rutayisire", Role.REGULATOR_ADMIN, regulator, "", "admin@rura-demo.example")
    person("+250788100002", "Beatrice Mutesi", Role.REGULATOR_VIEWER, regulator, "")
    person("+250788100003", "Charles Gatera", Role.NATIONAL_UTILITY_USER, regulator, "")
    for index, (district_name, phone) in enumerate(
        [("Bugesera", "+250788200001"), ("Nyaruguru", "+250788200002"), ("Ludhiana", "+919815000001")]
    ):
        officer = ["Olivier Mugisha", "Solange Uwera", "Rajinder Kaur"][index]
        person(phone, officer, Role.DISTRICT_OFFICER, _district(district_name), "")

    # The operators are onboarded as a regulator would: from their licences, over HTTP to the fake CLMS.
    regulator_admin = ctx.objects["users"][f"{Role.REGULATOR_ADMIN}@{regulator}"]
    with FakeClms() as clms:
        system = ClmsLicensingSystem(client=ClmsClient(base_url=clms.base_url, token=clms.token))
        for spec in OPERATORS:
            operator = operator_onboard(
                licence_number=spec["licence"],
                name=spec["name"],
                kind=spec["kind"],
                utility=spec["utility"],
                country_code=spec["country_code"],
                currency=spec["currency"],
                acting_user=regulator_admin,
                language="pa" if spec["country_code"] == "IN" else "en",
                system=system,
            )
            if spec["districts"]:
                operator.districts.set([_district(name) for name in spec["districts"]])
            ctx.objects[f"operator:{spec['key']}"] = operator
            _people_of(ctx, spec, operator, person)
        # The regulator's register also holds licences in every other state, one of them under a grace period.
        for number in ("RURA/WSS/2021/009", "RURA/WSS/2023/044", "RURA/WSS/2025/051"):
            with transaction.atomic():
                licence_upsert_from_record(record=system.fetch(number), acting_user=regulator_admin)
        expired = licence_upsert_from_record(record=system.fetch("RURA/WSS/2022/031"), acting_user=regulator_admin)
        today = timezone.localdate()
        grace_period_grant(
            licence=expired,
            starts_on=today - datetime.timedelta(days=20),
            ends_on=today + datetime.timedelta(days=70),
            reason="Renewal filed; inspection of the Kayonza system pending.",
            acting_user=regulator_admin,
        )
        isoko = operator_onboard(
            licence_number="RURA/WSS/2022/031",
            name="",
            kind=Operator.Kind.PRIVATE_OPERATOR,
            utility=Operator.Utility.WATER,
            country_code="RW",
            currency="RWF",
            acting_user=regulator_admin,
            system=system,
        )
        ctx.objects["operator:isoko"] = isoko
    # One person working for two operators, to show the operator switcher.
    amazi, izuba = ctx.objects["operator:amazi"], ctx.objects["operator:izuba"]
    shared = user_create(phone="+250788500001", name="Vestine Kamikazi", password=ctx.password, acting_user=None)
    for operator in (amazi, izuba):
        membership_grant(user=shared, role=Role.TREASURER, organisation=operator, acting_user=None)
        ctx.users.append(
            {"phone": shared.phone, "password": ctx.password, "role": Role.TREASURER, "operator": operator.name}
        )
    ctx.log(
        f"regulator, {len(OPERATORS) + 1} operators (one under a grace period) and {len({u['phone'] for u in ctx.users})} users"
    )


# A tiny but real PDF, standing in for a scanned contract.
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def build_contracts(ctx: DemoContext) -> None:
    """District contracts and checklists (one operator cleared, one not yet), national utility contracts."""
    users = ctx.objects["users"]
    amazi, izuba = ctx.objects["operator:amazi"], ctx.objects["operator:izuba"]
    bugesera, rwamagana, nyaruguru = _district("Bugesera"), _district("Rwamagana"), _district("Nyaruguru")
    bugesera_officer = users[f"{Role.DISTRICT_OFFICER}@{bugesera}"]
    nyaruguru_officer = users[f"{Role.DISTRICT_OFFICER}@{nyaruguru}"]
    national_utility = users[f"{Role.NATIONAL_UTILITY_USER}@{ctx.objects['regulator']}"]
    regulator_admin = users[f"{Role.REGULATOR_ADMIN}@{ctx.objects['regulator']}"]
    today = timezone.localdate()
    year_ago = today - datetime.timedelta(days=365)

    def pdf(name: str) -> ContentFile:
        return ContentFile(DEMO_PDF, name=f"{name}.pdf")

    contract_upload_by_district(
        operator=amazi,
        district=bugesera,
        title="Delegated management of Bugesera rural water supply",
        parties="Bugesera District; Amazi Meza Ltd",
        signed_on=year_ago,
        starts_on=year_ago,
        ends_on=year_ago + datetime.timedelta(days=5 * 365),
        document=pdf("bugesera-amazi"),
        acting_user=bugesera_officer,
    )
    requirements = list(Requirement.objects.filter(is_active=True))
    for requirement in requirements:  # Amazi is cleared in Bugesera ...
        requirement_check(operator=amazi, district=bugesera, requirement=requirement, acting_user=bugesera_officer)
    for requirement in requirements[:2]:  # ... and Izuba is halfway through in Nyaruguru
        requirement_check(operator=izuba, district=nyaruguru, requirement=requirement, acting_user=nyaruguru_officer)
    verified = contract_submit_by_national_utility(
        operator=amazi,
        title="Bulk water supply to Rwamagana networks",
        parties="National utility; Amazi Meza Ltd",
        signed_on=today - datetime.timedelta(days=60),
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=3 * 365),
        document=pdf("bulk-rwamagana"),
        acting_user=national_utility,
    )
    contract_verify(contract=verified, acting_user=regulator_admin)
    contract_submit_by_national_utility(
        operator=izuba,
        title="Grid interconnection at Kibeho",
        parties="National utility; Izuba Mini-Grids",
        signed_on=today - datetime.timedelta(days=5),
        starts_on=today + datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=10 * 365),
        document=pdf("kibeho-interconnection"),
        acting_user=national_utility,
    )
    ctx.log(
        f"contracts: 1 district, 1 verified, 1 waiting; checklists in {bugesera} and {nyaruguru}; {rwamagana} not started"
    )


def build_clusters(ctx: DemoContext) -> None:
    """Clusters with water supply systems and mini-grid plants; one expiring soon, one expired, one moved."""
    users = ctx.objects["users"]
    regulator_admin = users[f"{Role.REGULATOR_ADMIN}@{ctx.objects['regulator']}"]
    amazi, izuba, isoko = ctx.objects["operator:amazi"], ctx.objects["operator:izuba"], ctx.objects["operator:isoko"]
    kilaraipur = ctx.objects["operator:kilaraipur"]
    today = timezone.localdate()
    years_ago = today - datetime.timedelta(days=2 * 365)

    def cluster(code: str, name: str, districts: list[str], operator: Operator, expires_on: datetime.date) -> Any:
        created = cluster_create(
            name=name, code=code, districts=[_district(d) for d in districts], acting_user=regulator_admin
        )
        cluster_assign(
            cluster=created, operator=operator, starts_on=years_ago, expires_on=expires_on, acting_user=regulator_admin
        )
        return created

    water = SupplySystem.Kind.WATER
    nyamata = cluster("BUG-01", "Nyamata–Mayange", ["Bugesera"], amazi, today + datetime.timedelta(days=4 * 365))
    supply_system_register(
        cluster=nyamata,
        kind=water,
        name="Nyamata gravity scheme",
        code="WSS-BUG-001",
        district=_district("Bugesera"),
        technology=SupplySystem.Technology.GRAVITY,
        capacity_m3_per_day=Decimal("850"),
        source="Kanazi spring",
        acting_user=regulator_admin,
    )
    supply_system_register(
        cluster=nyamata,
        kind=water,
        name="Mayange solar borehole",
        code="WSS-BUG-002",
        district=_district("Bugesera"),
        technology=SupplySystem.Technology.SOLAR,
        capacity_m3_per_day=Decimal("120"),
        source="Borehole",
        acting_user=regulator_admin,
    )
    ruhuha = cluster("BUG-02", "Ruhuha", ["Bugesera"], amazi, today + datetime.timedelta(days=18))
    supply_system_register(
        cluster=ruhuha,
        kind=water,
        name="Ruhuha pumping station",
        code="WSS-BUG-003",
        district=_district("Bugesera"),
        technology=SupplySystem.Technology.ELECTRIC_PUMPING,
        capacity_m3_per_day=Decimal("400"),
        source="Lake Cyohoha",
        acting_user=regulator_admin,
    )
    gishari = cluster("RWA-01", "Gishari", ["Rwamagana"], amazi, today - datetime.timedelta(days=45))
    supply_system_register(
        cluster=gishari,
        kind=water,
        name="Gishari diesel scheme",
        code="WSS-RWA-001",
        district=_district("Rwamagana"),
        technology=SupplySystem.Technology.DIESEL,
        capacity_m3_per_day=Decimal("200"),
        source="Lake Muhazi",
        acting_user=regulator_admin,
    )
    kibeho = cluster("NYR-01", "Kibeho mini-grid", ["Nyaruguru"], izuba, today + datetime.timedelta(days=6 * 365))
    supply_system_register(
        cluster=kibeho,
        kind=SupplySystem.Kind.MINI_GRID,
        name="Kibeho solar plant",
        code="MG-NYR-001",
        district=_district("Nyaruguru"),
        capacity_kw=Decimal("120"),
        generation_mix={"solar": 90, "diesel": 10},
        acting_user=regulator_admin,
    )
    kagano = cluster("NYA-01", "Kagano", ["Nyamasheke"], izuba, today + datetime.timedelta(days=5 * 365))
    supply_system_register(
        cluster=kagano,
        kind=SupplySystem.Kind.MINI_GRID,
        name="Kagano hydro-solar plant",
        code="MG-NYA-001",
        district=_district("Nyamasheke"),
        capacity_kw=Decimal("60"),
        generation_mix={"hydro": 70, "solar": 30},
        acting_user=regulator_admin,
    )
    ludhiana = cluster(
        "LDH-01", "Kila Raipur village scheme", ["Ludhiana"], kilaraipur, today + datetime.timedelta(days=10 * 365)
    )
    supply_system_register(
        cluster=ludhiana,
        kind=water,
        name="Kila Raipur tube well",
        code="WSS-LDH-001",
        district=_district("Ludhiana"),
        technology=SupplySystem.Technology.ELECTRIC_PUMPING,
        capacity_m3_per_day=Decimal("300"),
        source="Tube well",
        acting_user=regulator_admin,
    )
    # Kayonza's scheme moved from Amazi to Isoko three months ago: its history shows both.
    kayonza = cluster("KAY-01", "Kayonza", ["Kayonza"], amazi, today + datetime.timedelta(days=3 * 365))
    cluster_move(
        cluster=kayonza,
        to_operator=isoko,
        on=today - datetime.timedelta(days=90),
        expires_on=today + datetime.timedelta(days=3 * 365),
        acting_user=regulator_admin,
    )
    ctx.log("clusters: 8 with supply systems; Ruhuha expires in 18 days, Gishari expired, Kayonza moved to Isoko")


register_demo_step(10, "registry.organisations", build_organisations)
register_demo_step(15, "registry.clusters", build_clusters)
register_demo_step(20, "registry.contracts", build_contracts)
