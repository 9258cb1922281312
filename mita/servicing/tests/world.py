"""Operator A's servicing world: terms, a fee schedule, a catalogue, customer care, a technician and a cashier."""

import datetime
import uuid
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from mita.accounts.roles import Role
from mita.payments.services import payment_receive
from mita.servicing.models import ServiceFee
from mita.servicing.services import service_fee_set, terms_publish
from mita.stock.services import material_create
from mita.testing.factories import member

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def signed_form(name: str = "form.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


class World:
    def __init__(self, operator: Any, *, connection_fee: str = "10000") -> None:
        self.operator = operator
        self.admin = member(Role.OPERATOR_ADMIN, operator, name="Ada Admin")
        self.care = member(Role.CUSTOMER_CARE, operator, name="Cleo Care")
        self.technician = member(Role.TECHNICIAN, operator, name="Tom Technician")
        self.cashier = member(Role.CASHIER, operator, name="Cash Cashier")
        self.terms = terms_publish(
            operator=operator,
            version="2026-1",
            text="You pay your bills on time.",
            effective_from=datetime.date(2026, 1, 1),
            acting_user=self.admin,
        )
        service_fee_set(
            operator=operator,
            kind=ServiceFee.Kind.CONNECTION,
            utility="water",
            amount=Decimal(connection_fee),
            acting_user=self.admin,
        )
        self.pipe = material_create(
            operator=operator,
            acting_user=self.admin,
            code="PIPE-20",
            name="HDPE pipe 20 mm",
            unit="m",
            unit_price=Decimal("800"),
            properties={"diameter_mm": 20},
        )
        self.meter_kit = material_create(
            operator=operator,
            acting_user=self.admin,
            code="KIT-M",
            name="Meter kit",
            unit="piece",
            unit_price=Decimal("15000"),
        )

    def pay(self, holder: str, amount: str, channel: str = "cash_office") -> Any:
        return payment_receive(
            operator=self.operator,
            channel=channel,
            amount=Decimal(amount),
            account_reference=holder,
            idempotency_key=f"test-{uuid.uuid4()}",
            received_by=self.cashier,
        )

    def survey_result(self, pipe_metres: str = "25", kits: str = "1") -> dict[str, Any]:
        return {
            "distance_m": "24.5",
            "crossings": [{"kind": "road", "count": 1, "length_m": "6"}, {"kind": "river", "count": 0, "length_m": 0}],
            "materials": [
                {"material_id": self.pipe.pk, "quantity": pipe_metres},
                {"material_id": self.meter_kit.pk, "quantity": kits},
            ],
        }
