"""Stores, meter models and meters in store for the demo's operators, standing in for the meters demo (step 58) in
the installations tests until both are merged."""

import datetime
from decimal import Decimal
from typing import Any

from mita.customers.models import Connection
from mita.metering.models import Meter, MeterModel, Register, Store

RECEIVED = datetime.date(2025, 6, 1)


def _model(operator: Any, code: str, utility: str, digits: int, registers: list[tuple[str, str, str]]) -> MeterModel:
    model = MeterModel.objects.create(
        operator=operator, code=code, brand="Itron", name=code, utility=utility, dial_digits=digits
    )
    for position, (register, unit, multiplier) in enumerate(registers, start=1):
        Register.objects.create(
            meter_model=model, code=register, unit=unit, multiplier=Decimal(multiplier), position=position
        )
    return model


def meters_for_demo(operator: Any) -> int:
    """Enough meters for every metered connection of the operator and a fifth more, on 4- and 5-digit water models
    or on electricity models with two registers and a multiplier."""
    central = Store.objects.create(operator=operator, code="CEN", name="Central", kind=Store.Kind.CENTRAL)
    Store.objects.create(operator=operator, code="LAB", name="Lab", kind=Store.Kind.LAB)
    utilities = set(Connection.objects.filter(operator=operator, metered=True).values_list("utility", flat=True))
    models = []
    if "water" in utilities:
        models += [
            _model(operator, "W4", "water", 4, [("main", "m3", "1")]),
            _model(operator, "W5", "water", 5, [("main", "m3", "1")]),
        ]
    if "electricity" in utilities:
        models += [
            _model(operator, "E-SMART", "electricity", 6, [("active", "kWh", "1"), ("reactive", "kvarh", "1")]),
            _model(operator, "E-CT", "electricity", 5, [("active", "kWh", "40"), ("demand", "kW", "1")]),
        ]
    count = Connection.objects.filter(operator=operator, metered=True).count() * 6 // 5 + 2
    Meter.objects.bulk_create(
        [
            Meter(
                operator=operator,
                meter_model=model,
                brand=model.brand,
                serial=f"{model.code}-{number:06d}",
                store=central,
                received_on=RECEIVED,
            )
            for model in models
            for number in range(1, count // len(models) + 2)
        ]
    )
    return count
