"""Set-based SQL behind readings_record and the file imports, in as few statements as the database allows:
- new readings: COPY on PostgreSQL, one executemany on SQLite, ids taken beforehand so that the objects get their
  primary keys (mita.core.bulk, with the long look-ups' `among`);
- moved meter states: UPDATE ... FROM unnest(arrays) on PostgreSQL, executemany on SQLite. Django's bulk_update
  builds a CASE per field and row and took 45 s for 10,000 states; these take well under a second for 100,000."""

import json
import operator
from collections.abc import Sequence
from typing import Any

from django.db import connections, models, router
from django.utils import timezone

from mita.core.bulk import instances_insert, iso_formatter, reader_of
from mita.metering.models import MeterState, Reading

STATE_FIELDS = ("last_index", "last_read_on", "last_cycle", "last_estimated", "last_actual_index", "history")


# From this many readings, their foreign keys are checked once per distinct value (core.foreign_keys, decision 0009):
# a file's chunk refers to one operator, one import and a few readers again and again. Below it, the few statements
# that check them together cost more than the database's own check of each row.
KEYS_TOGETHER_FROM = 200


def readings_insert(readings: Sequence[Reading]) -> None:
    """Insert new readings and give them their primary keys, as bulk_create would (created_at set now)."""
    now = timezone.now()
    for reading in readings:
        reading.created_at = now
    instances_insert(readings, keys_together=len(readings) >= KEYS_TOGETHER_FROM)


def states_save(states: Sequence[MeterState]) -> None:
    """Save the fields readings_record moves (STATE_FIELDS) of these meter states."""
    if not states:
        return
    connection = connections[router.db_for_write(MeterState)]
    quote = connection.ops.quote_name
    meta = MeterState._meta
    table = quote(meta.db_table)
    fields: list[models.Field[Any, Any]] = [meta.get_field(name) for name in STATE_FIELDS]  # type: ignore[misc]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY into a scratch table, then one UPDATE ... FROM it: no parameters for the driver to quote one by one.
            # The histories go as one JSON array, the n-th for the n-th state: one json.dumps for all of them, where
            # one per state cost more than the rest of the row together. The other fields as psycopg adapts them,
            # but for the read date: formatted once per distinct day (iso_formatter).
            plain = operator.attrgetter(meta.pk.attname, "last_index")
            rest = operator.attrgetter("last_cycle", "last_estimated", "last_actual_index")  # STATE_FIELDS' order
            iso = iso_formatter()
            columns = [quote(field.column) for field in fields[:-1]]
            assignments = ", ".join(
                [*(f"{name} = v.{name}" for name in columns), f"{quote(fields[-1].column)} = h.value"]
            )
            cursor.execute(
                "CREATE TEMPORARY TABLE IF NOT EXISTS metering_state_moves (id bigint, n bigint, last_index numeric, "
                "last_read_on date, last_cycle text, last_estimated boolean, last_actual_index numeric) "
                "ON COMMIT DELETE ROWS"
            )
            cursor.execute("TRUNCATE metering_state_moves")
            with cursor.cursor.copy(f"COPY metering_state_moves (n, id, {', '.join(columns)}) FROM STDIN") as copy:
                for n, state in enumerate(states, 1):
                    copy.write_row((n, *plain(state), iso(state.last_read_on), *rest(state)))
            cursor.execute(
                f"UPDATE {table} AS s SET {assignments} FROM metering_state_moves AS v "  # noqa: S608 (model names, quoted)
                "JOIN jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS h (value, n) ON h.n = v.n WHERE s.id = v.id",
                [json.dumps([state.history for state in states], check_circular=False)],  # plain lists
            )
        else:
            readers = [reader_of(field, connection) for field in fields[:-1]]  # all but the history (JSON)
            assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
            cursor.executemany(
                f"UPDATE {table} SET {assignments} WHERE id = %s",  # noqa: S608 (model names, quoted)
                [[*(read(state) for read in readers), json.dumps(state.history), state.pk] for state in states],
            )
