"""Reads about users and their memberships."""

import datetime
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from mita.accounts.models import Invitation, LoginFailure, Membership, User


def memberships_of(*, user: Any) -> QuerySet[Membership]:
    return Membership.objects.active().filter(user=user).order_by("pk")


def login_failures_recent(*, phone: str) -> int:
    since = timezone.now() - datetime.timedelta(seconds=settings.MITA_LOGIN_WINDOW_SECONDS)
    return LoginFailure.objects.filter(phone=phone, at__gte=since).count()


def users_of_operator(*, operator_id: int) -> QuerySet[User]:
    return User.objects.filter(memberships__operator_id=operator_id).distinct()


def _organisation_filter(scope: str, organisation_id: int) -> dict[str, int]:
    return {{"regulator": "regulator_id", "district": "district_id", "operator": "operator_id"}[scope]: organisation_id}


def users_in_workspace(*, scope: str, organisation_id: int) -> QuerySet[User]:
    """Users holding an active role at one organisation."""
    memberships = Membership.objects.filter(is_active=True, **_organisation_filter(scope, organisation_id))
    return User.objects.filter(pk__in=memberships.values("user_id"))


def memberships_in_workspace(*, user: User, scope: str, organisation_id: int) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user, **_organisation_filter(scope, organisation_id)).order_by("role")


def invitations_pending(*, scope: str, organisation_id: int) -> QuerySet[Invitation]:
    """Unaccepted, unexpired invitations of people who hold a role at this organisation."""
    return Invitation.objects.filter(
        accepted_at__isnull=True,
        expires_at__gt=timezone.now(),
        user__in=users_in_workspace(scope=scope, organisation_id=organisation_id),
    )
