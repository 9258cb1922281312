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

import dataclasses
import functools
from collections.abc import Callable, Iterator, Sequence
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


def _prepared_class() -> Any:
    """The prepared cursor class, made on first use (Django's PostgreSQL backend imports psycopg)."""
    global _cursor_class
    if _cursor_class is None:
        _cursor_class = _prepared_cursor_class()
    return _cursor_class


@contextmanager
def prepared_cursor(connection: Any = None) -> Iterator[Any]:
    """`connection.cursor()`, whose statements PostgreSQL prepares (elsewhere, or when switched off: the same cursor).

    On PostgreSQL one such cursor is kept per connection and lent out again: making a cursor (Django's wrapper, a
    client cursor, then this one) cost about as much as running a short statement on it."""
    connection = connection or connections[DEFAULT_DB_ALIAS]  # the thread's own, looked up once (not the proxy)
    if connection.vendor != "postgresql" or not settings.MITA_DB_PREPARED_STATEMENTS or connection.queries_logged:
        # Logging queries (DEBUG, CaptureQueriesContext): Django writes each statement out from the cursor it ran
        # on, which a prepared statement does not give back; the same statement goes unprepared then.
        with connection.cursor() as wrapper:
            yield wrapper
        return
    _cursor_checks(connection)
    kept = getattr(connection, "_mita_prepared_cursor", None)
    if kept is None or kept.closed or kept.connection is not connection.connection:  # none yet, or a new connection
        with connection.wrap_database_errors:
            kept = _prepared_class()(connection.connection)
        connection._mita_prepared_cursor = kept
    yield connection.make_cursor(kept)  # Django's wrapper (error translation), over the kept cursor: not closed


def _cursor_checks(connection: Any) -> None:
    """The checks connection.cursor() makes: the health check, a connection, the thread that owns it."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()


# Writes joined into one round trip ------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Joined:
    depth: int  # the savepoints open when the block began: inside a newer one, statements go one by one again
    waiting: list[tuple[str, Sequence[Any], Callable[[Any], None]]] = dataclasses.field(default_factory=list)
    wrapper: Callable[..., Any] | None = None  # the block's execute wrapper, which sends the waiting writes first


def _joined_of(connection: Any) -> _Joined | None:
    joined: _Joined | None = getattr(connection, "_mita_joined", None)
    return joined


def _may_pipeline(connection: Any) -> bool:
    """Whether statements may go to the server in a pipeline here: PostgreSQL with prepared statements on, inside a
    transaction, not while queries are logged (the log needs each statement run through Django's cursor), and a
    libpq with pipeline mode."""
    return (
        connection.vendor == "postgresql"
        and settings.MITA_DB_PREPARED_STATEMENTS
        and not connection.queries_logged
        and connection.in_atomic_block
        and _pipelines_supported()
    )


@contextmanager
def writes_joined(connection: Any = None) -> Iterator[None]:
    """Inside a transaction on PostgreSQL: the writes handed to `sent_later` in this block (single-row inserts whose
    ids, and updates whose row counts, nobody reads before the block ends) wait, and go to the server together, in
    one round trip (psycopg's pipeline mode), as the block ends or just before any other statement runs on the
    connection, whichever comes first; each one's `then` runs with its answer then, in order. A write that fails
    raises there, failing the transaction.

    Every other statement runs as always, after the writes waiting before it. Inside a savepoint opened in the block
    (an atomic() that catches a database error) sent_later waits for nothing, so that an error is raised where it is
    caught. Nothing changes elsewhere (SQLite, outside a transaction, nested, while queries are logged, prepared
    statements switched off, a libpq without pipelines). Statements that bypass Django's cursor wrapper (a COPY)
    call writes_flush() first. An exception leaving the block with writes unsent marks the transaction for rollback,
    as a database error does. Do not save() an instance made in the block before it ends: it has no id yet."""
    connection = connection or connections[DEFAULT_DB_ALIAS]
    if not _may_pipeline(connection) or _joined_of(connection) is not None:
        yield
        return
    joined = _Joined(depth=_savepoints(connection))

    def flushed_first(execute: Callable[..., Any], sql: Any, params: Any, many: bool, context: Any) -> Any:
        _flush(connection, joined)
        return execute(sql, params, many, context)

    joined.wrapper = flushed_first
    connection._mita_joined = joined
    try:
        with connection.execute_wrapper(flushed_first):
            yield
            _flush(connection, joined)
    except BaseException:
        if joined.waiting:
            # Writes the block made were never sent: the transaction must not commit without them, whoever catches
            # this. As after a database error inside atomic(): no more queries, and the atomic block rolls back.
            connection.needs_rollback = True
        raise
    finally:
        connection._mita_joined = None


@functools.cache
def _pipelines_supported() -> bool:
    """Whether the libpq under psycopg has pipeline mode (14 and later; psycopg's binary wheels bring one)."""
    import psycopg

    return bool(psycopg.Pipeline.is_supported())


def writes_flush(connection: Any = None) -> None:
    """Send the writes waiting in a writes_joined block now (before a statement sent around Django's cursor)."""
    connection = connection or connections[DEFAULT_DB_ALIAS]
    joined = _joined_of(connection)
    if joined is not None:
        _flush(connection, joined)


# Reads joined into one round trip ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Read:
    """A fixed statement (a module constant, see the module's docstring) and what to make of its rows."""

    sql: str
    params: Sequence[Any]
    answer: Callable[[list[tuple[Any, ...]]], Any] = list


def reads_together(*reads: Read | None, connection: Any = None) -> list[Any]:
    """Run the statements in order and give back each one's answer (None for None). On PostgreSQL, inside a
    transaction, they go to the server in one round trip (a pipeline), after any writes waiting in a writes_joined
    block; the server still runs them one after the other, so a lock taken by one holds for the next. Elsewhere, or
    where writes_joined would not join writes (queries logged, prepared statements off), one by one on
    prepared_cursor. For statements whose answers do not decide what the next one asks."""
    connection = connection or connections[DEFAULT_DB_ALIAS]
    sent = [read for read in reads if read is not None]
    joined = _joined_of(connection)
    # An execute wrapper other than writes_joined's would not see statements sent around Django's cursor.
    wrapped = any(wrapper is not (joined and joined.wrapper) for wrapper in connection.execute_wrappers)
    if (len(sent) < 2 and not (joined and joined.waiting)) or wrapped or not _may_pipeline(connection):
        answers = []
        for read in sent:
            with prepared_cursor(connection) as cursor:
                cursor.execute(read.sql, read.params)
                answers.append(read.answer(cursor.fetchall()))
    else:
        _cursor_checks(connection)
        connection.validate_no_broken_transaction()
        cursors = _flush(connection, joined or _Joined(depth=0), [(read.sql, read.params) for read in sent])
        with connection.wrap_database_errors:
            answers = [read.answer(cursor.fetchall()) for read, cursor in zip(sent, cursors, strict=True)]
        for cursor in cursors:
            cursor.close()
    given = iter(answers)
    return [None if read is None else next(given) for read in reads]


def _flush(connection: Any, joined: _Joined, then_read: Sequence[tuple[str, Sequence[Any]]] = ()) -> list[Any]:
    """Send the waiting writes, and after them the statements `then_read`, in one pipeline; run the writes' `then`s
    and give back the cursors of `then_read`, their answers in them (the caller closes them)."""
    waiting, joined.waiting = joined.waiting, []  # a `then` may run statements of its own: they find none waiting
    if not waiting and not then_read:
        return []
    cursor_class = _prepared_class()
    cursors = []
    with connection.wrap_database_errors:
        with connection.connection.pipeline():
            for sql, params in [*((sql, params) for sql, params, _then in waiting), *then_read]:
                cursor = cursor_class(connection.connection)  # one answer per cursor
                cursor.execute(sql, params)
                cursors.append(cursor)
        for cursor, (_sql, _params, then) in zip(cursors, waiting, strict=False):  # the pipeline ended: all here
            then(cursor)
            cursor.close()
    return cursors[len(waiting) :]


def _savepoints(connection: Any) -> int:
    """The savepoints open (an atomic(savepoint=False) inside a transaction makes none; Django notes it as None)."""
    return sum(1 for sid in connection.savepoint_ids if sid is not None)


def writes_are_joined(connection: Any = None) -> bool:
    """Whether sent_later makes a write wait (inside writes_joined, outside any savepoint opened since)."""
    connection = connection or connections[DEFAULT_DB_ALIAS]
    joined = _joined_of(connection)
    return joined is not None and _savepoints(connection) == joined.depth


def sent_later(sql: str, params: Sequence[Any], then: Callable[[Any], None], connection: Any = None) -> bool:
    """Inside writes_joined (see there): keep a fixed statement to send with the block's other writes, prepared, and
    call `then(cursor)` with its answer; True. Elsewhere False, having sent nothing: the caller runs it as usual."""
    connection = connection or connections[DEFAULT_DB_ALIAS]
    if not writes_are_joined(connection):
        return False
    connection._mita_joined.waiting.append((sql, params, then))
    return True
