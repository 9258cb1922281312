"""Benchmarks (`mita bench <name>`): each app registers its own; each prints one JSON line of figures.

A benchmark runs on a scratch database made for it next to the configured one (PostgreSQL: `<name>_bench`;
SQLite: var/bench-mita.sqlite3), migrated, seeded, and dropped afterwards unless `--keep`. Timing lives here,
never in the tests' assertions.
"""

import contextlib
import dataclasses
import json
import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import dj_database_url
import httpx
from django.conf import settings
from django.db import connection


@dataclasses.dataclass(frozen=True)
class Benchmark:
    name: str
    help: str
    add_arguments: Callable[[Any], None]
    run: Callable[[dict[str, Any]], dict[str, Any]]


BENCHMARKS: dict[str, Benchmark] = {}


def register_bench(benchmark: Benchmark) -> None:
    BENCHMARKS[benchmark.name] = benchmark


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The value below which `fraction` of the (sorted) values lie, nearest rank."""
    if not sorted_values:
        return 0.0
    rank = max(0, min(len(sorted_values) - 1, math.ceil(fraction * len(sorted_values)) - 1))
    return sorted_values[rank]


def cpu_seconds() -> float:
    """CPU seconds of this process and of its finished children (the forked processes a bill run or a reading import
    shares its work among); not the database server's."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


# The machine's speed, printed with every benchmark's figures ("machine"), so that figures taken on different machines,
# or on one machine whose speed swings (a shared host), can be told apart from what the code changed.
SPEED_LOOP = 1_000_000


def python_speed_ms() -> float:
    """Milliseconds this interpreter takes for a fixed pure-Python loop, the best of three. Lower is faster; between
    two runs of a benchmark, a different figure here says the machine ran at a different speed, not the code."""
    best = math.inf
    for _attempt in range(3):
        started = time.perf_counter()
        total, table = 0, {0: 1}
        for i in range(SPEED_LOOP):
            total += table.get(i & 1, 2) + i
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


def _cpu_times() -> list[int] | None:
    """The machine's CPU time counters from /proc/stat (user nice system idle iowait irq softirq steal), or None where
    there is no /proc."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return None
    return [int(value) for value in first[1:9]]


@dataclasses.dataclass(frozen=True)
class MachineSample:
    python_ms: float
    cpu_times: list[int] | None


def machine_sample() -> MachineSample:
    return MachineSample(python_ms=python_speed_ms(), cpu_times=_cpu_times())


def machine_figures(before: MachineSample) -> dict[str, Any]:
    """What the machine was like over a benchmark, from a sample before it and one now: its cores, its Python speed
    before and after (`python_speed_ms`), and the share of CPU time the host took from it meanwhile (`steal_percent`,
    Linux; a virtual machine's neighbours)."""
    after = machine_sample()
    steal = None
    if before.cpu_times is not None and after.cpu_times is not None:
        spent = [now - then for now, then in zip(after.cpu_times, before.cpu_times, strict=True)]
        steal = round(100 * spent[7] / sum(spent), 1) if sum(spent) else 0.0
    return {
        "cpus": os.cpu_count(),
        "python_ms_before_after": [before.python_ms, after.python_ms],
        "steal_percent": steal,
        "load_average": [round(load, 2) for load in os.getloadavg()] if hasattr(os, "getloadavg") else None,
    }


def database_vendor() -> str:
    return str(connection.vendor)


def on_other_engine(url: str) -> bool:
    """Whether a --database URL names another kind of database than the configured connection (whose engine cannot
    change in this process)."""
    return _kind(str(dj_database_url.parse(url)["ENGINE"])) != _kind(str(connection.settings_dict["ENGINE"]))


def _kind(engine: str) -> str:
    """SQLite or PostgreSQL (Django's backend, or Mita's on top of it: mita.core.postgresql)."""
    return "sqlite" if engine.endswith("sqlite3") else "postgresql"


def run_elsewhere(url: str) -> dict[str, Any]:
    """This benchmark again in a child process configured for the database `url`: the same command line without
    --database (the child makes its scratch database next to `url`); returns the child's figures."""
    arguments, skip = [], False
    for argument in sys.argv[1:]:
        if skip or argument == "--database" or argument.startswith("--database="):
            skip = argument == "--database"
            continue
        arguments.append(argument)
    env = {**os.environ, "DATABASE_URL": url}
    command = [sys.executable, "-m", "mita.cli", *arguments]
    finished = subprocess.run(command, env=env, check=True, stdout=subprocess.PIPE, text=True)  # noqa: S603
    figures: dict[str, Any] = json.loads(finished.stdout.strip().splitlines()[-1])
    return figures


def _database_url(database: dict[str, Any]) -> str:
    """A DATABASE_URL for the subprocesses (the web server) that names the scratch database."""
    if database["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{database['NAME']}"
    user = quote(str(database.get("USER") or ""))
    password = quote(str(database.get("PASSWORD") or ""))
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = database.get("HOST") or "127.0.0.1"
    port = database.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{database['NAME']}"


@contextlib.contextmanager
def scratch_database(*, keep: bool = False) -> Iterator[str]:
    """Make, migrate and switch to a scratch database; yields its DATABASE_URL; drops it afterwards."""
    settings_dict = connection.settings_dict
    original_name = settings_dict["NAME"]
    if settings_dict["ENGINE"].endswith("sqlite3"):
        bench_name = str(Path(settings.VAR_DIR) / "bench-mita.sqlite3")
    else:
        bench_name = f"{original_name}_bench"
    settings_dict.setdefault("TEST", {})["NAME"] = bench_name
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=False)
    try:
        yield _database_url(connection.settings_dict)
    finally:
        if not keep:
            connection.creation.destroy_test_db(original_name, verbosity=0, keepdb=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def web_server(*, database_url: str, workers: int, threads: int, health_checks: bool = True) -> Iterator[str]:
    """Serve Mita with gunicorn on a free loopback port against the scratch database; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MITA_DB_CONN_MAX_AGE": "600",
        "MITA_DB_CONN_HEALTH_CHECKS": "true" if health_checks else "false",
        "DEBUG": "false",
        "MITA_TASKS_IMMEDIATE": "",
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "mita.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, env=env)  # noqa: S603 (our own interpreter and arguments)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("The benchmark's web server did not start; see its output above.")
            time.sleep(0.2)
        yield base_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
