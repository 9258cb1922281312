"""The PostgreSQL backend's health check (mita/core/postgresql): nothing sent while a kept connection is quiet; a
connection the server ended is found unusable and replaced before the request's first query. And the prepared
cursor of the hot paths (mita/core/prepared.py): one kept per connection, replaced with the connection."""

import time

import pytest
from django.conf import settings
from django.db import DatabaseError, DataError, connection, connections
from django.db.backends.postgresql import base as django_postgresql

from mita.core.prepared import prepared_cursor

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="a health check of PostgreSQL's backend"),
]


@pytest.fixture
def kept():
    """A second connection to the test database, as a web process keeps one between requests."""
    other = connections.create_connection("default")
    other.ensure_connection()
    yield other
    other.close()


def test_postgresql_is_served_by_mitas_backend():
    assert settings.DATABASES["default"]["ENGINE"] == "mita.core.postgresql"
    assert type(connections["default"]).__module__ == "mita.core.postgresql.base"


def test_a_quiet_connection_is_usable_without_a_query(kept, monkeypatch):
    def round_trip(self):
        raise AssertionError("the health check sent SELECT 1 to a quiet connection")

    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", round_trip)
    assert kept.is_usable()
    with kept.cursor() as cursor:  # after a query, the connection is quiet again
        cursor.execute("SELECT 1")
    assert kept.is_usable()


def test_a_connection_left_in_an_aborted_transaction_is_not_usable(kept):
    # as Django's SELECT 1 finds it: a kept connection whose transaction an error aborted must not serve a request
    kept.set_autocommit(False)
    with pytest.raises(DatabaseError), kept.cursor() as cursor:
        cursor.execute("SELECT 1 / 0")
    assert not kept.is_usable()
    kept.rollback()
    kept.set_autocommit(True)
    assert kept.is_usable()


def test_a_connection_the_server_ended_is_replaced_before_the_next_query(kept):
    with kept.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 10
    while kept.is_usable():  # the server's notice arrives a moment after it ends the backend
        assert time.monotonic() < deadline, "a terminated connection still looked usable after 10 s"
        time.sleep(0.01)
    # what Django does before a request's first query, health checks on:
    kept.health_check_enabled, kept.health_check_done = True, False
    kept.close_if_health_check_failed()
    assert kept.connection is None
    with kept.cursor() as cursor:  # and the next query opens a new connection
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def _prepared_here(kept) -> int:
    with kept.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%mita-kept%"])
        return cursor.fetchone()[0]


def test_one_prepared_cursor_is_kept_per_connection_and_replaced_with_it(kept):
    statement = "SELECT %s::int AS n -- mita-kept"
    with prepared_cursor(kept) as first:
        first.execute(statement, [1])
        assert first.fetchone() == (1,)
    with prepared_cursor(kept) as second:
        second.execute(statement, [2])
        assert second.fetchone() == (2,)
    assert second.cursor is first.cursor  # lent out again, not made anew
    assert not first.cursor.closed
    assert _prepared_here(kept) == 1  # prepared by the server once
    kept.close()
    with prepared_cursor(kept) as third:  # a new connection: a new cursor on it, the statement prepared again
        third.execute(statement, [3])
        assert third.fetchone() == (3,)
    assert third.cursor is not first.cursor
    assert third.cursor.connection is kept.connection
    assert _prepared_here(kept) == 1


def test_an_error_on_the_kept_cursor_is_djangos_and_the_cursor_serves_on(kept):
    with pytest.raises(DataError), prepared_cursor(kept) as cursor:
        cursor.execute("SELECT 1 / %s::int", [0])
    with prepared_cursor(kept) as cursor:
        cursor.execute("SELECT 1 / %s::int", [1])
        assert cursor.fetchone() == (1,)
