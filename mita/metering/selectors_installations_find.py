"""Finding a connection to read: by the serial of the meter installed on it (also for the customer search box), by
its number, or by the chamber that holds its meter."""

import dataclasses
from typing import Any

from django.db import connection as db
from django.db.models import Q, QuerySet
from django.db.models.functions import Upper

from mita.customers.models import Connection
from mita.customers.search import Match, connections_matching, search_words
from mita.metering.models import Installation

FOUND_SHOWN = 50
_LAST_CHAR = "\U0010ffff"  # sorts after any character: [prefix, prefix + this) holds every value starting with prefix


def _serial_prefix(prefixes: set[str]) -> Q:
    """Serials (upper-cased) starting with one of the prefixes. On SQLite a range on the (UPPER(serial), operator)
    index; on PostgreSQL a LIKE (a range would follow the collation's order, not the characters')."""
    match = Q(pk__in=[])
    for prefix in prefixes:
        if db.vendor == "postgresql":
            match |= Q(serial_upper__startswith=prefix)
        else:
            match |= Q(serial_upper__gte=prefix, serial_upper__lt=prefix + _LAST_CHAR)
    return match


def _installed_with_serial(operator: Any, prefixes: set[str]) -> QuerySet[Installation]:
    return (
        Installation.objects.filter(operator=operator, removed_on__isnull=True)
        .annotate(serial_upper=Upper("meter__serial"))
        .filter(_serial_prefix({prefix for prefix in prefixes if prefix}))
    )


def serial_prefixes(words: list[str]) -> set[str]:
    """What a serial typed as these words may start with: "WM-0300" is the words WM and 0300, so WM0300, WM-0300,
    WM 0300 or WM/0300."""
    if not words:
        return set()
    return {separator.join(words) for separator in ("", "-", " ", "/")}


def meter_search_find(operator: Any, words: list[str], limit: int) -> list[Match]:
    """The customer search's source for meter serials (customers.search.SearchSource): connections whose installed
    meter's serial starts with the query, whatever its case. Removed meters find nothing."""
    rows = _installed_with_serial(operator, serial_prefixes(words)).values_list(
        "connection__customer_id", "connection_id"
    )[:limit]
    return [Match(customer_id, connection_id) for customer_id, connection_id in rows]


@dataclasses.dataclass(frozen=True)
class FoundConnection:
    connection: Connection
    meter_serial: str
    found_by: str  # "serial", "number" or "chamber"


def connections_for_reading(*, operator: Any, query: str, limit: int = FOUND_SHOWN) -> list[FoundConnection]:
    """Connections the query names, for a reader: the start of an installed meter's serial, of the connection's
    number, or a meter chamber's code (every connection in it) — each through an index, at most `limit`."""
    words = search_words(query)
    if not words:
        return []
    found: dict[int, str] = {}
    for connection_id in _installed_with_serial(operator, serial_prefixes(words)).values_list(
        "connection_id", flat=True
    )[:limit]:
        found.setdefault(connection_id, "serial")
    for connection_id in Connection.objects.filter(connections_matching(operator=operator, query=query)).values_list(
        "pk", flat=True
    )[:limit]:
        found.setdefault(connection_id, "number")
    chamber_code = query.strip()
    for connection_id in Connection.objects.filter(operator=operator, chamber__code__iexact=chamber_code).values_list(
        "pk", flat=True
    )[:limit]:
        found.setdefault(connection_id, "chamber")
    ids = list(found)[:limit]
    connections = {
        connection.pk: connection
        for connection in Connection.objects.filter(operator=operator, pk__in=ids).select_related(
            "customer", "route", "chamber"
        )
    }
    serials = dict(
        Installation.objects.filter(operator=operator, connection_id__in=ids, removed_on__isnull=True).values_list(
            "connection_id", "meter__serial"
        )
    )
    return [
        FoundConnection(connection=connections[pk], meter_serial=serials.get(pk, ""), found_by=found[pk])
        for pk in ids
        if pk in connections
    ]
