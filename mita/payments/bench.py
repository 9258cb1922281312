"""`mita bench payments --payments N --concurrency C`: N cash payments through the real HTTP API of a local
gunicorn server, from C clients at once; one JSON line with throughput and p50/p99 latency.

The figures count only the measured payments (after a short warm-up); the run fails loudly if any payment is
refused, and checks afterwards that the ledger verifies and the receipts run without a gap.
"""

import cProfile
import datetime
import json
import os
import pstats
import threading
import time
import uuid
from decimal import Decimal
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.db import connection, reset_queries, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from mita.accounts.roles import Role
from mita.accounts.services import api_token_create, membership_grant, user_create
from mita.core.bench import Benchmark, database_vendor, percentile, register_bench, scratch_database, web_server
from mita.ledger.selectors import ledger_verify
from mita.ledger.services import charge_post, holder_account
from mita.payments.models import Payment, Receipt
from mita.registry.bench_world import bench_operator
from mita.registry.models import Operator

WARM_UP = 50


def add_arguments(parser: Any) -> None:
    parser.add_argument("--payments", type=int, default=2000, help="Payments to time (default 2000).")
    parser.add_argument("--concurrency", type=int, default=16, help="Clients sending at once (default 16).")
    parser.add_argument("--accounts", type=int, default=500, help="Customer accounts paid into (default 500).")
    # 2 cores: one process per core, and threads to overlap the database round trips (gthread keeps connections).
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2).")
    parser.add_argument("--threads", type=int, default=8, help="Threads per worker (default 8; 1: sync workers).")
    parser.add_argument(
        "--no-health-checks",
        action="store_true",
        help="Serve without the database connection health check (a SELECT 1 before each request's first query).",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="No web server: post the payments one by one in this process (Django's test client, the whole "
        "middleware and API stack) and print the queries and CPU milliseconds per payment.",
    )
    parser.add_argument(
        "--profile-out", default="", help="With --profile: write the cProfile statistics to this file (pstats)."
    )


def _seed(accounts: int) -> tuple[Operator, list[str], str]:
    """An operator, customer accounts each owing a bill, and a cashier's API token."""
    with transaction.atomic():
        operator = bench_operator()
        cashier = user_create(phone="+250788999001", name="Bench Cashier", acting_user=None)
        membership_grant(user=cashier, role=Role.CASHIER, organisation=operator, acting_user=None)
        _token, raw = api_token_create(user=cashier, name="bench")
        holders = [f"BEN-{number:06d}" for number in range(1, accounts + 1)]
        for holder in holders:
            holder_account(operator=operator, holder=holder, purpose="receivable")
            charge_post(
                operator=operator,
                holder=holder,
                head="water_sales",
                amount=Decimal("100000"),
                vat_rule="standard",
                reference=f"bill:{holder}:2026-10",
                due_date=datetime.date(2026, 10, 31),
                acting_user=None,
            )
    return operator, holders, raw


def _send(
    base_url: str, token: str, workspace: str, holders: list[str], jobs: list[int], clients: int
) -> tuple[list[float], list[str]]:
    """Send one payment per job from `clients` threads; returns the latencies (s) and any refusals.

    The client shares the machine's cores with the server, so it is kept cheap: one keep-alive http.client
    connection per thread (reopened when the server closes it), the body written by hand."""
    latencies: list[float] = []
    problems: list[str] = []
    lock = threading.Lock()
    cursor = iter(jobs)
    address = urlsplit(base_url)
    headers = {
        "Authorization": f"Bearer {token}",
        "X-Mita-Workspace": workspace,
        "Content-Type": "application/json",
    }

    def client() -> None:
        http = HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=30)
        mine: list[float] = []
        try:
            while True:
                with lock:
                    job = next(cursor, None)
                if job is None:
                    return
                body = json.dumps(
                    {
                        "account_reference": holders[job % len(holders)],
                        "amount": "1500",
                        "channel": "cash_office",
                        "idempotency_key": str(uuid.uuid4()),
                    }
                )
                started = time.perf_counter()
                http.request("POST", "/api/v1/payments", body=body, headers=headers)
                response = http.getresponse()
                answer = response.read()
                mine.append(time.perf_counter() - started)
                if response.status != 201:
                    with lock:
                        problems.append(f"{response.status} {answer[:200]!r}")
        finally:
            http.close()
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, problems


def _cpu_seconds(pid: int) -> float:
    """The CPU time (user and system, every thread) a process has used so far; 0 where /proc cannot tell."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    """The processes started by `pid`, and theirs (the web server's master and workers), from /proc (Linux)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, queue = [], list(parents.get(pid, []))
    while queue:
        child = queue.pop()
        found.append(child)
        queue.extend(parents.get(child, []))
    return found


def _database_backends() -> list[int]:
    """The PostgreSQL server processes serving the scratch database's other connections (the web workers')."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [int(row[0]) for row in cursor.fetchall()]


class CpuMeter:
    """CPU used between start() and stop() by the web server's processes, the database's backends for them, and this
    process (the client threads): what a payment costs the machine, whatever else runs on it. The wall-clock figures
    swing with the machine's other load; these do not (much), and 2 cores / CPU per payment bounds the throughput."""

    def start(self) -> None:
        self.processes = {"web": _descendants(os.getpid()), "database": _database_backends()}
        self.started = {part: sum(map(_cpu_seconds, pids)) for part, pids in self.processes.items()}
        self.client_started = time.process_time()

    def stop(self, payments: int) -> dict[str, float]:
        used = {part: sum(map(_cpu_seconds, pids)) - self.started[part] for part, pids in self.processes.items()}
        used["client"] = time.process_time() - self.client_started
        figures = {f"cpu_ms_per_payment_{part}": round(seconds / payments * 1000, 2) for part, seconds in used.items()}
        figures["cpu_ms_per_payment"] = round(sum(used.values()) / payments * 1000, 2)
        return figures


def _profile(holders: list[str], token: str, workspace: str, count: int, out: str) -> dict[str, Any]:
    """Post payments in-process, one at a time: queries per payment (a counted pass), then CPU and wall time per
    payment (a second pass, uncounted, under cProfile when `out` is given). Deterministic enough to compare
    changes on a busy machine, unlike the HTTP figures."""
    http = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_MITA_WORKSPACE=workspace, SERVER_NAME="localhost")

    def post(job: int) -> None:
        body = {
            "account_reference": holders[job % len(holders)],
            "amount": "1500",
            "channel": "cash_office",
            "idempotency_key": str(uuid.uuid4()),
        }
        response = http.post("/api/v1/payments", body, content_type="application/json")
        if response.status_code != 201:
            raise SystemExit(f"A payment was refused: {response.status_code} {response.content[:200]!r}")

    for job in range(WARM_UP):
        post(job)
    counted = min(count, 100)
    queries: list[str] = []
    with CaptureQueriesContext(connection) as captured:
        for job in range(WARM_UP, WARM_UP + counted):
            before = len(captured.captured_queries)
            post(job)
            if job == WARM_UP:
                queries = [q["sql"] for q in captured.captured_queries[before:]]
    total_queries = len(captured)
    reset_queries()
    profiler = cProfile.Profile(time.process_time) if out else None
    cpu_started, wall_started = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    for job in range(WARM_UP + counted, WARM_UP + counted + count):
        post(job)
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).dump_stats(out)
    cpu, wall = time.process_time() - cpu_started, time.perf_counter() - wall_started
    return {
        "queries_per_payment": round(total_queries / counted, 2),
        "cpu_ms_per_payment": round(cpu / count * 1000, 2),
        "wall_ms_per_payment": round(wall / count * 1000, 2),
        "one_payment_queries": queries,
    }


def run(options: dict[str, Any]) -> dict[str, Any]:
    count, clients = options["payments"], options["concurrency"]
    if count < 1 or clients < 1:
        raise SystemExit("--payments and --concurrency must be at least 1.")
    if options.get("profile"):
        with scratch_database(keep=options["keep"]) as _url:
            operator, holders, token = _seed(max(1, options["accounts"]))
            figures = _profile(holders, token, f"operator:{operator.pk}", count, options.get("profile_out") or "")
            numbers = sorted(Receipt.objects.filter(operator=operator).values_list("sequence_number", flat=True))
            return {
                "bench": "payments-profile",
                "database": database_vendor(),
                "payments": count,
                **figures,
                "receipts_gapless": numbers == list(range(1, len(numbers) + 1)),
                "ledger_verified": ledger_verify(operator=operator) == [],
            }
    with scratch_database(keep=options["keep"]) as database_url:
        operator, holders, token = _seed(max(1, options["accounts"]))
        workspace = f"operator:{operator.pk}"
        health_checks = not options.get("no_health_checks")
        server = web_server(
            database_url=database_url,
            workers=options["workers"],
            threads=options["threads"],
            health_checks=health_checks,
        )
        with server as url:
            _send(url, token, workspace, holders, list(range(WARM_UP)), clients)
            meter = CpuMeter()
            meter.start()
            started = time.perf_counter()
            latencies, problems = _send(url, token, workspace, holders, list(range(WARM_UP, WARM_UP + count)), clients)
            seconds = time.perf_counter() - started
            cpu = meter.stop(count)
        if problems:
            raise SystemExit(f"{len(problems)} payments were refused, e.g. {problems[0]}")
        numbers = sorted(Receipt.objects.filter(operator=operator).values_list("sequence_number", flat=True))
        latencies.sort()
        return {
            "bench": "payments",
            "database": database_vendor(),
            "payments": count,
            "concurrency": clients,
            "workers": options["workers"],
            "threads": options["threads"],
            "health_checks": health_checks,
            "accounts": len(holders),
            "seconds": round(seconds, 3),
            "payments_per_second": round(count / seconds, 1),
            "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
            "max_ms": round(latencies[-1] * 1000, 1),
            **cpu,
            "payments_recorded": Payment.objects.filter(operator=operator).count(),
            "receipts_gapless": numbers == list(range(1, len(numbers) + 1)),
            "ledger_verified": ledger_verify(operator=operator) == [],
        }


register_bench(
    Benchmark(
        name="payments",
        help="Payments through the HTTP API: throughput and p50/p99 latency.",
        add_arguments=add_arguments,
        run=run,
    )
)
