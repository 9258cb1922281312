"""The accounts app's home cards and search."""

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from mita.accounts.roles import ALL_ROLES, Role
from mita.accounts.selectors import invitations_pending, users_in_workspace
from mita.core.access import Access
from mita.core.navigation import Card, register_card
from mita.core.search import SearchHit, register_search


def _search_users(access: Access, query: str) -> list[SearchHit]:
    workspace = getattr(access, "workspace", None)
    if workspace is None or not access.has_role(Role.OPERATOR_ADMIN, Role.REGULATOR_ADMIN):
        return []
    users = users_in_workspace(scope=workspace.scope, organisation_id=workspace.organisation.pk).filter(
        Q(name__icontains=query) | Q(phone__startswith=query) | Q(phone__startswith="+" + query.lstrip("+0"))
    )[:10]
    return [
        SearchHit(
            kind=str(_("User")),
            title=user.name,
            subtitle=user.phone,
            url=reverse("accounts:user_detail", args=[user.pk]),
        )
        for user in users
    ]


def _pending_invitations(access: Access) -> int | None:
    """Invitations not yet accepted at the admin's organisation: people to follow up."""
    workspace = getattr(access, "workspace", None)
    if workspace is None:
        return None
    return invitations_pending(scope=workspace.scope, organisation_id=workspace.organisation.pk).count() or None


register_card(
    Card(
        key="accounts.users",
        title=_("Users"),
        description=_("Invite people and give them roles."),
        url_name="accounts:user_list",
        roles=frozenset({Role.OPERATOR_ADMIN, Role.REGULATOR_ADMIN}),
        order=80,
        badge=_pending_invitations,
    )
)
register_card(
    Card(
        key="accounts.profile",
        title=_("My profile"),
        description=_("Language, API tokens and your roles."),
        url_name="accounts:profile",
        roles=ALL_ROLES,
        order=900,
        in_menu=False,
    )
)
register_search("accounts.users", _search_users)
