"""The customers app's own panels on the 360 page: contacts, connections, service notes, contract history and
status history (registered from CustomersConfig.ready())."""

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from mita.core.access import Access
from mita.customers.forms import ServiceNoteForm
from mita.customers.models import ConnectionHolding, Customer
from mita.customers.notes import service_notes_of
from mita.customers.panels import Panel, register_panel, register_panel_data
from mita.customers.selectors import (
    CUSTOMER_READ_ROLES,
    CUSTOMER_WRITE_ROLES,
    connections_visible_to,
    status_history_of,
)
from mita.customers.selectors_details import contact_changes_of

READ = frozenset(CUSTOMER_READ_ROLES)
# Whoever reads the customer's file may add a note to it: the cashier hears a promise to pay, the meter reader
# finds a leak.
NOTE_ROLES = CUSTOMER_READ_ROLES
NOTES_SHOWN = 50


def contract_history_of(*, customer: Customer) -> QuerySet[ConnectionHolding]:
    """Who held the customer's connections when, and the connections the customer held before (transfers)."""
    return (
        ConnectionHolding.objects.filter(operator_id=customer.operator_id)
        .filter(Q(connection__customer=customer) | Q(customer=customer))
        .select_related("connection", "customer")
        .order_by("connection__number", "-starts_on", "-pk")
    )


def _contacts(access: Access, customer: Customer) -> dict[str, Any]:
    return {
        "customer": customer,
        "can_write": access.has_role(*CUSTOMER_WRITE_ROLES),
        "contact_changes": contact_changes_of(customer=customer)[:10],
    }


def _connections(access: Access, customer: Customer) -> dict[str, Any]:
    return {
        "customer": customer,
        "connections": connections_visible_to(access=access, customer=customer)
        .select_related("supply_system", "route", "chamber")
        .order_by("number"),
        "can_write": access.has_role(*CUSTOMER_WRITE_ROLES),
    }


def notes_context(access: Access, customer: Customer, form: ServiceNoteForm | None = None) -> dict[str, Any]:
    """The notes panel; a form sent back with errors is shown in it as sent."""
    connections = connections_visible_to(access=access, customer=customer).order_by("number")
    return {
        "customer": customer,
        "notes": list(service_notes_of(customer=customer)[:NOTES_SHOWN]),
        "notes_shown": NOTES_SHOWN,
        "can_add_note": access.has_role(*NOTE_ROLES),
        "note_form": form or ServiceNoteForm(connections=connections),
    }


def _notes(access: Access, customer: Customer) -> dict[str, Any]:
    return notes_context(access, customer)


def _contract_history(access: Access, customer: Customer) -> dict[str, Any]:
    return {"customer": customer, "holdings": contract_history_of(customer=customer)}


def _status_history(access: Access, customer: Customer) -> dict[str, Any]:
    return {"customer": customer, "history": status_history_of(customer=customer)}


def notes_data(access: Access, customer: Customer) -> dict[str, Any]:
    return {
        "notes": [
            {
                "id": note.pk,
                "text": note.text,
                "connection": note.connection.number if note.connection else None,
                "author": note.author.name if note.author else None,
                "created_at": note.created_at.isoformat(),
            }
            for note in service_notes_of(customer=customer)[:NOTES_SHOWN]
        ]
    }


def _connections_data(access: Access, customer: Customer) -> dict[str, Any]:
    return {
        "connections": [
            {
                "id": connection.pk,
                "number": connection.number,
                "utility": connection.utility,
                "status": connection.status,
            }
            for connection in connections_visible_to(access=access, customer=customer).order_by("number")
        ]
    }


def register() -> None:
    register_panel(
        Panel(
            key="customers.contacts",
            title=_("Contacts"),
            template="customers/panels/contacts.html",
            context=_contacts,
            roles=READ,
            order=10,
        )
    )
    register_panel(
        Panel(
            key="customers.connections",
            title=_("Connections"),
            template="customers/panels/connections.html",
            context=_connections,
            roles=READ,
            order=20,
        )
    )
    register_panel(
        Panel(
            key="customers.notes",
            title=_("Service notes"),
            template="customers/panels/notes.html",
            context=_notes,
            roles=READ,
            order=30,
        )
    )
    register_panel(
        Panel(
            key="customers.contracts",
            title=_("Contract history"),
            template="customers/panels/contracts.html",
            context=_contract_history,
            roles=READ,
            order=70,
        )
    )
    register_panel(
        Panel(
            key="customers.status",
            title=_("Status history"),
            template="customers/panels/status.html",
            context=_status_history,
            roles=READ,
            order=90,
        )
    )
    register_panel_data("customers.connections", _connections_data)
    register_panel_data("customers.notes", notes_data)
