"""The servicing panels of the customer 360 page: the customer's requests with their states, their complaints, and
the headline count of open requests; registered from ServicingConfig.ready() through mita.customers.panels."""

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from mita.core.access import Access
from mita.customers.models import Customer
from mita.customers.panels import Panel, register_panel, register_panel_data
from mita.customers.selectors import CUSTOMER_READ_ROLES
from mita.servicing.models import ServiceRequest
from mita.servicing.selectors import REQUEST_READ_ROLES, requests_visible_to
from mita.servicing.workflow import type_get, types

# Those who read requests among those who open the customer's page (technicians work from their work orders).
READ = frozenset(REQUEST_READ_ROLES) & frozenset(CUSTOMER_READ_ROLES)
SHOWN = 50


def _closed() -> Q:
    """Requests in a final state of their type."""
    closed = Q(pk__in=[])
    for request_type in types():
        finals = [state.name for state in request_type.states if state.final]
        closed |= Q(type=request_type.key, state__in=finals)
    return closed


def _of(access: Access, customer: Customer) -> QuerySet[ServiceRequest]:
    return requests_visible_to(access=access).filter(customer=customer)


def open_requests_count(access: Access, customer: Customer) -> int:
    return _of(access, customer).exclude(_closed()).count()


def _rows(requests: QuerySet[ServiceRequest]) -> list[ServiceRequest]:
    rows = list(requests[:SHOWN])
    for row in rows:
        request_type = type_get(row.type)
        state = request_type.state(row.state)
        row.type_label = request_type.label  # type: ignore[attr-defined]
        row.state_label = state.label  # type: ignore[attr-defined]
        row.open = not state.final  # type: ignore[attr-defined]
    return rows


def _requests(access: Access, customer: Customer) -> dict[str, Any]:
    requests = _of(access, customer)
    return {"requests": _rows(requests), "total": requests.count(), "shown": SHOWN, "panel": "requests"}


def _complaints(access: Access, customer: Customer) -> dict[str, Any]:
    from mita.servicing.types.complaint import CATEGORIES, KEY

    complaints = _of(access, customer).filter(type=KEY)
    rows = _rows(complaints)
    for row in rows:
        row.category = CATEGORIES.get(row.data.get("category", ""), "")  # type: ignore[attr-defined]
    return {"requests": rows, "total": complaints.count(), "shown": SHOWN, "panel": "complaints"}


def _counts(access: Access, customer: Customer) -> dict[str, int]:
    return {"open_requests": open_requests_count(access, customer)}


def _data(rows: list[ServiceRequest]) -> list[dict[str, Any]]:
    return [
        {
            "id": row.pk,
            "number": row.number,
            "type": row.type,
            "state": row.state,
            "open": row.open,  # type: ignore[attr-defined]
            "summary": row.summary,
            "created_at": row.created_at.isoformat(),
        }
        for row in rows
    ]


def _requests_data(access: Access, customer: Customer) -> dict[str, Any]:
    return {"requests": _data(_requests(access, customer)["requests"])}


def _complaints_data(access: Access, customer: Customer) -> dict[str, Any]:
    return {"complaints": _data(_complaints(access, customer)["requests"])}


def register() -> None:
    register_panel(
        Panel(
            key="servicing.requests",
            title=_("Requests"),
            template="servicing/panels/requests.html",
            context=_requests,
            roles=READ,
            order=70,
            counts=_counts,
        )
    )
    register_panel(
        Panel(
            key="servicing.complaints",
            title=_("Complaints"),
            template="servicing/panels/requests.html",
            context=_complaints,
            roles=READ,
            order=25,
        )
    )
    register_panel_data("servicing.requests", _requests_data)
    register_panel_data("servicing.complaints", _complaints_data)
