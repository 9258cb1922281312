"""Operator A's customer care clerk, a customer and a connection: the small world the customers tests share."""

from decimal import Decimal
from typing import Any

from mita.accounts.roles import Role
from mita.customers.models import Connection, Customer
from mita.customers.services import connection_create, customer_create
from mita.testing.factories import member


def clerk_of(operator: Any, name: str = "Cleo Care") -> Any:
    return member(Role.CUSTOMER_CARE, operator, name=name)


def customer_of(operator: Any, *, name: str = "Jeanne Uwase", phone: str = "+250788123456", **fields: Any) -> Customer:
    return customer_create(operator=operator, acting_user=None, name=name, phone=phone, **fields)


def connection_of(operator: Any, customer: Customer, number: str = "AAL-0001", **fields: Any) -> Connection:
    fields.setdefault("utility", Connection.Utility.WATER)
    fields.setdefault("property_type", Connection.PropertyType.RESIDENTIAL)
    return connection_create(operator=operator, customer=customer, number=number, acting_user=None, **fields)


ZERO = Decimal("0")
