"""The workflow engine's vocabulary: a request TYPE is a declarative definition registered here.

A type names its states (each with a due-date rule and an optional on-enter hook), its transitions (from which
states, to which state, the roles that may take it, whether only the assignee may, whether it needs an assignee or
other data) and what happens when one of its work orders is done. services.request_transition() is the only code
that moves a request; the types never touch the rows themselves except through their hooks.
"""

import dataclasses
import datetime
from collections.abc import Callable
from typing import Any

from django.utils.functional import Promise

StrOrPromise = str | Promise
# hook(request, acting_user, data) -> None; runs inside the transition's transaction, after the state is written.
Hook = Callable[[Any, Any, dict[str, Any]], None]


@dataclasses.dataclass(frozen=True)
class State:
    name: str
    label: StrOrPromise
    # How long a request may wait in this state before it is late (None: no due date, e.g. waiting for a payment).
    due: datetime.timedelta | None = None
    final: bool = False
    on_enter: Hook | None = None


@dataclasses.dataclass(frozen=True)
class Transition:
    name: str
    label: StrOrPromise
    sources: tuple[str, ...]
    target: str
    roles: frozenset[str] = frozenset()
    # Only the request's assignee (or an operator admin) may take it: a technician's own work.
    assignee_only: bool = False
    # The transition names the technician who takes the request over (data["assignee"]).
    assigns: bool = False
    # Data the transition needs (e.g. "note" for a rejection); a missing one is a clear error.
    required: tuple[str, ...] = ()
    # Taken by Mita itself (a work order done, a fee paid): never offered as a button, refused from users.
    system: bool = False
    # Whether a request in a source state waits for these roles (a task, counted in their badge); an escape such as
    # a rejection is possible there but is nobody's task.
    waits: bool = True
    hook: Hook | None = None


@dataclasses.dataclass(frozen=True)
class RequestType:
    key: str
    label: StrOrPromise
    initial: str
    states: tuple[State, ...]
    transitions: tuple[Transition, ...]
    # The roles that may create a request of this type.
    create_roles: frozenset[str] = frozenset()
    # work_order_done[kind](work_order, acting_user, result) -> None: checks the result and moves the request on.
    work_order_done: dict[str, Callable[[Any, Any, dict[str, Any]], dict[str, Any]]] = dataclasses.field(
        default_factory=dict
    )
    # after_work_order[kind](work_order, acting_user) -> None: runs once the work order is saved as done.
    after_work_order: dict[str, Callable[[Any, Any], None]] = dataclasses.field(default_factory=dict)
    # advance(request) -> the system transition whose condition already holds (a fee paid), or None.
    advance: Callable[[Any], str | None] | None = None
    # The states in which `advance` may act (what the periodic sweep looks at).
    advance_states: tuple[str, ...] = ()

    def state(self, name: str) -> State:
        for state in self.states:
            if state.name == name:
                return state
        raise KeyError(f"{self.key} has no state {name!r}")

    def transition(self, name: str) -> Transition | None:
        return next((transition for transition in self.transitions if transition.name == name), None)

    def transitions_from(self, state: str) -> list[Transition]:
        return [transition for transition in self.transitions if state in transition.sources]

    def acting_roles(self, state: str) -> frozenset[str]:
        """The roles a request in this state waits for (the users' transitions from it)."""
        roles: set[str] = set()
        for transition in self.transitions_from(state):
            if not transition.system and transition.waits:
                roles |= transition.roles
        return frozenset(roles)

    def check(self) -> None:
        names = {state.name for state in self.states}
        assert self.initial in names, f"{self.key}: initial state {self.initial} unknown"
        for transition in self.transitions:
            unknown = (set(transition.sources) | {transition.target}) - names
            assert not unknown, f"{self.key}.{transition.name}: unknown states {unknown}"


_types: dict[str, RequestType] = {}


def register_type(request_type: RequestType) -> None:
    request_type.check()
    _types[request_type.key] = request_type


def type_get(key: str) -> RequestType:
    try:
        return _types[key]
    except KeyError:
        raise LookupError(f"No service request type {key!r}") from None


def types() -> list[RequestType]:
    return sorted(_types.values(), key=lambda request_type: request_type.key)


def type_choices() -> list[tuple[str, StrOrPromise]]:
    return [(request_type.key, request_type.label) for request_type in types()]
