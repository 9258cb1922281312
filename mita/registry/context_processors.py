"""What every page's shell needs: the workspaces for the switcher, the navigation, the languages."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from mita.core.navigation import cards_for


def shell(request: HttpRequest) -> dict[str, Any]:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {"languages": settings.LANGUAGES}
    access = request.access  # type: ignore[attr-defined]
    return {
        "languages": settings.LANGUAGES,
        "access": access,
        "workspaces": access.workspaces,
        "active_workspace": access.workspace,
        "menu": [card for card, _badge in cards_for(access, badges=False) if card.in_menu],
    }
