"""Walks every URL pattern: another operator's user must never reach operator A's objects or data.

A pattern with an object in its path must answer 404 to the outsider (or the same 403 it gives for a
missing object, when the outsider's role may not use that page at all); a pattern without one may answer
200 (their own data), 302, 403 or 405, but never show operator A's data. A new URL parameter needs an
entry in OBJECTS below (how to make operator A's object for it) — the test fails until it has one.
"""

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from mita.accounts.models import Membership
from mita.accounts.roles import Role
from mita.core.jobs import job_create
from mita.notifications.models import OutboxMessage
from mita.testing.factories import member

# Pages anyone may open, signed in or not, that hold no operator's data.
PUBLIC = {
    "payments/momo/callback/<int:operator_id>/<str:secret>/": "MoMo callback authenticated by its secret (tested in payments)",
    "payments/daraja/<str:secret>/c2b/validation/": "M-Pesa callback authenticated by its secret (tested in payments)",
    "payments/daraja/<str:secret>/c2b/confirmation/": "M-Pesa callback authenticated by its secret (tested in payments)",
    "payments/daraja/<str:secret>/stk/result/": "M-Pesa callback authenticated by its secret (tested in payments)",
    "pay/<str:token>/": "a payment link: its unguessable token is its own secret; a wrong one is a 404 (tested in payments)",
    "pay/<str:token>/return/": "the customer's return from the gateway, under the link's token (tested in payments)",
    "pay/hooks/<int:operator_id>/<str:secret>/": "gateway webhook authenticated by its secret and verif-hash (tested in payments)",
    "q/<str:token>/": "a request's public quote page: its unguessable token is its own secret; a wrong one is a 404 (tested in servicing)",
    "healthz": "health check",
    "accounts/login/": "sign-in page",
    "accounts/logout/": "sign-out",
    "accounts/invitation/<str:token>/": "an invitation token is its own secret; a wrong one is a 404 (tested in accounts)",
    "accounts/password/forgot/": "password reset request",
    "accounts/password/code/": "password reset with code",
    "accounts/language/": "language switch",
    "api/v1/auth/token": "token exchange",
    "api/v1/openapi.json": "API schema",
    "api/v1/docs": "API docs page",
    "notifications/at/delivery/<str:secret>/": "provider callback authenticated by its secret (tested in notifications)",
}
SKIPPED_PREFIXES = ("admin/", "static/", "media/")


def world_a(operator_a: Any, admin_a: Any) -> dict[str, Callable[[], Any]]:
    """How to make operator A's object for each URL parameter."""
    staff = member(Role.CASHIER, operator_a, name="Zed Secret-Cashier-A")
    return {
        "user_id": lambda: staff.pk,
        "membership_id": lambda: Membership.objects.get(user=staff).pk,
        "operator_id": lambda: operator_a.pk,
        "district_id": lambda: operator_a.districts.first().pk,
        "contract_id": lambda: _contract_of(operator_a).pk,
        "requirement_id": lambda: _requirement().pk,
        "job_id": lambda: job_create(kind="test", title="Secret job of A", operator=operator_a).pk,
        "licence_id": lambda: _licence_of(operator_a).pk,
        "cluster_id": lambda: _supply_system_of(operator_a).cluster_id,
        "supply_system_id": lambda: _supply_system_of(operator_a).pk,
        "payment_id": lambda: _payment_of(operator_a, staff).pk,
        "momo_id": lambda: _momo_request_of(operator_a).pk,
        "stk_id": lambda: _stk_request_of(operator_a).pk,
        "checkout_id": lambda: _online_checkout_of(operator_a, staff).pk,
        "holder": lambda: _payment_of(operator_a, staff).holder,
        "till_id": lambda: _till_of(operator_a, staff).pk,
        "handover_id": lambda: _handover_of(operator_a, staff).pk,
        "rate_id": lambda: _deposit_rate_of(operator_a).pk,
        "refund_id": lambda: _refund_of(operator_a, staff).pk,
        "charge_id": lambda: _charge_of(operator_a, staff).pk,
        "customer_id": lambda: _connection_of(operator_a).customer_id,
        "connection_id": lambda: _connection_of(operator_a).pk,
        "panel_key": lambda: "payments.debt",  # a panel of the customer 360 page (customers/<id>/panels/<key>/)
        "route_id": lambda: _route_of(operator_a).pk,
        "chamber_id": lambda: _chamber_of(operator_a).pk,
        "change_id": lambda: _contact_change_of(operator_a).pk,
        "request_id": lambda: _service_request_of(operator_a).pk,
        "attachment_id": lambda: _service_request_of(operator_a).attachments.get().pk,
        "work_order_id": lambda: _service_request_of(operator_a).work_orders.get().pk,
        "material_id": lambda: _material_of(operator_a).pk,
        "import_id": lambda: _import_of(operator_a).pk,
        # metering/imports
        "reading_import_id": lambda: _reading_import_of(operator_a).pk,
        "tariff_id": lambda: _tariff_of(operator_a).pk,
        "version_id": lambda: _tariff_of(operator_a).versions.get().pk,
        "package_id": lambda: _package_of(operator_a).pk,
        # metering/review, metering/readings
        "reading_id": lambda: _review_reading_of(operator_a).pk,
        # metering/meters
        "meter_id": lambda: _meter_of(operator_a).pk,
        "meter_model_id": lambda: _meter_of(operator_a).meter_model_id,
        "store_id": lambda: _meter_of(operator_a).store_id,
        "movement_id": lambda: _meter_of(operator_a).movement_lines.get().movement_id,
        "calibration_id": lambda: _calibration_of(operator_a).pk,
        # metering/installations
        "installation_id": lambda: _installation_of(operator_a).pk,
        "cycle_id": lambda: _bill_of(operator_a).cycle_id,  # billing
        "bill_run_id": lambda: _bill_of(operator_a).run_id,  # billing
        "bill_id": lambda: _bill_of(operator_a).pk,  # billing
        "penalty_rule_id": lambda: _penalty_rule_of(operator_a).pk,  # billing/corrections
        "indigent_id": lambda: _indigent_of(operator_a).pk,  # customers: the indigent register
        "message_id": lambda: (
            OutboxMessage.objects.create(
                operator=operator_a,
                channel="sms",
                to="+250788000111",
                template="notifications.test",
                language="en",
                body="Secret message of A",
            ).pk
        ),
    }


MISSING: dict[str, Callable[[], Any]] = {
    "user_id": lambda: 999999,
    "membership_id": lambda: 999999,
    "operator_id": lambda: 999999,
    "district_id": lambda: 999999,
    "contract_id": lambda: 999999,
    "requirement_id": lambda: 999999,
    "job_id": lambda: uuid.UUID(int=1),
    "message_id": lambda: 999999,
    "licence_id": lambda: 999999,
    "cluster_id": lambda: 999999,
    "supply_system_id": lambda: 999999,
    "payment_id": lambda: 999999,
    "momo_id": lambda: 999999,
    "stk_id": lambda: 999999,
    "checkout_id": lambda: 999999,
    "holder": lambda: "NO-SUCH-ACCOUNT",
    "till_id": lambda: 999999,
    "handover_id": lambda: 999999,
    "rate_id": lambda: 999999,
    "refund_id": lambda: 999999,
    "charge_id": lambda: 999999,
    "customer_id": lambda: 999999,
    "connection_id": lambda: 999999,
    "panel_key": lambda: "no.such-panel",
    "route_id": lambda: 999999,
    "chamber_id": lambda: 999999,
    "change_id": lambda: 999999,
    "request_id": lambda: 999999,
    "attachment_id": lambda: 999999,
    "work_order_id": lambda: 999999,
    "material_id": lambda: 999999,
    "import_id": lambda: 999999,
    # metering/imports
    "reading_import_id": lambda: 999999,
    "tariff_id": lambda: 999999,
    "version_id": lambda: 999999,
    "package_id": lambda: 999999,
    "cycle_id": lambda: 999999,  # billing
    "bill_run_id": lambda: 999999,  # billing
    "bill_id": lambda: 999999,  # billing
    "penalty_rule_id": lambda: 999999,  # billing/corrections
    "indigent_id": lambda: 999999,  # customers: the indigent register
    # metering/review, metering/readings
    "reading_id": lambda: 999999,
    # metering/meters
    "meter_id": lambda: 999999,
    "meter_model_id": lambda: 999999,
    "store_id": lambda: 999999,
    "movement_id": lambda: 999999,
    "calibration_id": lambda: 999999,
    # metering/installations
    "installation_id": lambda: 999999,
}


def _bill_of(operator: Any) -> Any:  # billing
    from mita.billing.tests.world_billing import walk_bill

    return walk_bill(operator, _connection_of(operator))


def _penalty_rule_of(operator: Any) -> Any:  # billing/corrections
    """A penalty rule of operator A named after it (so that A_MARKERS catch a leak)."""
    from mita.billing.models import PenaltyRule
    from mita.billing.penalties import penalty_rule_save

    return PenaltyRule.objects.filter(operator=operator).first() or penalty_rule_save(
        operator=operator, acting_user=None, name="Penalty of Amazi Alpha Ltd", kind="flat", amount="100"
    )


def _indigent_of(operator: Any) -> Any:  # customers: the indigent register
    """Operator A's walk customer (named in A_MARKERS) on its indigent register, its reference naming A too."""
    import datetime

    from mita.customers.indigent import indigent_register
    from mita.customers.models import IndigentRegistration

    customer = _connection_of(operator).customer
    return IndigentRegistration.objects.filter(customer=customer).first() or indigent_register(
        operator=operator,
        customer=customer,
        reference="Social register of Amazi Alpha Ltd",
        valid_from=datetime.date(2026, 1, 1),
        acting_user=None,
    )


def _review_reading_of(operator: Any) -> Any:
    """metering/review: a reading of operator A's walk connection waiting for review (not read: a reader's code)."""
    import datetime

    from django.utils import timezone

    from mita.metering.installations import meter_install
    from mita.metering.models import Installation, Reading
    from mita.metering.readings import ReadingInput, readings_record
    from mita.metering.tests.world import meter_model_of, meter_of

    connection = _connection_of(operator)
    if reading := Reading.objects.filter(connection=connection, status="review").first():
        return reading
    if not Installation.objects.filter(connection=connection, removed_on__isnull=True).exists():
        meter_install(
            meter=meter_of(operator, meter_model_of(operator, code="WALK-REVIEW"), "SECRET-METER-A"),
            connection=connection,
            installed_on=datetime.date(2026, 1, 1),
            initial_index=0,
            acting_user=None,
        )
    row = ReadingInput(
        connection_id=connection.pk,
        current_index=None,
        read_on=timezone.localdate(),
        reader_code="dog",
        note="Read at Amazi Alpha Ltd",  # names A, so that A_MARKERS catch a leak
    )
    return readings_record(operator=operator, rows=[row], source="manual")[0].reading


# metering/meters
def _meter_of(operator: Any) -> Any:
    """A meter of operator A received into its store (model and store named after A, so that A_MARKERS catch a leak)."""
    import datetime

    from mita.metering.models import Meter
    from mita.metering.services_catalogue import meter_model_create, store_create
    from mita.metering.services_movements import meters_receive

    if meter := Meter.objects.filter(operator=operator, serial="AAL-SECRET-M1").first():
        return meter
    model = meter_model_create(
        operator=operator, acting_user=None, code="SECRET-MM", brand="Amazi Alpha Ltd", name="Meter", utility="water"
    )
    store = store_create(operator=operator, acting_user=None, code="SECRET-ST", name="Store of Amazi Alpha Ltd")
    meters_receive(
        operator=operator,
        store=store,
        meter_model=model,
        serials=["AAL-SECRET-M1"],
        received_on=datetime.date(2026, 1, 5),
        supplier="Supplier of Amazi Alpha Ltd",
        acting_user=None,
    )
    return Meter.objects.get(operator=operator, serial="AAL-SECRET-M1")


def _calibration_of(operator: Any) -> Any:
    import datetime

    from mita.metering.models import Calibration
    from mita.metering.services_calibration import calibration_record

    meter = _meter_of(operator)
    return Calibration.objects.filter(meter=meter).first() or calibration_record(
        meter=meter, calibrated_on=datetime.date(2026, 1, 6), result="passed", note="Amazi Alpha Ltd", acting_user=None
    )


# metering/imports
def _reading_import_of(operator: Any) -> Any:
    """A checked file of readings of operator A, named after A (so that A_MARKERS catch a leak)."""
    from mita.metering.reading_imports import reading_import_check

    content = b"connection_number,index,read_on\nAAL-SECRET-9,12,2026-01-28\n"
    return reading_import_check(operator=operator, acting_user=None, file_name="Amazi Alpha Ltd.csv", content=content)


def _route_of(operator: Any) -> Any:
    from mita.customers.models import Route
    from mita.customers.services_places import route_create

    return Route.objects.filter(operator=operator).first() or route_create(
        operator=operator, code="R-A", name="Route of Amazi Alpha Ltd", acting_user=None
    )


def _chamber_of(operator: Any) -> Any:
    from mita.customers.models import MeterChamber
    from mita.customers.services_places import chamber_create

    return MeterChamber.objects.filter(operator=operator).first() or chamber_create(
        operator=operator, code="CH-A", description="Chamber of Amazi Alpha Ltd", acting_user=None
    )


def _contact_change_of(operator: Any) -> Any:
    """A pending contact change of operator A's customer (the one with the walk's connection)."""
    from mita.customers.models import ContactChange
    from mita.customers.services_contacts import contact_change_start

    customer = _connection_of(operator).customer
    return ContactChange.objects.filter(customer=customer).first() or contact_change_start(
        customer=customer, changes={"email": "secret@amazi-alpha.example"}, acting_user=None
    )


def _service_request_of(operator: Any) -> Any:
    """A complaint of operator A's customer (named in A_MARKERS), with a signed form and a survey work order."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import transaction

    from mita.servicing.models import ServiceRequest
    from mita.servicing.services import attachment_add, work_order_create
    from mita.servicing.types.complaint import complaint_open

    if request := ServiceRequest.objects.filter(operator=operator).first():
        return request
    connection = _connection_of(operator)
    technician = member(Role.TECHNICIAN, operator, name="Technician of Amazi Alpha Ltd")
    with transaction.atomic():
        request = complaint_open(
            operator=operator,
            customer=connection.customer,
            connection=connection,
            category="leak",
            summary="Leak at Amazi Alpha Ltd",
            channel="office",
            acting_user=None,
        )
        attachment_add(
            request=request,
            upload=SimpleUploadedFile("secret.pdf", b"%PDF-1.4 secret of Amazi Alpha Ltd"),
            kind="other",
            acting_user=None,
        )
        work_order_create(request=request, kind="repair", assignee=technician, acting_user=None)
    return request


def _material_of(operator: Any) -> Any:
    from decimal import Decimal

    from mita.stock.models import Material
    from mita.stock.services import material_create

    return Material.objects.filter(operator=operator).first() or material_create(
        operator=operator,
        acting_user=None,
        code="SECRET-A",
        name="Pipe of Amazi Alpha Ltd",
        unit="m",
        unit_price=Decimal("100"),
    )


def _tariff_of(operator: Any) -> Any:
    """A water tariff of operator A named after it (so that A_MARKERS catch a leak), with a draft version."""
    import datetime

    from mita.tariffs.models import Tariff
    from mita.tariffs.services import tariff_create, version_create

    if tariff := Tariff.objects.filter(operator=operator, code="SECRET-A").first():
        return tariff
    tariff = tariff_create(
        operator=operator, acting_user=None, code="SECRET-A", name="Tariff of Amazi Alpha Ltd", utility="water"
    )
    definition = {
        "currency": operator.currency,
        "utility": "water",
        "unit": "m3",
        "components": [{"type": "blocks", "label": "Water of Amazi Alpha Ltd", "bands": [{"upto": None, "rate": 1}]}],
    }
    version_create(tariff=tariff, acting_user=None, effective_from=datetime.date(2026, 1, 1), definition=definition)
    return tariff


def _package_of(operator: Any) -> Any:
    import datetime

    from mita.tariffs.models import Package
    from mita.tariffs.services_packages import package_create

    return Package.objects.filter(operator=operator).first() or package_create(
        operator=operator,
        acting_user=None,
        name="Package of Amazi Alpha Ltd",
        load_limit_w=100,
        hours_per_day=24,
        charging="flat",
        payment="postpaid",
        price="3000",
        effective_from=datetime.date(2026, 1, 1),
    )


def _import_of(operator: Any) -> Any:
    """A previewed customer import of operator A, its file named after A (so that A_MARKERS catch a leak)."""
    from mita.customers.imports import import_preview

    content = (
        b"connection_number,name,phone,utility,property_type\nAAL-SECRET-I1,Imported,+250788000333,water,residential\n"
    )
    return import_preview(operator=operator, acting_user=None, file_name="Amazi Alpha Ltd.csv", content=content)


# metering/installations
def _installation_of(operator: Any) -> Any:
    """A meter installed on operator A's walk connection (its customer named in A_MARKERS), with a reading."""
    import datetime
    from decimal import Decimal

    from mita.metering.installations import meter_install
    from mita.metering.models import Installation, Meter, MeterModel, Store
    from mita.metering.readings import ReadingInput, readings_record

    connection = _connection_of(operator)
    if installation := Installation.objects.filter(connection=connection).first():
        return installation
    model = MeterModel.objects.create(operator=operator, code="SECRET-M", brand="Itron", name="Secret", utility="water")
    store = Store.objects.create(operator=operator, code="SECRET-S", name="Store of Amazi Alpha Ltd")
    meter = Meter.objects.create(operator=operator, meter_model=model, brand="Itron", serial="SECRET-1", store=store)
    installation = meter_install(
        meter=meter,
        connection=connection,
        installed_on=datetime.date(2026, 1, 1),
        initial_index=Decimal(3),
        acting_user=None,
    )
    readings_record(
        operator=operator,
        rows=[ReadingInput(connection.pk, Decimal(9), datetime.date(2026, 1, 28), note="Amazi Alpha Ltd")],
        source="manual",
    )
    return installation


def _connection_of(operator: Any) -> Any:
    """Operator A's customer (named in A_MARKERS) and their connection."""
    from mita.customers.models import Connection
    from mita.customers.services import connection_create, customer_create

    if connection := Connection.objects.filter(operator=operator, number="AAL-SECRET-C1").first():
        return connection
    customer = customer_create(
        operator=operator, acting_user=None, name="Customer of Amazi Alpha Ltd", phone="+250788000222"
    )
    return connection_create(
        operator=operator,
        customer=customer,
        number="AAL-SECRET-C1",
        utility="water",
        property_type="residential",
        acting_user=None,
    )


def _till_of(operator: Any, cashier: Any) -> Any:
    """Operator A's cashier's till, holding the walk's payment (the cashier is named in A_MARKERS)."""
    from decimal import Decimal

    from mita.payments.cashier import till_open
    from mita.payments.models import TillSession

    if till := TillSession.objects.filter(operator=operator, cashier=cashier).first():
        return till
    till = till_open(operator=operator, cashier=cashier, float_amount=Decimal("5000"), idempotency_key="walk-till-a")
    _payment_of(operator, cashier)
    return till


def _handover_of(operator: Any, cashier: Any) -> Any:
    """A hand-over by operator A's collector (named after A, so that A_MARKERS catch a leak) to A's treasurer."""
    import uuid as uuid_module
    from decimal import Decimal

    from mita.payments.cashier import handover_record
    from mita.payments.models import CashHandover
    from mita.payments.services import payment_receive

    if handover := CashHandover.objects.filter(operator=operator).first():
        return handover
    _payment_of(operator, cashier)  # the account AAL-SECRET-1
    collector = member(Role.REVENUE_COLLECTOR, operator, name="Collector of Amazi Alpha Ltd")
    treasurer = member(Role.TREASURER, operator, name="Treasurer of Amazi Alpha Ltd")
    payment_receive(
        operator=operator,
        channel="cash_field",
        amount=Decimal("300"),
        account_reference="AAL-SECRET-1",
        idempotency_key=f"walk-field-{uuid_module.uuid4()}",
        received_by=collector,
    )
    return handover_record(
        operator=operator, collector=collector, treasurer=treasurer, amount=Decimal("300"), idempotency_key="walk-h"
    )


def _deposit_rate_of(operator: Any) -> Any:
    from decimal import Decimal

    from mita.payments.models import DepositRate

    return DepositRate.objects.get_or_create(
        operator=operator, key="secret-a", defaults={"label": "Deposit of Amazi Alpha Ltd", "amount": Decimal("5000")}
    )[0]


def _charge_of(operator: Any, cashier: Any) -> Any:
    from mita.ledger.models import Charge

    _payment_of(operator, cashier)
    return Charge.objects.get(operator=operator, reference="bill:secret-a")


def _refund_of(operator: Any, cashier: Any) -> Any:
    """A refund request of operator A's account, payee named in A_MARKERS (a row: the walk needs no ledger here)."""
    from decimal import Decimal

    from mita.payments.models import Refund

    return Refund.objects.get_or_create(
        operator=operator,
        idempotency_key="secret-walk-refund",
        defaults={
            "sequence_number": 1,
            "number": "AAL-RF-000001",
            "holder": _payment_of(operator, cashier).holder,
            "source": "credit",
            "amount": Decimal("100"),
            "currency": operator.currency,
            "reason": "Secret refund",
            "payee_name": "Amazi Alpha Ltd",
            "method": "cash",
            "requested_by": cashier,
        },
    )[0]


def _momo_request_of(operator: Any) -> Any:
    import uuid as uuid_module
    from decimal import Decimal

    from mita.payments.models import MomoRequest

    return MomoRequest.objects.create(
        operator=operator,
        reference_id=uuid_module.uuid4(),
        external_id="AAL-SECRET-1",
        amount=Decimal("100"),
        currency="RWF",
        payer_phone="250788000111",
    )


def _stk_request_of(operator: Any) -> Any:
    """A pending M-Pesa STK push of operator A (never sent: the walk must not reach Daraja)."""
    from decimal import Decimal

    from mita.payments.models import StkRequest

    stk, _created = StkRequest.objects.get_or_create(
        operator=operator,
        checkout_request_id="ws_CO_SECRET_A",
        defaults={
            "account_reference": "AAL-SECRET-1",
            "amount": Decimal("100"),
            "currency": "RWF",
            "phone": "254708374149",
        },
    )
    return stk


def _online_checkout_of(operator: Any, cashier: Any) -> Any:
    """A payment link of operator A's account AAL-SECRET-1 and a checkout started on it."""
    import datetime
    from decimal import Decimal

    from django.utils import timezone

    from mita.payments.models import OnlineCheckout, PaymentLink

    link = PaymentLink.objects.create(
        operator=operator,
        holder=_payment_of(operator, cashier).holder,
        token=uuid.uuid4().hex,
        expires_at=timezone.now() + datetime.timedelta(days=30),
    )
    return OnlineCheckout.objects.create(
        operator=operator,
        link=link,
        holder=link.holder,
        tx_ref=f"AAL-{uuid.uuid4().hex}",
        amount=Decimal("100"),
        currency="RWF",
        payer_phone="+250788000111",
    )


def _payment_of(operator: Any, cashier: Any) -> Any:
    """A charge to operator A's account AAL-SECRET-1 and a payment of it, taken by A's cashier (named in A_MARKERS)."""
    import datetime
    from decimal import Decimal

    from mita.ledger.services import charge_post
    from mita.payments.models import Payment
    from mita.payments.services import payment_receive

    if payment := Payment.objects.filter(operator=operator, idempotency_key="secret-walk-a").first():
        return payment
    charge_post(
        operator=operator,
        holder="AAL-SECRET-1",
        head="water_sales",
        amount=Decimal("1200"),
        vat_rule="standard",
        reference="bill:secret-a",
        due_date=datetime.date(2026, 1, 31),
        acting_user=None,
    )
    return payment_receive(
        operator=operator,
        channel="cash_office",
        amount=Decimal("500"),
        account_reference="AAL-SECRET-1",
        idempotency_key="secret-walk-a",
        received_by=cashier,
        payer_name="Amazi Alpha Ltd",
    )


def _licence_of(operator: Any) -> Any:
    from django.utils import timezone

    from mita.registry.models import Licence

    licence, _created = Licence.objects.get_or_create(
        number="SECRET/LICENCE/A",
        defaults={
            "operator": operator,
            "holder_name": "Amazi Alpha Ltd",
            "status": "valid",
            "issued_on": "2025-01-01",
            "expires_on": "2030-01-01",
            "fetched_at": timezone.now(),
        },
    )
    return licence


def _supply_system_of(operator: Any) -> Any:
    """A cluster assigned to operator A, with a water supply system; named so that A_MARKERS catch a leak."""
    from mita.registry.models import Cluster, ClusterAssignment, SupplySystem

    cluster, created = Cluster.objects.get_or_create(code="SECRET-A", defaults={"name": "Cluster of Amazi Alpha Ltd"})
    if created:
        ClusterAssignment.objects.create(
            cluster=cluster, operator=operator, starts_on="2025-01-01", expires_on="2099-12-31"
        )
    supply_system, _created = SupplySystem.objects.get_or_create(
        code="SECRET-A-1",
        defaults={"cluster": cluster, "kind": "water", "technology": "gravity", "name": "System of Amazi Alpha Ltd"},
    )
    return supply_system


def _contract_of(operator: Any) -> Any:
    """A district contract of operator A in its district (only the file's name: no page reaches the file)."""
    from mita.registry.models import Contract

    contract, _created = Contract.objects.get_or_create(
        title="Contract of Amazi Alpha Ltd",
        defaults={
            "operator": operator,
            "kind": "district",
            "district": operator.districts.first(),
            "parties": "Amazi Alpha Ltd and its district",
            "signed_on": "2025-01-01",
            "starts_on": "2025-01-01",
            "ends_on": "2030-01-01",
            "document": "contracts/secret-a.pdf",
            "status": "active",
        },
    )
    return contract


def _requirement() -> Any:
    from mita.registry.models import Requirement

    return Requirement.objects.get_or_create(title="Secret requirement of the walk")[0]


A_MARKERS = ("Amazi Alpha Ltd", "Zed Secret-Cashier-A", "Secret job of A", "Secret message of A")


def _patterns(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, route)
        else:
            yield route, entry


def all_routes() -> list[str]:
    return sorted({route for route, _ in _patterns(get_resolver()) if not route.startswith(SKIPPED_PREFIXES)})


PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


def _fill(route: str, objects: dict[str, Callable[[], Any]]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in objects:
            pytest.fail(f"URL {route!r} has a parameter {name!r} the tenancy walk cannot fill: add it to world_a()")
        return str(objects[name]())

    return "/" + PARAM.sub(value, route)


def _request(client: Any, url: str) -> Any:
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url, {})
    return response


@pytest.fixture
def district_officer_b(district_b):  # type: ignore[no-untyped-def]
    return member(Role.DISTRICT_OFFICER, district_b, name="Dora District-B")


@pytest.mark.parametrize("outsider_name", ["admin_b", "district_officer_b"])
def test_no_page_or_endpoint_shows_operator_a_to_an_outsider(request, client_for, operator_a, admin_a, outsider_name):
    # given operator A's objects of every kind a URL can name, and an outsider of operator A
    objects = world_a(operator_a, admin_a)
    outsider = request.getfixturevalue(outsider_name)
    client = client_for(outsider)
    routes = [route for route in all_routes() if route not in PUBLIC]
    assert len(routes) > 10, "the walk found too few URL patterns"
    problems = []
    for route in routes:
        url = _fill(route, objects)
        # when the outsider opens it
        response = _request(client, url)
        body = response.content.decode(errors="replace")
        # then an object of A is a 404, and nothing shows A's data
        if PARAM.search(route) and response.status_code != 404:
            # A refusal that comes before the lookup (the role, the request's shape) is fine only if a missing
            # object gets the very same answer: then nothing is learnt about operator A's object.
            missing = _request(client, _fill(route, MISSING)).status_code
            if response.status_code not in (400, 403, 405, 422) or missing != response.status_code:
                problems.append(
                    f"{url}: {response.status_code} for operator A's object but {missing} for a missing one "
                    "(expected 404, or the same refusal for both)"
                )
        elif response.status_code not in (200, 302, 303, 400, 403, 404, 405, 422):
            problems.append(f"{url}: unexpected status {response.status_code}")
        leaked = [marker for marker in A_MARKERS if marker in body]
        if leaked:
            problems.append(f"{url}: shows operator A's data {leaked}")
    assert not problems, "\n".join(problems)


def test_the_walk_reaches_operator_a_objects_for_their_own_admin(client_for, operator_a, admin_a):
    """The same URLs do open for operator A's admin, so the 404s above are tenancy, not broken URLs."""
    objects = world_a(operator_a, admin_a)
    client = client_for(admin_a)
    for route in (
        "accounts/users/<int:user_id>/",
        "notifications/outbox/<int:message_id>/",
        "jobs/<uuid:job_id>/",
        "payments/<int:payment_id>/receipt.pdf",
        "payments/accounts/<str:holder>/statement/",
        "payments/accounts/<str:holder>/statement.pdf",
        "api/v1/accounts/<holder>/statement",
        "api/v1/accounts/<holder>/payments",
        "service/<int:request_id>/",
        "service/<int:request_id>/attachments/<int:attachment_id>/",
        "service/work-orders/<int:work_order_id>/",
        "stock/materials/<int:material_id>/",
        "api/v1/service-requests/<request_id>",
        "api/v1/work-orders/<work_order_id>",
        "api/v1/materials/<material_id>",
        "metering/reading-imports/<int:reading_import_id>/",  # metering/imports
        "api/v1/reading-imports/<reading_import_id>",  # metering/imports
        "tariffs/<int:tariff_id>/",
        "tariffs/versions/<int:version_id>/",
        "tariffs/packages/<int:package_id>/",
        "api/v1/tariffs/<tariff_id>",
        "api/v1/tariff-versions/<version_id>",
        "api/v1/packages/<package_id>",
        "metering/review/<int:reading_id>/",  # metering/review
        "api/v1/readings/<reading_id>",  # metering/readings
        # metering/meters
        "metering/meters/<int:meter_id>/",
        "metering/movements/<int:movement_id>/",
        "metering/calibrations/<int:calibration_id>/",
        "api/v1/meters/<meter_id>",
        "api/v1/meter-movements/<movement_id>",
        # metering/installations
        "metering/connections/<int:connection_id>/meter/",
        "metering/routes/<int:route_id>/book/",
        "api/v1/installations/<installation_id>",
        "api/v1/connections/<connection_id>/installations",
        "api/v1/routes/<route_id>/book",
        "billing/bills/<int:bill_id>/pdf/",  # billing/documents
        "billing/connections/<int:connection_id>/household/",  # billing/documents
        "api/v1/bills/<bill_id>/pdf",  # billing/documents
        "api/v1/connections/<connection_id>/household",  # billing/documents
        "billing/penalties/rules/<int:penalty_rule_id>/",  # billing/corrections
        "api/v1/penalty-rules/<penalty_rule_id>",  # billing/corrections
        "api/v1/indigent-register/<indigent_id>",  # customers: the indigent register
    ):
        if route not in all_routes():
            continue
        response = client.get(_fill(route, objects))
        assert response.status_code == 200, route


def test_public_and_skipped_lists_name_only_real_routes():
    routes = set(all_routes())
    assert set(PUBLIC) - routes - {"notifications/at/delivery/<str:secret>/"} == set()
