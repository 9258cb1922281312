"""API tokens and their workspaces kept a few seconds per process (mita/registry/api_access.py): cheaper requests,
and every change made in this process refused or seen by the very next request."""

import datetime
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mita.accounts.models import ApiToken, Membership
from mita.accounts.roles import Role
from mita.accounts.services import api_token_create, membership_revoke
from mita.registry import api_access
from mita.testing.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def cashier(operator_a):
    return member(Role.CASHIER, operator_a, name="Carla Cashier")


@pytest.fixture
def bearer(cashier, operator_a):
    _token, raw = api_token_create(user=cashier, name="field app")
    return {"Authorization": f"Bearer {raw}", "X-Mita-Workspace": f"operator:{operator_a.pk}"}


def me(client, headers):
    return client.get("/api/v1/me", headers=headers)


def queries_of(client, headers):
    with CaptureQueriesContext(connection) as captured:
        response = me(client, headers)
    assert response.status_code == 200
    return len(captured)


def test_a_second_request_with_the_same_token_reads_neither_the_token_nor_the_memberships(client, bearer, operator_a):
    first = queries_of(client, bearer)
    second = queries_of(client, bearer)
    # the first reads the token (with its user) and the memberships (with their organisations); /me needs no more
    assert first >= 2
    assert second == 0
    body = me(client, bearer).json()
    assert body["workspace"]["key"] == f"operator:{operator_a.pk}"
    assert body["workspace"]["roles"] == [Role.CASHIER]


def test_a_revoked_membership_is_refused_by_the_next_request(client, bearer, cashier, admin_a):
    assert me(client, bearer).json()["workspace"] is not None
    membership_revoke(membership=Membership.objects.get(user=cashier), acting_user=admin_a)
    body = me(client, bearer).json()
    assert body["workspace"] is None and body["workspaces"] == []


def test_a_revoked_token_and_a_deactivated_user_are_refused_by_the_next_request(client, bearer, cashier):
    assert me(client, bearer).status_code == 200
    token = ApiToken.objects.get(user=cashier)
    token.revoked_at = timezone.now()
    token.save()
    assert me(client, bearer).status_code == 401
    token.revoked_at = None
    token.save()
    assert me(client, bearer).status_code == 200
    cashier.is_active = False
    cashier.save()
    assert me(client, bearer).status_code == 401


def test_a_change_made_elsewhere_is_seen_once_the_answer_is_older_than_the_ttl(client, bearer, cashier, monkeypatch):
    # given an answer kept for the token
    assert me(client, bearer).status_code == 200
    # when another process revokes the token (no signal reaches this one)
    ApiToken.objects.filter(user=cashier).update(revoked_at=timezone.now())
    # then this process still answers from what it kept, within the TTL
    assert me(client, bearer).status_code == 200
    # and refuses the token once the TTL has passed
    later = time.monotonic() + api_access.TOKEN_TTL_SECONDS + 1
    monkeypatch.setattr(api_access.time, "monotonic", lambda: later)
    assert me(client, bearer).status_code == 401


def test_a_token_is_kept_no_longer_than_it_lives(client, cashier, operator_a, monkeypatch):
    token, raw = api_token_create(user=cashier, name="short")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() + datetime.timedelta(seconds=2))
    headers = {"Authorization": f"Bearer {raw}", "X-Mita-Workspace": f"operator:{operator_a.pk}"}
    assert me(client, headers).status_code == 200
    # three seconds later (well within the TTL of a token that lives on) it has expired
    later_monotonic = time.monotonic() + 3
    later_now = timezone.now() + datetime.timedelta(seconds=3)
    monkeypatch.setattr(api_access.time, "monotonic", lambda: later_monotonic)
    monkeypatch.setattr("mita.accounts.services.timezone.now", lambda: later_now)
    assert me(client, headers).status_code == 401


def test_the_workspace_header_is_honoured_per_request_with_a_kept_answer(client, bearer, cashier, operator_b):
    # given the cashier also works for operator B
    Membership.objects.create(user=cashier, role=Role.CASHIER, operator=operator_b)
    assert me(client, bearer).json()["workspace"]["key"] == bearer["X-Mita-Workspace"]
    # when the next request names operator B, it acts for B (from the same kept answer)
    other = {**bearer, "X-Mita-Workspace": f"operator:{operator_b.pk}"}
    assert me(client, other).json()["workspace"]["key"] == f"operator:{operator_b.pk}"
