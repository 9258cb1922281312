"""Counting round trips to PostgreSQL: the times psycopg waited for the server to answer.

CaptureQueriesContext counts statements, and only with the query log on, which sends each statement alone. What a
hot path pays for is how often it waits for the server: a pipeline sends several statements and waits once. Here a
round trip is one psycopg `Connection.wait` (one exchange: a statement, a pipeline's sync, a COMMIT) in which the
socket was found readable at least once, i.e. the client waited to read an answer.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from selectors import EVENT_READ
from typing import Any

from psycopg import waiting


@contextmanager
def round_trips_counted() -> Iterator[list[int]]:
    """A list that grows by one per round trip made by any psycopg connection of this process in the block."""
    counted: list[int] = []
    original = waiting.wait

    def wait(gen: Any, fileno: int, interval: float | None = None, **kwargs: Any) -> Any:
        return original(_watched(gen, counted), fileno, interval, **kwargs)

    waiting.wait = wait
    try:
        yield counted
    finally:
        waiting.wait = original


def _watched(gen: Any, counted: list[int]) -> Any:
    """The generator `gen`, noting once in `counted` whether the socket was found readable while it ran."""
    read = False
    try:
        wanted = gen.send(None)
        while True:
            ready = yield wanted
            read = read or bool(ready & EVENT_READ)  # psycopg's Ready.R is the selectors' EVENT_READ
            wanted = gen.send(ready)
    except StopIteration as stop:
        return stop.value
    finally:
        if read:
            counted.append(1)
