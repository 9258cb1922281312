"""Giving reading routes to meter readers, one reader per route and cycle: assigning again replaces the reader
(audited with the one before); assigning the same reader again changes nothing (docs/metering-installations.md)."""

import dataclasses
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.accounts.models import Membership
from mita.accounts.roles import Role
from mita.core.audit import audit_record, audit_record_many
from mita.customers.models import Route
from mita.metering.errors import MeteringError
from mita.metering.models import RouteAssignment
from mita.metering.validation import cycle_bounds

READER_ROLE = Role.BILLING_OFFICER  # the meter reader (mita/accounts/roles.py)
ASSIGN_ROLES = (Role.OPERATOR_ADMIN,)  # who gives routes to readers


@dataclasses.dataclass(frozen=True)
class AssignmentOutcome:
    assignment: RouteAssignment
    outcome: str  # "created", "replaced" (another reader had it) or "unchanged" (the same reader: a replay)


def cycle_checked(cycle: str, field: str = "cycle") -> str:
    cycle = (cycle or "").strip()
    try:
        cycle_bounds(cycle)
    except ValueError:
        raise MeteringError(
            _("Write the cycle as a month: YYYY-MM, e.g. 2026-10."),
            code="cycle_invalid",
            fields={field: [_("YYYY-MM.")]},
        ) from None
    return cycle


def reader_checked(*, operator: Any, reader: Any) -> Any:
    """A meter reader (billing officer) of the operator, or a clear error."""
    if reader is None or not (
        Membership.objects.active().filter(user_id=reader.pk, operator_id=operator.pk, role=READER_ROLE).exists()
    ):
        raise MeteringError(
            _("Choose one of your meter readers (a billing officer of your operator)."),
            code="reader_invalid",
            fields={"reader": [_("Choose a meter reader.")]},
        )
    return reader


def _route_checked(*, operator: Any, route: Route | None) -> Route:
    if route is None or route.operator_id != operator.pk:
        raise MeteringError(
            _("Choose one of your routes."), code="route_invalid", fields={"route": [_("Choose a route.")]}
        )
    return route


@transaction.atomic
def route_assign(*, operator: Any, route: Route, cycle: str, reader: Any, acting_user: Any) -> AssignmentOutcome:
    """Give a route to a meter reader for a cycle ("2026-10")."""
    route = _route_checked(operator=operator, route=route)
    cycle = cycle_checked(cycle)
    reader = reader_checked(operator=operator, reader=reader)
    current = RouteAssignment.objects.select_for_update().filter(operator=operator, route=route, cycle=cycle).first()
    if current is None:
        try:
            with transaction.atomic():
                assignment = RouteAssignment.objects.create(
                    operator=operator, route=route, cycle=cycle, reader=reader, assigned_by=acting_user
                )
        except IntegrityError:  # assigned at the same moment by someone else: theirs stands, then ours replaces it
            current = RouteAssignment.objects.select_for_update().get(route=route, cycle=cycle)
        else:
            audit_record(
                actor=acting_user,
                action="route.assigned",
                target=assignment,
                after={"route": route.code, "cycle": cycle, "reader": reader.pk},
            )
            return AssignmentOutcome(assignment, "created")
    if current.reader_id == reader.pk:
        return AssignmentOutcome(current, "unchanged")
    before = {"route": route.code, "cycle": cycle, "reader": current.reader_id}
    current.reader, current.assigned_by, current.assigned_at = reader, acting_user, timezone.now()
    current.save(update_fields=["reader", "assigned_by", "assigned_at"])
    audit_record(
        actor=acting_user,
        action="route.reassigned",
        target=current,
        before=before,
        after=before | {"reader": reader.pk},
    )
    return AssignmentOutcome(current, "replaced")


@transaction.atomic
def routes_assign_many(
    *, operator: Any, routes: Sequence[Route], cycles: Sequence[str], reader: Any, acting_user: Any
) -> int:
    """Give many routes to one reader for many cycles at once (the demo; "every route of the cycle" on the page):
    the same rules as route_assign, in a few statements. Returns how many assignments were made or changed."""
    reader = reader_checked(operator=operator, reader=reader)
    routes = [_route_checked(operator=operator, route=route) for route in routes]
    cycles = [cycle_checked(cycle) for cycle in cycles]
    existing = {
        (assignment.route_id, assignment.cycle): assignment
        for assignment in RouteAssignment.objects.select_for_update().filter(
            operator=operator, route__in=routes, cycle__in=cycles
        )
    }
    now = timezone.now()
    made: list[RouteAssignment] = []
    changed: list[RouteAssignment] = []
    for route in routes:
        for cycle in cycles:
            current = existing.get((route.pk, cycle))
            if current is None:
                made.append(
                    RouteAssignment(operator=operator, route=route, cycle=cycle, reader=reader, assigned_by=acting_user)
                )
            elif current.reader_id != reader.pk:
                current.reader, current.assigned_by, current.assigned_at = reader, acting_user, now
                changed.append(current)
    RouteAssignment.objects.bulk_create(made, batch_size=500)  # primary keys come back (PostgreSQL, SQLite 3.35+)
    RouteAssignment.objects.bulk_update(changed, ["reader", "assigned_by", "assigned_at"], batch_size=500)
    for action, assignments in (("route.assigned", made), ("route.reassigned", changed)):
        if assignments:
            audit_record_many(
                actor=acting_user,
                action=action,
                targets=list(assignments),
                after=[{"route_id": a.route_id, "cycle": a.cycle, "reader": reader.pk} for a in assignments],
            )
    return len(made) + len(changed)
