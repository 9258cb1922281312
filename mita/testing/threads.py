"""Running work in real threads at the same moment, each on its own database connection (concurrency tests)."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import close_old_connections, connection


def in_threads(work: Callable[[int], Any], count: int) -> list[Any]:
    """Run work(i) in `count` threads released together; returns each result or the exception it raised."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as error:  # returned to the test, which checks it
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    close_old_connections()
    return results
