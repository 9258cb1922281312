"""Cursors for the fixed statements of the hot paths (a payment's dozen): on PostgreSQL they are bound and prepared
by the server, so that it parses and plans each statement once per connection instead of on every payment.

Django sends every statement with its values written in (client-side binding) and PostgreSQL parses and plans it
each time: for a payment that was about a third of the database's CPU. A statement run through `prepared_cursor`
carries its values apart and is prepared on its first run on a connection (psycopg keeps up to 100 per connection);
the plan is the server's to keep. Queries, errors and logging go through Django's cursor wrapper as before, so
CaptureQueriesContext and assertNumQueries see them (while queries are logged they run unprepared: the log
needs the statement with its values). Only for statements whose text is fixed (a module constant):
one built from values would fill the connection's cache. Behind a connection pooler in transaction mode, set
MITA_DB_PREPARED_STATEMENTS=false (or use a pooler that keeps prepared statements, pgbouncer >= 1.21).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections


def _prepared_cursor_class() -> Any:
    from django.db.backends.postgresql.base import ServerBindingCursor  # type: ignore[attr-defined]

    class PreparedCursor(ServerBindingCursor):
        def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None, **kwargs: Any) -> Any:
            return super().execute(query, params, prepare=True if prepare is None else prepare, **kwargs)

    return PreparedCursor


_cursor_class: Any = None


@contextmanager
def prepared_cursor(connection: Any = None) -> Iterator[Any]:
    """`connection.cursor()`, whose statements PostgreSQL prepares (elsewhere, or when switched off: the same cursor).

    On PostgreSQL one such cursor is kept per connection and lent out again: making a cursor (Django's wrapper, a
    client cursor, then this one) cost about as much as running a short statement on it."""
    global _cursor_class
    connection = connection or connections[DEFAULT_DB_ALIAS]  # the thread's own, looked up once (not the proxy)
    if connection.vendor != "postgresql" or not settings.MITA_DB_PREPARED_STATEMENTS or connection.queries_logged:
        # Logging queries (DEBUG, CaptureQueriesContext): Django writes each statement out from the cursor it ran
        # on, which a prepared statement does not give back; the same statement goes unprepared then.
        with connection.cursor() as wrapper:
            yield wrapper
        return
    # The checks connection.cursor() makes: the health check, a connection, the thread that owns it.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    kept = getattr(connection, "_mita_prepared_cursor", None)
    if kept is None or kept.closed or kept.connection is not connection.connection:  # none yet, or a new connection
        if _cursor_class is None:
            _cursor_class = _prepared_cursor_class()
        with connection.wrap_database_errors:
            kept = _cursor_class(connection.connection)
        connection._mita_prepared_cursor = kept
    yield connection.make_cursor(kept)  # Django's wrapper (error translation), over the kept cursor: not closed
