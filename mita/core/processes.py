"""Work shared among forked processes: a bill run's units, a file of readings' chunks.

Python runs one thread at a time per process, so a batch whose own Python is half its cost uses one core however many
threads it has. Forked processes each run their share on their own core while the database serves the others. Each
item of work is its own transaction in its own process, so this is for PostgreSQL (SQLite takes one writer at a time)
and for callers outside a transaction (the children cannot see or join the caller's).

A forked process starts with copies of whatever connections its parent held (in any thread or context: a test run's
live server or browser may have left some open). It opens its own, and keeps the copies alive and unclosed: closing or
finalizing one would end the parent's session on the socket they share."""

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from asgiref.local import Local
from django.db import connections

Item = TypeVar("Item")
Result = TypeVar("Result")


class ProcessFailed(Exception):
    """Work failed in a forked process: the message names the error's type and says what it said."""


_INHERITED: list[Any] = []  # a forked process's copies of its parent's connections, never finalized


def in_processes(work: Callable[[Item], Result], items: Sequence[Item], processes: int) -> Iterator[tuple[int, Result]]:
    """Do `work(item)` for every item in `processes` forked processes (item k in process k mod processes), yielding
    (k, result) as each is reported; results go through a pipe, so they must pickle (keep them small). A process
    whose work fails stops its own share; the others finish theirs; then ProcessFailed is raised with the first
    error. The parent's connections are closed first: it opens new ones when it next queries."""
    context = multiprocessing.get_context("fork")
    reports: Any = context.SimpleQueue()
    connections.close_all()  # the children must open their own connections, not share the parent's socket
    children = [
        context.Process(target=_share, args=(work, items, range(k, len(items), processes), reports), daemon=True)
        for k in range(min(processes, len(items)))
    ]
    for child in children:
        child.start()
    errors: list[str] = []
    running = len(children)
    try:
        while running:
            kind, position, value = reports.get()
            if kind == "done":
                yield position, value
            elif kind == "error":
                errors.append(value)
            else:  # "exit": a process has done its share (or stopped at an error)
                running -= 1
    finally:
        if running:  # the caller stopped early: what is begun is rolled back with its connection
            for child in children:
                child.terminate()
        for child in children:
            child.join()
    if errors:
        raise ProcessFailed(errors[0])


def _share(work: Callable[[Any], Any], items: Sequence[Any], positions: range, reports: Any) -> None:
    _INHERITED.append(connections._connections)  # type: ignore[attr-defined]
    connections._connections = Local(connections.thread_critical)  # type: ignore[attr-defined]
    try:
        for position in positions:
            reports.put(("done", position, work(items[position])))
    except Exception as error:  # reported to the parent, which raises it
        reports.put(("error", None, f"{type(error).__name__}: {error}"))
    finally:
        connections.close_all()
        reports.put(("exit", None, None))
