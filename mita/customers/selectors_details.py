"""Reads of routes, meter chambers and contact changes (404 across operators)."""

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from mita.core.access import Access
from mita.customers.models import ContactChange, Customer, MeterChamber, Route
from mita.customers.selectors import _operator_of


def routes_visible_to(*, access: Access) -> QuerySet[Route]:
    """The operator's routes, with how many live connections each holds."""
    return (
        Route.objects.filter(operator=_operator_of(access))
        .select_related("supply_system")
        .annotate(connection_count=Count("connections", filter=~Q(connections__status="terminated")))
        .order_by("code")
    )


def route_get_for_access(*, access: Access, route_id: int) -> Route:
    route = routes_visible_to(access=access).filter(pk=route_id).first()
    if route is None:
        raise Http404
    return route


def chambers_visible_to(*, access: Access) -> QuerySet[MeterChamber]:
    return (
        MeterChamber.objects.filter(operator=_operator_of(access))
        .annotate(connection_count=Count("connections"))
        .order_by("code")
    )


def chamber_get_for_access(*, access: Access, chamber_id: int) -> MeterChamber:
    chamber = chambers_visible_to(access=access).filter(pk=chamber_id).first()
    if chamber is None:
        raise Http404
    return chamber


def contact_change_get_for_access(*, access: Access, customer: Customer, change_id: int) -> ContactChange:
    """One contact change of a customer of the user's operator, or 404."""
    change = (
        ContactChange.objects.filter(operator=_operator_of(access), customer=customer, pk=change_id)
        .select_related("customer", "requested_by")
        .first()
    )
    if change is None:
        raise Http404
    return change


def contact_changes_of(*, customer: Customer) -> QuerySet[ContactChange]:
    return customer.contact_changes.select_related("requested_by").order_by("-created_at", "-pk")
