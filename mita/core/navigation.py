"""Home-page cards and navigation entries that apps contribute, shown by role, with badges of waiting tasks."""

import dataclasses
from collections.abc import Callable

from django.urls import reverse
from django.utils.functional import Promise

from mita.core.access import Access

StrOrPromise = str | Promise


@dataclasses.dataclass(frozen=True)
class Card:
    key: str
    title: "StrOrPromise"  # a lazy translation
    description: "StrOrPromise"
    url_name: str
    roles: frozenset[str]
    order: int = 100
    in_menu: bool = True
    # Counts the tasks waiting for this user behind the card; None hides the badge.
    badge: Callable[[Access], int | None] | None = None

    def url(self) -> str:
        return reverse(self.url_name)


_cards: dict[str, Card] = {}


def register_card(card: Card) -> None:
    _cards[card.key] = card


def cards_for(access: Access, *, badges: bool = True) -> list[tuple[Card, int | None]]:
    """The cards the user's active roles may see, with their badge counts (counted only when asked)."""
    visible = [card for card in _cards.values() if access.has_role(*card.roles)]
    visible.sort(key=lambda card: (card.order, card.key))
    return [(card, card.badge(access) if badges and card.badge else None) for card in visible]
