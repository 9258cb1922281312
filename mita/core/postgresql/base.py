"""Django's PostgreSQL backend with a health check that costs no round trip while the connection is quiet.

With CONN_HEALTH_CHECKS, Django checks a kept connection before each request's first query by sending `SELECT 1`: a
round trip on every API call and page, paid by the web process and the database alike (docs/payments.md, "Fifth
round"). Between requests an idle connection receives nothing, so its socket has nothing to read unless the server
said something unasked: that it is terminating the connection (a restart, `pg_terminate_backend`, an idle timeout),
or that it closed the socket. Only then is `SELECT 1` sent, and the connection replaced if it fails; likewise when
the connection is not idle outside a transaction (one left aborted by an error fails `SELECT 1` and is replaced, as
with Django's own check). A connection that died without a word (a cable pulled) is not caught here, as `SELECT 1`
would not catch it either without a timeout: the request's own query fails and the connection is replaced for the
next one.
"""

import select

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None or self.connection.closed:
            return False
        if self.connection.info.transaction_status != TransactionStatus.IDLE:  # in, or aborted in, a transaction
            return bool(super().is_usable())
        try:
            unasked, _, _ = select.select([self.connection.fileno()], [], [], 0)
        except (OSError, ValueError):  # the socket is gone
            return False
        if unasked:  # a notice of termination, or the end of the connection: ask the server to be sure
            return bool(super().is_usable())
        return True
