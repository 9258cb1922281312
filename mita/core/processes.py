"""Work shared among forked processes: a bill run's units, a file of readings' chunks, the two halves of a large file's
check.

Python runs one thread at a time per process, so a batch whose own Python is half its cost uses one core however many
threads it has. Forked processes each run their share on their own core while the database serves the others. Each
item of work is its own transaction in its own process, so this is for PostgreSQL (SQLite takes one writer at a time)
and for callers outside a transaction (the children cannot see or join the caller's).

A forked process starts with copies of whatever connections its parent held (in any thread or context: a test run's
live server or browser may have left some open). It opens its own, and keeps the copies alive and unclosed: closing or
finalizing one would end the parent's session on the socket they share."""

import multiprocessing
import multiprocessing.connection
import pickle
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from asgiref.local import Local
from django.db import connections

Item = TypeVar("Item")
Result = TypeVar("Result")
Other = TypeVar("Other")


class ProcessFailed(Exception):
    """Work failed in a forked process: the message names the error's type and says what it said."""


_INHERITED: list[Any] = []  # a forked process's copies of its parent's connections, never finalized


def fork_safe() -> bool:
    """Whether this process may fork for work it could do alone: it runs one thread. A forked process has only the
    thread that forked it, and a lock another thread held at that moment (logging's, a driver's) stays held in it for
    ever. So a web worker serving requests on threads (gunicorn --threads) checks a file in one process; a sync
    worker, a task worker and the command line fork."""
    return threading.active_count() == 1


def in_processes(work: Callable[[Item], Result], items: Sequence[Item], processes: int) -> Iterator[tuple[int, Result]]:
    """Do `work(item)` for every item in `processes` forked processes (item k in process k mod processes), yielding
    (k, result) as each is reported; results go through a pipe, so they must pickle (keep them small). A process
    whose work fails stops its own share; the others finish theirs; then ProcessFailed is raised with the first
    error. A process that dies without a word (killed, out of memory, even halfway through a message) is a failure
    too, not a wait for ever. The parent's connections are closed first: it opens new ones when it next queries."""
    yield from _reports(_Forked(work, items, processes))


def alongside(there: Callable[[], Result], here: Callable[[], Other]) -> tuple[Result, Other]:
    """`there()` in a forked process while `here()` runs in this one, on two cores; both results. As in_processes:
    the parent's connections are closed first, and what `there` returns comes back pickled. When `here` raises, the
    other process is stopped and its work dropped; when `there` fails, ProcessFailed is raised after `here` is done."""
    forked = _Forked(lambda _item: there(), [None], 1)
    try:
        done_here = here()
    except BaseException:
        forked.stop()
        raise
    [(_position, done_there)] = _reports(forked)
    return done_there, done_here


class _Forked:
    """Processes forked to do `work` for `items`, each with a pipe to report on."""

    def __init__(self, work: Callable[[Any], Any], items: Sequence[Any], processes: int) -> None:
        context = multiprocessing.get_context("fork")
        self.count = count = min(processes, len(items))
        pipes = [context.Pipe(duplex=False) for _k in range(count)]  # one each: no lock a dying child could keep held
        connections.close_all()  # the children must open their own connections, not share the parent's socket
        self.children = [
            context.Process(target=_share, args=(work, items, range(k, len(items), processes), k, pipes), daemon=True)
            for k in range(count)
        ]
        for child in self.children:
            child.start()
        for _reader, writer in pipes:
            writer.close()  # each child holds its own; a pipe ends when its child does
        self.readers = [reader for reader, _writer in pipes]

    def stop(self) -> None:
        """End the processes, whatever they are doing (what they began rolls back with their connections). Killed, not
        asked: a forked process starts with its parent's signal handlers, and the task worker's handles SIGTERM by
        finishing its task first."""
        for child in self.children:
            child.kill()
        self.end()

    def end(self) -> None:
        for child in self.children:
            child.join()
        for reader in self.readers:
            reader.close()


def _reports(forked: _Forked) -> Iterator[tuple[int, Any]]:
    """(position, result) of each item as the processes report it; ProcessFailed at the end if one failed."""
    count, children, readers = forked.count, forked.children, forked.readers
    errors: list[str] = []
    finished: set[int] = set()  # the children that said their share is done (or stopped at an error), or died
    try:
        while len(finished) < count:
            running = [k for k in range(count) if k not in finished]
            ready = multiprocessing.connection.wait([readers[k] for k in running])
            for k in running:
                if readers[k] not in ready:
                    continue
                try:
                    kind, position, value = pickle.loads(readers[k].recv_bytes())  # noqa: S301 (our children)
                except (EOFError, OSError):  # the pipe ended (whole or mid-message) before the child said it was done
                    finished.add(k)
                    children[k].join()
                    errors.append(
                        f"A worker process stopped before finishing its share (exit code {children[k].exitcode})."
                    )
                    continue
                if kind == "done":
                    yield position, value
                elif kind == "error":
                    errors.append(value)
                else:  # "exit"
                    finished.add(k)
    finally:
        if len(finished) < count:  # the caller stopped early: what is begun rolls back with its connection
            forked.stop()
        else:
            forked.end()
    if errors:
        raise ProcessFailed(errors[0])


def _share(work: Callable[[Any], Any], items: Sequence[Any], positions: range, index: int, pipes: list[Any]) -> None:
    _INHERITED.append(connections._connections)  # type: ignore[attr-defined]
    connections._connections = Local(connections.thread_critical)  # type: ignore[attr-defined]
    for k, (reader, writer) in enumerate(pipes):  # only its own writing end stays open, so a pipe ends with its child
        reader.close()
        if k != index:
            writer.close()
    writer = pipes[index][1]

    def report(kind: str, position: int | None, value: Any) -> None:
        writer.send_bytes(pickle.dumps((kind, position, value)))

    try:
        for position in positions:
            report("done", position, work(items[position]))
    except Exception as error:  # reported to the parent, which raises it
        report("error", None, f"{type(error).__name__}: {error}")
    finally:
        connections.close_all()
        report("exit", None, None)
