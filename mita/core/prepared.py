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
from django.db import connection as default_connection


def _prepared_cursor_class() -> Any:
    from django.db.backends.postgresql.base import ServerBindingCursor  # type: ignore[attr-defined]

    class PreparedCursor(ServerBindingCursor):
        def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None, **kwargs: Any) -> Any:
            return super().execute(query, params, prepare=True if prepare is None else prepare, **kwargs)

    return PreparedCursor


_cursor_class: Any = None


@contextmanager
def prepared_cursor(connection: Any = None) -> Iterator[Any]:
    """`connection.cursor()`, whose statements PostgreSQL prepares (elsewhere, or when switched off: the same cursor)."""
    global _cursor_class
    connection = connection or default_connection
    with connection.cursor() as wrapper:  # Django's checks, error translation and query log, as for any cursor
        if connection.vendor != "postgresql" or not settings.MITA_DB_PREPARED_STATEMENTS or connection.queries_logged:
            # Logging queries (DEBUG, CaptureQueriesContext): Django writes each statement out from the cursor it
            # ran on, which a prepared statement does not give back; the same statement goes unprepared then.
            yield wrapper
            return
        if _cursor_class is None:
            _cursor_class = _prepared_cursor_class()
        client_cursor = wrapper.cursor
        wrapper.cursor = _cursor_class(connection.connection)
        try:
            yield wrapper
        finally:
            wrapper.cursor.close()
            wrapper.cursor = client_cursor
