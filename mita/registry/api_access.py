"""API bearer tokens and their workspaces, resolved once every few seconds per web process instead of on every request.

Every API request used to read its token (with the user) and the user's memberships (with their organisations): two
queries and about 5 ms before any work. A token's answer is now kept for TOKEN_TTL_SECONDS in the process:

- any save or delete of a token, user, membership or operator in this process forgets every answer at once
  (a generation counter), so a revoked membership or a deactivated user is refused by the next request here;
- another web process notices within TOKEN_TTL_SECONDS at most (the price of not asking the database each time);
- a token that expires sooner is kept only until it expires.

The session (browser pages) is not cached: pages resolve their workspace as before (mita.registry.access).
"""

import dataclasses
import threading
import time
from typing import Any

from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest
from django.utils import timezone

from mita.accounts.models import ApiToken, Membership, User, token_digest
from mita.accounts.services import api_token_user
from mita.registry.access import Workspace, access_choose, workspaces_of
from mita.registry.models import Operator

TOKEN_TTL_SECONDS = 10.0
MAX_ENTRIES = 4096


@dataclasses.dataclass(frozen=True)
class _Entry:
    until: float  # time.monotonic()
    generation: int
    user: Any
    workspaces: list[Workspace]


_entries: dict[str, _Entry] = {}
_lock = threading.Lock()
_generation = 0


def forget_all(**_kwargs: Any) -> None:
    """Forget every token's answer (a signal receiver: a token, user, membership or operator changed)."""
    global _generation
    with _lock:
        _generation += 1
        _entries.clear()


def bearer_authenticate(request: HttpRequest, raw: str) -> Any:
    """The user of a live API token, or None; sets request.user and request.access (its workspace)."""
    digest = token_digest(raw)
    now = time.monotonic()
    entry = _entries.get(digest)
    if entry is None or entry.until <= now or entry.generation != _generation:
        generation = _generation  # read before the database: a change meanwhile makes this answer stale at once
        found = api_token_user(raw=raw)
        if found is None:
            _entries.pop(digest, None)
            return None
        user, expires_at = found
        until = now + TOKEN_TTL_SECONDS
        if expires_at is not None:
            until = min(until, now + (expires_at - timezone.now()).total_seconds())
        entry = _Entry(until=until, generation=generation, user=user, workspaces=workspaces_of(user))
        with _lock:
            if len(_entries) >= MAX_ENTRIES:
                _entries.clear()
            _entries[digest] = entry
    request.user = entry.user
    request.access = access_choose(request, entry.user, entry.workspaces)  # type: ignore[attr-defined]
    return entry.user


for _model in (ApiToken, User, Membership, Operator):
    post_save.connect(forget_all, sender=_model, dispatch_uid=f"api_access.forget.save.{_model.__name__}")
    post_delete.connect(forget_all, sender=_model, dispatch_uid=f"api_access.forget.delete.{_model.__name__}")
