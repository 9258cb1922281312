"""Reads of customers and connections: the lists and lookups (404 across operators), search, and the
contact behind a customer account (a connection number) for the apps that text customers."""

import dataclasses
from typing import Any

from django.db import connection as db_connection
from django.db.models import QuerySet
from django.http import Http404

from mita.accounts.roles import Role
from mita.core.access import Access
from mita.core.prepared import prepared_cursor
from mita.customers.models import Connection, ConnectionHolding, Customer, CustomerStatusChange

# Who reads customers and who changes them (docs/customers.md).
CUSTOMER_READ_ROLES = (Role.OPERATOR_ADMIN, Role.CUSTOMER_CARE, Role.BILLING_OFFICER, Role.CASHIER)
CUSTOMER_WRITE_ROLES = (Role.OPERATOR_ADMIN, Role.CUSTOMER_CARE)


def _operator_of(access: Access) -> Any:
    if access.operator is None:
        raise Http404
    return access.operator


def customers_visible_to(*, access: Access, search: str = "", status: str = "") -> QuerySet[Customer]:
    """The operator's customers. A search finds what the search box finds (mita.customers.search): a word of the
    number, name, phone, ID, address or bank account, or a connection's number, starting with each word typed,
    through the word index (a `%term%` scan would not do at a million customers)."""
    from mita.customers.search import customers_matching  # the search reads the roles defined here

    customers = Customer.objects.filter(operator=_operator_of(access)).select_related("district")
    if status:
        customers = customers.filter(status=status)
    if search.strip():
        customers = customers.filter(customers_matching(operator=access.operator, query=search))
    return customers


def customer_get_for_access(*, access: Access, customer_id: int) -> Customer:
    """One customer of the user's operator, or 404 (another operator's customer does not exist for them)."""
    customer = customers_visible_to(access=access).filter(pk=customer_id).first()
    if customer is None:
        raise Http404
    return customer


def connections_visible_to(
    *, access: Access, customer: Customer | None = None, search: str = ""
) -> QuerySet[Connection]:
    connections = Connection.objects.filter(operator=_operator_of(access)).select_related(
        "customer", "supply_system", "cluster", "route", "chamber"
    )
    if customer is not None:
        connections = connections.filter(customer=customer)
    if search.strip():
        from mita.customers.search import connections_matching  # the search reads the roles defined here

        connections = connections.filter(connections_matching(operator=access.operator, query=search))
    return connections


def connection_get_for_access(*, access: Access, connection_id: int) -> Connection:
    """One connection of the user's operator, or 404."""
    connection = connections_visible_to(access=access).filter(pk=connection_id).first()
    if connection is None:
        raise Http404
    return connection


def status_history_of(*, customer: Customer) -> QuerySet[CustomerStatusChange]:
    return customer.status_changes.select_related("changed_by").order_by("-changed_at", "-pk")


def holdings_of(*, connection: Connection) -> QuerySet[ConnectionHolding]:
    return connection.holdings.select_related("customer").order_by("-starts_on", "-pk")


@dataclasses.dataclass(frozen=True)
class HolderContact:
    phone: str  # E.164
    language: str
    name: str


# contact_for_holder's query as the ORM writes it on PostgreSQL (the index on UPPER(number::text) serves it), built
# once: it runs after every payment, where building it cost more than running it.
_CONTACT_FOR_HOLDER_SQL = f"""
SELECT customer.phone, customer.language, customer.name
FROM {Connection._meta.db_table} AS connection INNER JOIN {Customer._meta.db_table} AS customer ON connection.customer_id = customer.id
WHERE UPPER(connection.number::text) = UPPER(%s) AND connection.operator_id = %s
ORDER BY connection.id ASC LIMIT 1
"""  # noqa: S608 (model names)


def contact_for_holder(*, operator: Any, holder: str) -> HolderContact | None:
    """Who holds a customer account (a connection number, whatever its case): their phone, language and name."""
    # Runs after every payment (its SMS): the three values only, and no ordering by the operator's name (a join)
    # for what the unique number gives as one row.
    number = (holder or "").strip()
    found: tuple[str, str, str] | None
    if db_connection.vendor == "postgresql":  # the ORM's statement below, written once (see _CONTACT_FOR_HOLDER_SQL)
        with prepared_cursor() as cursor:
            cursor.execute(_CONTACT_FOR_HOLDER_SQL, [number, getattr(operator, "pk", operator)])
            found = cursor.fetchone()
    else:
        found = (
            Connection.objects.filter(operator=operator, number__iexact=number)
            .order_by("pk")
            .values_list("customer__phone", "customer__language", "customer__name")
            .first()
        )
    if found is None:
        return None
    phone, language, name = found
    return HolderContact(phone=phone, language=language, name=name)
