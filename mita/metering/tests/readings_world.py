"""The small world the readings and field tests share: metered connections on a route, a reader assigned to it."""

import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from mita.accounts.roles import Role
from mita.customers.services_places import route_create
from mita.customers.tests.world import connection_of, customer_of
from mita.metering.installations import meter_install
from mita.metering.models import Installation, MeterModel, RouteAssignment
from mita.metering.tests.world import meter_model_of, meter_of
from mita.testing.factories import member

D = Decimal


def today() -> datetime.date:
    return timezone.localdate()


def days_ago(days: int) -> datetime.date:
    return today() - datetime.timedelta(days=days)


def reader_of(operator: Any, name: str = "Rita Reader") -> Any:
    return member(Role.BILLING_OFFICER, operator, name=name)


def route_of(operator: Any, code: str = "R1") -> Any:
    return route_create(operator=operator, code=code, name=f"Route {code}", acting_user=None)


def metered(
    operator: Any,
    *,
    number: str,
    serial: str,
    customer_name: str = "",
    route: Any = None,
    sequence: int | None = None,
    initial_index: Decimal = Decimal(100),
    installed_on: datetime.date | None = None,
    kind: str = MeterModel.Kind.MECHANICAL,
    **model_options: Any,
) -> Installation:
    """A customer's connection (on a route, at a place in its sequence) with a new meter installed on it."""
    customer = customer_of(operator, name=customer_name or f"Customer {number}")
    connection = connection_of(
        operator,
        customer,
        number=number,
        route=route,
        reading_sequence=sequence,
        utility=model_options.get("utility", "water"),
    )
    meter_model = meter_model_of(operator, code=f"M-{number}", **model_options)
    if kind != MeterModel.Kind.MECHANICAL:
        MeterModel.objects.filter(pk=meter_model.pk).update(kind=kind)
        meter_model.refresh_from_db()
    meter = meter_of(operator, meter_model, serial)
    return meter_install(
        meter=meter,
        connection=connection,
        installed_on=installed_on or days_ago(60),
        initial_index=initial_index,
        acting_user=None,
    )


def assign(operator: Any, route: Any, reader: Any, cycle: str) -> RouteAssignment:
    return RouteAssignment.objects.create(operator=operator, route=route, cycle=cycle, reader=reader)


def cycle_now() -> str:
    return f"{today():%Y-%m}"
