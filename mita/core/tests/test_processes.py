"""Work shared among forked processes (mita/core/processes.py): every item done once, in another process; a failure
reported with its type; a caller that stops early leaves no process behind."""

import multiprocessing
import os
import signal
import threading
import time

import pytest

from mita.core.processes import ProcessFailed, alongside, fork_safe, in_processes


def _square_where(item: int) -> tuple[int, int]:
    return item * item, os.getpid()


def test_every_item_is_done_once_in_the_processes_and_reported_with_its_position():
    items = [3, 1, 4, 1, 5, 9, 2]
    done = dict(in_processes(_square_where, items, 2))
    assert sorted(done) == list(range(len(items)))
    assert [done[position][0] for position in range(len(items))] == [item * item for item in items]
    pids = {pid for _square, pid in done.values()}
    assert len(pids) == 2 and os.getpid() not in pids
    # item k in process k mod 2
    assert {done[position][1] for position in (0, 2, 4, 6)} != {done[position][1] for position in (1, 3, 5)}


def test_a_caller_that_stops_early_leaves_no_process_running():
    results = in_processes(_square_where, list(range(1000)), 2)
    next(results)
    results.close()  # the caller stops reading
    assert multiprocessing.active_children() == []


def test_fewer_items_than_processes_fork_only_what_is_needed():
    done = list(in_processes(_square_where, [7], 4))
    assert [(position, square) for position, (square, _pid) in done] == [(0, 49)]


def _raising(item: int) -> int:
    if item == 2:
        raise ValueError("item two is broken")
    return item


def _dying(item: int) -> int:
    if item == 2:
        os._exit(9)  # as a process killed by the system, with nothing reported
    return item


@pytest.mark.parametrize(
    ("work", "said"),
    [
        (_raising, r"^ValueError: item two is broken$"),
        (_dying, r"stopped before finishing its share \(exit code 9\)"),  # a failure, not a wait for ever
    ],
)
def test_a_process_failing_partway_stops_its_share_the_other_finishes_and_the_failure_is_raised(work, said):
    reported: list[int] = []
    with pytest.raises(ProcessFailed, match=said):
        for _position, result in in_processes(work, [0, 1, 2, 3, 4, 5], 2):
            reported.append(result)
    # process 0 has 0, 2, 4 and stops at 2; process 1 does 1, 3, 5
    assert sorted(reported) == [0, 1, 3, 5]


def _dying_while_reporting(item: int) -> int:
    if item == 2:  # killed while its result is half through the pipe, which the caller is too slow to empty
        threading.Timer(0.5, os._exit, (9,)).start()
        return [2] * 1_000_000  # far more than a pipe holds
    return item


@pytest.mark.parametrize(
    ("work", "pause"),
    [
        # both processes end before the caller reads on: the pipes hold their last words and then their ends, and the
        # dead one's ending is judged after those words, not lost to the end of a pipe
        (_dying, 1.0),
        # one is killed halfway through a large message: the other, with no lock to wait for, still finishes
        (_dying_while_reporting, 1.5),
    ],
)
def test_a_caller_slower_than_the_processes_hears_all_that_was_said_and_the_one_that_died(work, pause):
    reported: list[int] = []
    with pytest.raises(ProcessFailed, match=r"stopped before finishing its share \(exit code 9\)"):
        for _position, result in in_processes(work, [0, 1, 2, 3, 4, 5], 2):
            if not reported:
                time.sleep(pause)
            reported.append(result)
    assert sorted(reported) == [0, 1, 3, 5]


def test_large_results_from_both_processes_arrive_whole():
    def work(item: int) -> list[int]:
        return [item] * 200_000  # far larger than a pipe's buffer: the two processes' messages must not interleave

    done = dict(in_processes(work, list(range(6)), 2))
    assert all(done[position] == [position] * 200_000 for position in range(6))


def test_alongside_runs_one_part_in_another_process_while_the_other_runs_here():
    there, here = alongside(lambda: ("there", os.getpid()), lambda: ("here", os.getpid()))
    assert here == ("here", os.getpid())
    assert there[0] == "there" and there[1] != os.getpid()
    assert multiprocessing.active_children() == []


def test_alongside_raises_the_other_process_failure_once_the_work_here_is_done():
    done_here: list[str] = []

    def failing() -> None:
        raise ValueError("the other half is broken")

    with pytest.raises(ProcessFailed, match=r"^ValueError: the other half is broken$"):
        alongside(failing, lambda: done_here.append("here"))
    assert done_here == ["here"]


def test_alongside_stops_the_other_process_when_the_work_here_fails():
    def here() -> None:
        raise RuntimeError("this half failed")

    # as in the task worker, whose handler of SIGTERM finishes the task before stopping: not the forked process's
    handled = signal.signal(signal.SIGTERM, lambda _number, _frame: None)
    try:
        started = time.monotonic()
        with pytest.raises(RuntimeError, match="this half failed"):
            alongside(lambda: time.sleep(30), here)
        assert time.monotonic() - started < 10  # not waited for
    finally:
        signal.signal(signal.SIGTERM, handled)
    assert multiprocessing.active_children() == []


def test_a_process_is_fork_safe_only_while_it_runs_one_thread():
    assert fork_safe() == (threading.active_count() == 1)
    serving = threading.Event()
    other = threading.Thread(target=serving.wait)
    other.start()
    try:
        assert not fork_safe()
    finally:
        serving.set()
        other.join()
