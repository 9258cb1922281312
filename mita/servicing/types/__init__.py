"""The request types: each module declares one and registers it (loaded by ServicingConfig.ready()).

Besides the workflow (mita/servicing/workflow.py), a type may say what the generic pages need of it:

- `register_facts(key, facts)`: facts(request) -> [(label, value)], shown on the request's page (the amount of
  arrears moved, the deposit difference of a package change, ...);
- `register_transition_fields(key, transition, fields)`: extra fields of a transition's form (e.g. the
  ownership change's "arrears acknowledged" checkbox), passed to the transition as data;
- `register_opener(Opener(...))`: how the generic "new request" page and the API open a request of the type.
"""

import dataclasses
from collections.abc import Callable
from typing import Any

from django.utils.functional import Promise

StrOrPromise = str | Promise
Facts = Callable[[Any], list[tuple[StrOrPromise, Any]]]

_facts: dict[str, Facts] = {}
_transition_fields: dict[tuple[str, str], tuple[str, ...]] = {}
_openers: dict[str, "Opener"] = {}


@dataclasses.dataclass(frozen=True)
class Opener:
    """How a request of a type is opened from the generic page or the API.

    `fields`: the type's own fields the form shows (names of mita.servicing.forms.TypedRequestForm's fields);
    `open(operator=, acting_user=, customer=, connection=, channel=, details=, **fields)` makes the request.
    """

    key: str
    roles: frozenset[str]
    fields: tuple[str, ...]
    open: Callable[..., Any]


def register_facts(key: str, facts: Facts) -> None:
    _facts[key] = facts


def facts_of(request: Any) -> list[tuple[StrOrPromise, Any]]:
    facts = _facts.get(request.type)
    return facts(request) if facts else []


def register_transition_fields(key: str, transition: str, fields: tuple[str, ...]) -> None:
    _transition_fields[(key, transition)] = fields


def transition_fields(key: str, transition: str) -> tuple[str, ...]:
    return _transition_fields.get((key, transition), ())


def register_opener(opener: Opener) -> None:
    _openers[opener.key] = opener


def opener_get(key: str) -> Opener | None:
    return _openers.get(key)


def openers() -> list[Opener]:
    return [_openers[key] for key in sorted(_openers)]
