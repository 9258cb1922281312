"""A small metering world the metering tests share: a meter model, a store, meters and a metered connection."""

import datetime
from decimal import Decimal
from typing import Any

from mita.customers.tests.world import connection_of, customer_of
from mita.metering.installations import meter_install
from mita.metering.models import Installation, Meter, MeterModel, Register, Store

D = Decimal
JAN_1 = datetime.date(2026, 1, 1)


def meter_model_of(
    operator: Any,
    *,
    code: str = "M15",
    digits: int = 5,
    reversible: bool = False,
    multiplier: Decimal = Decimal(1),
    utility: str = "water",
    registers: tuple[str, ...] = ("main",),
) -> MeterModel:
    meter_model = MeterModel.objects.create(
        operator=operator,
        code=code,
        brand="Itron",
        name=f"Aquadis {code}",
        utility=utility,
        dial_digits=digits,
        reversible=reversible,
        size="15 mm",
        calibration_interval_months=60,
    )
    for position, register in enumerate(registers, start=1):
        Register.objects.create(
            meter_model=meter_model,
            code=register,
            unit="m3" if utility == "water" else "kWh",
            multiplier=multiplier,
            position=position,
        )
    return meter_model


def store_of(operator: Any, code: str = "CEN", kind: str = Store.Kind.CENTRAL) -> Store:
    return Store.objects.get_or_create(operator=operator, code=code, defaults={"name": f"Store {code}", "kind": kind})[
        0
    ]


def meter_of(operator: Any, meter_model: MeterModel, serial: str, store: Store | None = None) -> Meter:
    return Meter.objects.create(
        operator=operator,
        meter_model=meter_model,
        brand=meter_model.brand,
        serial=serial,
        store=store or store_of(operator),
        received_on=JAN_1,
    )


def metered_connection(
    operator: Any,
    *,
    number: str = "AAL-0001",
    serial: str = "30001",
    initial_index: Decimal = Decimal(0),
    installed_on: datetime.date = JAN_1,
    **model_options: Any,
) -> Installation:
    """A customer's connection with a new meter of a new model installed on it."""
    customer = customer_of(operator, name=f"Customer {number}")
    connection = connection_of(operator, customer, number=number, utility=model_options.get("utility", "water"))
    meter_model = meter_model_of(operator, code=f"M-{number}", **model_options)
    meter = meter_of(operator, meter_model, serial)
    return meter_install(
        meter=meter, connection=connection, installed_on=installed_on, initial_index=initial_index, acting_user=None
    )
