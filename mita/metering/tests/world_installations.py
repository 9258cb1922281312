"""The installations tests' small world: a technician, a connection without a meter, meters waiting in a store."""

import datetime
from decimal import Decimal
from typing import Any

from mita.accounts.roles import Role
from mita.customers.models import Connection
from mita.customers.tests.world import connection_of, customer_of
from mita.metering.models import Meter, MeterModel
from mita.metering.tests.world import meter_model_of, meter_of, store_of
from mita.testing.factories import member

D = Decimal
MAR_1 = datetime.date(2026, 3, 1)


def technician_of(operator: Any, name: str = "Tito Technician") -> Any:
    return member(Role.TECHNICIAN, operator, name=name)


def bare_connection(operator: Any, number: str = "AAL-0101", **fields: Any) -> Connection:
    customer = customer_of(operator, name=f"Customer {number}", phone=fields.pop("phone", "+250788123456"))
    return connection_of(operator, customer, number, **fields)


def meters_in_store(operator: Any, *serials: str, model: MeterModel | None = None, **model_options: Any) -> list[Meter]:
    meter_model = model or meter_model_of(operator, code=model_options.pop("code", "M20"), **model_options)
    return [meter_of(operator, meter_model, serial, store_of(operator)) for serial in serials]
