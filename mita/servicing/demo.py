"""The demo's servicing at each operator: a materials catalogue, a fee schedule, terms and conditions, new-connection
requests in every state (from just received to connected, and one rejected), complaints in every state, and
disconnection, reconnection, meter transfer, ownership change, package change and termination requests in every
state of their own."""

import datetime
import uuid
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from mita.accounts.roles import Role
from mita.core.demo import DemoContext, register_demo_step
from mita.customers.models import Connection
from mita.customers.services import customer_create
from mita.payments.services import payment_receive
from mita.servicing.models import RequestFee, ServiceFee, ServiceRequest, WorkOrder
from mita.servicing.services import (
    request_advance,
    request_transition,
    service_fee_set,
    terms_publish,
    work_order_complete,
)
from mita.servicing.types.complaint import complaint_open
from mita.servicing.types.new_connection import new_connection_apply
from mita.stock.services import material_create

# A signed application form as the office scans it (a one-page PDF).
SIGNED_FORM = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
CATALOGUES: dict[str, list[tuple[str, str, str, str, dict[str, Any]]]] = {
    Connection.Utility.WATER: [
        ("PIPE-HDPE-20", "HDPE pipe 20 mm", "m", "700", {"diameter_mm": 20, "material": "HDPE"}),
        ("PIPE-HDPE-32", "HDPE pipe 32 mm", "m", "1400", {"diameter_mm": 32, "material": "HDPE"}),
        ("SADDLE-63-20", "Tapping saddle 63×20", "piece", "4500", {"main_mm": 63, "branch_mm": 20}),
        ("VALVE-20", "Ball valve 20 mm", "piece", "3500", {"diameter_mm": 20}),
        ("METER-BOX", "Meter box with lid", "piece", "12000", {}),
        ("SLEEVE-ROAD", "Steel sleeve for a road crossing", "m", "9000", {"diameter_mm": 50}),
    ],
    Connection.Utility.ELECTRICITY: [
        ("CABLE-AB-16", "Aerial bundled cable 2×16 mm²", "m", "1100", {"section_mm2": 16}),
        ("POLE-7M", "Treated wooden pole 7 m", "piece", "45000", {"height_m": 7}),
        ("BREAKER-20A", "Circuit breaker 20 A", "piece", "6500", {"rating_a": 20}),
        ("READYBOARD", "Ready board with socket and lamp", "piece", "28000", {}),
        ("EARTH-ROD", "Earthing rod with clamp", "piece", "8000", {"length_m": 1.5}),
    ],
}
# (connection fee, the commercial one) in each currency.
FEES = {"RWF": (Decimal("20000"), Decimal("35000")), "INR": (Decimal("1500"), Decimal("2500"))}
TERMS = (
    "1. The operator supplies {utility} to the connection under these terms and its tariff.\n"
    "2. The customer pays each bill by its due date; unpaid bills may lead to disconnection after notice.\n"
    "3. The meter and the service line up to it belong to the operator; the customer keeps them from harm.\n"
    "4. The customer tells the operator of any leak or fault at once.\n"
    "5. Fees paid for a connection are not refunded once the installation is done."
)
NEW_CONNECTION_STATES = (
    "received",
    "survey",
    "connection_fee_due",
    "material_fee_due",
    "installation",
    "active",
    "rejected",
)
COMPLAINT_STATES = ("received", "assigned", "in_progress", "resolved", "closed", "rejected")
OPERATOR_KEYS = {"amazi": "+2507225", "kilaraipur": "+9198766", "izuba": "+2507335"}


def _pay(operator: Any, holder: str, amount: Decimal, cashier: Any) -> None:
    payment_receive(
        operator=operator,
        channel="cash_office",
        amount=amount,
        account_reference=holder,
        idempotency_key=f"demo-fee-{uuid.uuid4()}",
        received_by=cashier,
        payer_name="Applicant",
    )


def _new_connection_to(
    state: str, *, operator: Any, utility: str, people: dict[str, Any], materials: list[Any], applicant: dict[str, Any]
) -> ServiceRequest:
    """One application taken as far as `state`, the way the office, the technician and the payments would."""
    care, technician, cashier = people["care"], people["technician"], people["cashier"]
    request = new_connection_apply(
        operator=operator,
        acting_user=care,
        channel="office",
        utility=utility,
        property_type=Connection.PropertyType.RESIDENTIAL,
        terms_accepted=True,
        customer_fields=applicant,
        signed_form=SimpleUploadedFile("application.pdf", SIGNED_FORM, content_type="application/pdf"),
    )
    if state == "received":
        return request
    if state == "rejected":
        request_transition(
            request=request, transition="reject", acting_user=care, note="The plot is outside the service area."
        )
        return request
    request_transition(request=request, transition="assign_survey", acting_user=care, assignee=technician)
    if state == "survey":
        return request
    survey = WorkOrder.objects.get(request=request, kind=WorkOrder.Kind.SURVEY)
    work_order_complete(
        work_order=survey,
        result={
            "distance_m": "38",
            "crossings": [{"kind": "road", "count": 1, "length_m": "7"}],
            "materials": [
                {"material_id": materials[0].pk, "quantity": "40"},
                {"material_id": materials[2].pk, "quantity": "1"},
                {"material_id": materials[3].pk, "quantity": "1"},
            ],
            "note": "Main along the road; one road crossing.",
        },
        acting_user=technician,
    )
    holder = request.connection.number  # type: ignore[union-attr]
    for kind, last_state in (
        (RequestFee.Kind.CONNECTION, "connection_fee_due"),
        (RequestFee.Kind.MATERIAL, "material_fee_due"),
    ):
        if state == last_state:
            return request
        fee = RequestFee.objects.filter(request=request, kind=kind).first()
        if fee is not None:
            _pay(operator, holder, fee.amount, cashier)
        request_advance(request=request, acting_user=cashier)  # what the payment's task does once it commits
    if state == "installation":
        return request
    installation = WorkOrder.objects.get(request=request, kind=WorkOrder.Kind.INSTALLATION)
    work_order_complete(
        work_order=installation,
        result={"meter_serial": f"DEMO-{holder}", "meter_brand": "Itron", "initial_index": "0"},
        acting_user=technician,
    )
    return request


def _complaint_to(state: str, *, operator: Any, customer: Any, people: dict[str, Any], category: str) -> None:
    care, technician = people["care"], people["technician"]
    complaint = complaint_open(
        operator=operator,
        customer=customer,
        category=category,
        summary={
            "leak": "Water leaking before the meter",
            "no_supply": "No supply since yesterday morning",
            "quality": "The water is brown after rain",
            "billing_dispute": "The last bill is twice the usual",
            "other": "The meter box lid is broken",
        }[category],
        channel="phone",
        acting_user=care,
    )
    steps = {
        "assigned": [("assign", {"assignee": technician})],
        "in_progress": [("assign", {"assignee": technician}), ("start", {})],
        "resolved": [("assign", {"assignee": technician}), ("start", {}), ("resolve", {"note": "Fixed on site."})],
        "closed": [
            ("assign", {"assignee": technician}),
            ("start", {}),
            ("resolve", {"note": "Fixed on site."}),
            ("close", {}),
        ],
        "rejected": [("reject", {"note": "Inside the customer's property: the customer's plumber fixes it."})],
    }.get(state, [])
    for transition, data in steps:
        actor = technician if transition in ("start", "resolve") else care
        request_transition(request=complaint, transition=transition, acting_user=actor, **data)


def build_servicing(ctx: DemoContext) -> None:
    made = 0
    for key, stem in OPERATOR_KEYS.items():
        operator: Any = ctx.objects.get(f"operator:{key}")
        if operator is None:
            continue
        users = ctx.objects["users"]
        people = {
            "admin": users[f"{Role.OPERATOR_ADMIN}@{operator}"],
            "care": users[f"{Role.CUSTOMER_CARE}@{operator}"],
            "technician": users[f"{Role.TECHNICIAN}@{operator}"],
            "cashier": users[f"{Role.CASHIER}@{operator}"],
        }
        utility = Connection.Utility.ELECTRICITY if key == "izuba" else Connection.Utility.WATER
        materials = [
            material_create(
                operator=operator,
                acting_user=people["admin"],
                code=code,
                name=name,
                unit=unit,
                unit_price=Decimal(price) if operator.currency == "RWF" else Decimal(price) / 10,
                properties=properties,
            )
            for code, name, unit, price, properties in CATALOGUES[utility]
        ]
        fee, commercial = FEES.get(operator.currency, FEES["RWF"])
        service_fee_set(
            operator=operator, kind=ServiceFee.Kind.CONNECTION, utility=utility, amount=fee, acting_user=people["admin"]
        )
        service_fee_set(
            operator=operator,
            kind=ServiceFee.Kind.CONNECTION,
            utility=utility,
            property_type=Connection.PropertyType.COMMERCIAL,
            amount=commercial,
            acting_user=people["admin"],
        )
        service_fee_set(
            operator=operator,
            kind=ServiceFee.Kind.RECONNECTION,
            utility=utility,
            amount=fee / 4,
            acting_user=people["admin"],
        )
        terms_publish(
            operator=operator,
            version=f"{timezone.localdate().year}-1",
            text=TERMS.format(utility=utility),
            effective_from=timezone.localdate() - datetime.timedelta(days=90),
            acting_user=people["admin"],
        )
        first_names = ["Alice", "Jean", "Marie", "Samuel", "Esther", "David", "Ruth"]
        for number, state in enumerate(NEW_CONNECTION_STATES, start=1):
            applicant = {
                "name": f"{first_names[number % len(first_names)]} Applicant {number}",
                "phone": f"{stem}{number:0{13 - len(stem)}d}",
                "village": "Demo village",
            }
            _new_connection_to(
                state, operator=operator, utility=utility, people=people, materials=materials, applicant=applicant
            )
            made += 1
        complainant = customer_create(
            operator=operator,
            acting_user=people["care"],
            name="Complainant of the demo",
            phone=f"{stem}{99:0{13 - len(stem)}d}",
        )
        categories = ["leak", "no_supply", "quality", "billing_dispute", "other", "leak"]
        for state, category in zip(COMPLAINT_STATES, categories, strict=True):
            _complaint_to(state, operator=operator, customer=complainant, people=people, category=category)
            made += 1
    ctx.log(f"{made} service requests: new connections and complaints in every state at each operator")


register_demo_step(62, "servicing.requests", build_servicing)


# The connection types: a request of each in each of its states --------------------------------------------------

CONNECTION_TYPE_STATES: dict[str, tuple[str, ...]] = {
    "disconnection": ("received", "review", "approved", "disconnected", "rejected"),
    "reconnection": ("received", "fee_due", "work", "active", "rejected"),
    "meter_transfer": ("received", "done", "rejected"),
    "ownership_change": ("received", "done", "rejected"),
    "package_change": ("received", "done", "rejected"),
    "termination": ("received", "final_reading", "settlement", "terminated", "rejected"),
}
PACKAGES = (("DOMESTIC", "Domestic", "5000"), ("DOMESTIC-PLUS", "Domestic plus", "8000"))


class _Maker:
    """Customers with active connections of their own, numbered <prefix>-SV-0001 onwards, for the demo's requests."""

    def __init__(self, operator: Any, utility: str, stem: str, people: dict[str, Any]) -> None:
        self.operator, self.utility, self.stem, self.people = operator, utility, stem, people
        self.count = 0

    def connection(self, *, status: str = Connection.Status.ACTIVE, owes: Decimal = Decimal("0")) -> Connection:
        from mita.customers.lifecycle import connection_status_change
        from mita.customers.services import connection_create
        from mita.ledger.services import charge_post

        self.count += 1
        customer = customer_create(
            operator=self.operator,
            acting_user=self.people["care"],
            name=f"Servicing customer {self.count}",
            phone=f"{self.stem}{200 + self.count:0{13 - len(self.stem)}d}",
        )
        connection = connection_create(
            operator=self.operator,
            customer=customer,
            number=f"{self.operator.prefix}-SV-{self.count:04d}",
            utility=self.utility,
            property_type=Connection.PropertyType.RESIDENTIAL,
            acting_user=self.people["care"],
        )
        connection = connection_status_change(
            connection=connection, status=Connection.Status.ACTIVE, reason="Demo", acting_user=None
        )
        if owes > 0:
            charge_post(
                operator=self.operator,
                holder=connection.number,
                head=f"{self.utility}_sales",
                amount=owes,
                vat_rule="exempt",
                reference=f"demo-bill:{connection.number}",
                due_date=timezone.localdate() - datetime.timedelta(days=20),
                acting_user=None,
            )
        if status != Connection.Status.ACTIVE:
            connection = connection_status_change(
                connection=connection, status=status, reason="Demo: unpaid bills", acting_user=None
            )
        return connection


def _steps(request: ServiceRequest, steps: Any) -> None:
    """Take these (transition, actor, data) steps in order."""
    for transition, actor, data in steps:
        request_transition(request=request, transition=transition, acting_user=actor, **data)


def _work_done(request: ServiceRequest, kind: str, technician: Any, result: dict[str, Any]) -> None:
    work_order = WorkOrder.objects.get(request=request, kind=kind, state=WorkOrder.State.OPEN)
    work_order_complete(work_order=work_order, result=result, acting_user=technician)


def _connection_request_to(key: str, state: str, maker: _Maker) -> ServiceRequest:
    from mita.servicing.types.disconnection import disconnection_open
    from mita.servicing.types.meter_transfer import meter_transfer_open
    from mita.servicing.types.ownership_change import ownership_change_open
    from mita.servicing.types.package_change import package_change_open
    from mita.servicing.types.reconnection import reconnection_open
    from mita.servicing.types.termination import termination_open

    people, operator = maker.people, maker.operator
    care, technician, billing, cashier = people["care"], people["technician"], people["billing"], people["cashier"]
    reject = [("reject", care, {"note": "The customer withdrew the request."})]
    if key == "disconnection":
        connection = maker.connection()
        common = {"operator": operator, "customer": connection.customer, "connection": connection, "channel": "office"}
        if state in ("approved", "disconnected"):  # started by the billing officer for non-payment
            request = disconnection_open(**common, acting_user=billing, reason="non_payment", assignee=technician)
            if state == "disconnected":
                _work_done(request, WorkOrder.Kind.DISCONNECTION, technician, {"note": "Valve closed and sealed."})
            return request
        request = disconnection_open(**common, acting_user=care, details="Moving away for six months.")
        _steps(request, {"review": [("review", care, {})], "rejected": reject}.get(state, []))
        return request
    if key == "reconnection":
        connection = maker.connection(status=Connection.Status.DISCONNECTED)
        request = reconnection_open(
            operator=operator, customer=connection.customer, connection=connection, channel="office", acting_user=care
        )
        if state == "rejected":
            _steps(request, reject)
            return request
        if state == "received":
            return request
        _steps(request, [("accept", care, {"assignee": technician})])
        if state == "fee_due":
            return request
        fee = RequestFee.objects.get(request=request)
        _pay(operator, connection.number, fee.amount, cashier)
        request_advance(request=request, acting_user=cashier)  # what the payment's task does once it commits
        if state == "active":
            _work_done(request, WorkOrder.Kind.RECONNECTION, technician, {"note": "Valve opened, supply checked."})
        return request
    if key == "meter_transfer":
        connection = maker.connection(owes=Decimal("3500") if operator.currency == "RWF" else Decimal("350"))
        target = maker.connection()
        request = meter_transfer_open(
            operator=operator,
            customer=connection.customer,
            connection=connection,
            to_connection=target,
            channel="office",
            acting_user=care,
        )
        _steps(request, {"done": [("approve", people["admin"], {})], "rejected": reject}.get(state, []))
        return request
    if key == "ownership_change":
        connection = maker.connection(owes=Decimal("1200") if operator.currency == "RWF" else Decimal("120"))
        buyer = maker.connection().customer
        request = ownership_change_open(
            operator=operator,
            customer=connection.customer,
            connection=connection,
            to_customer=buyer,
            channel="office",
            acting_user=care,
            details="The house was sold.",
        )
        done = [("approve", care, {"arrears_acknowledged": True})]
        _steps(request, {"done": done, "rejected": reject}.get(state, []))
        return request
    if key == "package_change":
        connection = maker.connection()
        request = package_change_open(
            operator=operator,
            customer=connection.customer,
            connection=connection,
            channel="office",
            acting_user=care,
            package="DOMESTIC-PLUS",
            effective="next_period" if state == "done" else "now",
        )
        _steps(request, {"done": [("approve", billing, {})], "rejected": reject}.get(state, []))
        return request
    connection = maker.connection()
    request = termination_open(
        operator=operator, customer=connection.customer, connection=connection, channel="office", acting_user=care
    )
    if state == "received":
        return request
    if state == "rejected":
        _steps(request, reject)
        return request
    _steps(request, [("assign_reading", care, {"assignee": technician})])
    if state == "final_reading":
        return request
    final = "1500" if operator.currency == "RWF" else "150"
    _work_done(request, WorkOrder.Kind.FINAL_READING, technician, {"final_index": "812", "final_amount": final})
    if state == "terminated":
        _steps(request, [("settle", cashier, {})])
    return request


def build_connection_requests(ctx: DemoContext) -> None:
    from mita.payments.deposits import deposit_rate_save

    made = 0
    for key, stem in OPERATOR_KEYS.items():
        operator: Any = ctx.objects.get(f"operator:{key}")
        if operator is None:
            continue
        users = ctx.objects["users"]
        people = {
            role: users[f"{value}@{operator}"]
            for role, value in (
                ("admin", Role.OPERATOR_ADMIN),
                ("care", Role.CUSTOMER_CARE),
                ("technician", Role.TECHNICIAN),
                ("cashier", Role.CASHIER),
                ("billing", Role.BILLING_OFFICER),
                ("treasurer", Role.TREASURER),
            )
        }
        for code, label, amount in PACKAGES:
            value = Decimal(amount) if operator.currency == "RWF" else Decimal(amount) / 10
            deposit_rate_save(operator=operator, key=code, label=label, amount=value, acting_user=people["treasurer"])
        utility = Connection.Utility.ELECTRICITY if key == "izuba" else Connection.Utility.WATER
        maker = _Maker(operator, utility, stem, people)
        for type_key, states in CONNECTION_TYPE_STATES.items():
            for state in states:
                _connection_request_to(type_key, state, maker)
                made += 1
    ctx.log(
        f"{made} disconnection, reconnection, meter transfer, ownership change, package change and termination requests"
    )


register_demo_step(63, "servicing.connection_requests", build_connection_requests)
