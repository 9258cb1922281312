"""The global search box: apps register providers; each returns the hits the user may see."""

import dataclasses
from collections.abc import Callable

from mita.core.access import Access


@dataclasses.dataclass(frozen=True)
class SearchHit:
    kind: str
    title: str
    subtitle: str
    url: str


SearchProvider = Callable[[Access, str], list[SearchHit]]

_providers: dict[str, SearchProvider] = {}


def register_search(name: str, provider: SearchProvider) -> None:
    _providers[name] = provider


def search(access: Access, query: str, *, limit_per_kind: int = 10) -> list[SearchHit]:
    query = query.strip()
    if len(query) < 2:
        return []
    hits: list[SearchHit] = []
    for name in sorted(_providers):
        hits.extend(_providers[name](access, query)[:limit_per_kind])
    return hits
