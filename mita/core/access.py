"""What the core needs to know about the person asking: implemented by accounts, used through this protocol."""

from collections.abc import Collection
from typing import Any, Protocol


class Access(Protocol):
    """The signed-in user's active workspace and what it lets them see."""

    user: Any
    operator: Any  # the active operator, or None in a regulator or district workspace
    roles: frozenset[str]

    def operator_ids(self) -> Collection[int] | None:
        """Operators whose data this user may read; None means every operator (the regulator)."""
        ...

    def has_role(self, *roles: str) -> bool: ...
