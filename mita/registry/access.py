"""Workspaces: the organisation a user acts for (regulator, a district, an operator) and what it lets them read."""

import dataclasses
from collections.abc import Collection
from functools import cached_property
from typing import Any

from django.http import HttpRequest

from mita.accounts.roles import REGULATOR_ROLES, Role, Scope
from mita.accounts.selectors import memberships_of
from mita.registry.models import Boundary, Operator, Regulator

SESSION_KEY = "mita_workspace"
HEADER = "X-Mita-Workspace"


@dataclasses.dataclass(frozen=True)
class Workspace:
    key: str  # "operator:12", "district:5", "regulator:1"
    scope: str
    label: str
    roles: frozenset[str]
    organisation: Any

    @property
    def role_labels(self) -> list[str]:
        return [str(Role(role).label) for role in Role if role in self.roles]


def workspaces_of(user: Any) -> list[Workspace]:
    """The user's workspaces in a stable order: regulator, districts, then operators by name."""
    if not getattr(user, "is_authenticated", False):
        return []
    grouped: dict[str, tuple[str, Any, set[str]]] = {}
    for membership in memberships_of(user=user).select_related("regulator", "district", "operator"):
        organisation = membership.regulator or membership.district or membership.operator
        entry = grouped.setdefault(membership.workspace_key, (membership.scope, organisation, set()))
        entry[2].add(membership.role)
    order: dict[str, int] = {Scope.REGULATOR: 0, Scope.DISTRICT: 1, Scope.OPERATOR: 2}
    workspaces = [
        Workspace(key=key, scope=scope, label=str(organisation), roles=frozenset(roles), organisation=organisation)
        for key, (scope, organisation, roles) in grouped.items()
    ]
    workspaces.sort(key=lambda w: (order[w.scope], w.label, w.key))
    return workspaces


class WorkspaceAccess:
    """The core's Access protocol for one request: the active workspace, its roles, and the operators it reads."""

    def __init__(self, user: Any, workspaces: list[Workspace], active: Workspace | None) -> None:
        self.user = user
        self.workspaces = workspaces
        self.workspace = active
        self.roles: frozenset[str] = active.roles if active else frozenset()
        self.operator: Operator | None = active.organisation if active and active.scope == Scope.OPERATOR else None
        self.district: Boundary | None = active.organisation if active and active.scope == Scope.DISTRICT else None
        self.regulator: Regulator | None = active.organisation if active and active.scope == Scope.REGULATOR else None

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def operator_ids(self) -> Collection[int] | None:
        return self._operator_ids

    @cached_property
    def _operator_ids(self) -> Collection[int] | None:
        if self.regulator is not None and self.roles & REGULATOR_ROLES:
            return None
        if self.district is not None:
            return frozenset(Operator.objects.filter(districts=self.district).values_list("pk", flat=True))
        if self.operator is not None:
            return frozenset({self.operator.pk})
        return frozenset()

    @property
    def is_regulator(self) -> bool:
        return self.regulator is not None and bool(self.roles & REGULATOR_ROLES)


def access_for(request: HttpRequest) -> WorkspaceAccess:
    """Choose the active workspace: the API header, else the session's choice, else the first one."""
    return access_choose(request, request.user, workspaces_of(request.user))


def access_choose(request: HttpRequest, user: Any, workspaces: list[Workspace]) -> WorkspaceAccess:
    """The access of a request among the user's workspaces: the API header, else the session's, else the first."""
    wanted = request.headers.get(HEADER) or (request.session.get(SESSION_KEY) if hasattr(request, "session") else None)
    active = next((w for w in workspaces if w.key == wanted), workspaces[0] if workspaces else None)
    return WorkspaceAccess(user, workspaces, active)
