"""`mita bench readings-import --rows N`: a file of N readings (one per metered connection) checked and recorded end to
end through the real code on a scratch database, then the same file again (all replays); one JSON line of figures.
The seeding (customers, connections, meters, installations, meter states) is bulk and not timed."""

import csv
import datetime
import io
import os
import random
import sys
import time
from decimal import Decimal
from typing import Any

from django.db import connection as database
from django.db import transaction
from django.utils import timezone

from mita.core.bench import (
    Benchmark,
    cpu_seconds,
    database_vendor,
    register_bench,
    run_elsewhere,
    scratch_database,
)
from mita.core.bulk import statistics_refresh
from mita.metering.models import Installation, Meter, MeterModel, MeterState, Register, Store
from mita.metering.reading_imports import reading_import_check, reading_import_run
from mita.registry.bench_world import bench_operator

BATCH = 5000


def add_arguments(parser: Any) -> None:
    parser.add_argument("--rows", type=int, default=100_000, help="Readings in the file (default 100000).")
    parser.add_argument("--profile", action="store_true", help="Print the cProfile of the first import to stderr.")
    parser.add_argument(
        "--database", default="", help="DATABASE_URL to run on (default: the configured one), e.g. postgres://..."
    )


def _month_before(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def seed(*, operator: Any, count: int, installed_on: datetime.date) -> list[tuple[str, Decimal, int]]:
    """`count` active connections, each with a meter installed 120 days before and three monthly readings of history
    since; returns their numbers, last indexes and monthly consumption."""
    from django.apps import apps

    customer_model = apps.get_model("customers", "Customer")
    connection_model = apps.get_model("customers", "Connection")
    meter_model = MeterModel.objects.create(
        operator=operator, code="B15", brand="Itron", name="Aquadis B15", utility="water", dial_digits=5
    )
    Register.objects.create(meter_model=meter_model, code="main", unit="m3")
    Store.objects.create(operator=operator, code="CEN", name="Central", kind=Store.Kind.CENTRAL)
    rng = random.Random(11)
    seeded: list[tuple[str, Decimal, int]] = []
    for start in range(0, count, BATCH):
        numbers = range(start + 1, min(count, start + BATCH) + 1)
        customers = customer_model.objects.bulk_create(
            [
                customer_model(
                    operator=operator,
                    sequence_number=n,
                    number=f"BEN{n:07d}",
                    name=f"Customer {n}",
                    phone=f"+25078{n:07d}",
                )
                for n in numbers
            ]
        )
        connections = connection_model.objects.bulk_create(
            [
                connection_model(
                    operator=operator,
                    number=f"BEN-{n:07d}",
                    customer=customer,
                    utility="water",
                    property_type="residential",
                    status="active",
                )
                for n, customer in zip(numbers, customers, strict=True)
            ]
        )
        meters = Meter.objects.bulk_create(
            [
                Meter(operator=operator, meter_model=meter_model, brand="Itron", serial=f"S{n:08d}", status="installed")
                for n in numbers
            ]
        )
        installations = Installation.objects.bulk_create(
            [
                Installation(
                    operator=operator,
                    meter=meter,
                    connection=connection,
                    installed_on=installed_on,
                    initial_index=Decimal(0),
                )
                for meter, connection in zip(meters, connections, strict=True)
            ]
        )
        states = []
        for installation, connection in zip(installations, connections, strict=True):
            monthly = rng.randint(5, 30)
            last = Decimal(monthly * 3)
            states.append(
                MeterState(
                    operator=operator,
                    connection=connection,
                    register="main",
                    installation=installation,
                    last_index=last,
                    last_actual_index=last,
                    last_read_on=installed_on + datetime.timedelta(days=90),  # 30 days before the file's date
                    last_cycle="",
                    history=[[30, str(monthly)], [30, str(monthly)], [30, str(monthly)]],
                )
            )
            seeded.append((connection.number, last, monthly))
        MeterState.objects.bulk_create(states)
    return seeded


def file_of(seeded: list[tuple[str, Decimal, int]], *, read_on: datetime.date) -> bytes:
    """One reading per connection, about its usual month (a few go to review: zero, high)."""
    rng = random.Random(7)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["connection_number", "register", "index", "read_on", "reader_code", "note"])
    for number, last, monthly in seeded:
        advance = monthly + rng.randint(-2, 2) if rng.random() > 0.02 else rng.choice([0, monthly * 5])
        writer.writerow([number, "main", last + advance, read_on.isoformat(), "", ""])
    return out.getvalue().encode()


def _database_cpu() -> float | None:
    """CPU seconds the database server has used so far, all its processes together (PostgreSQL on this machine, from
    /proc): the live ones' own time and the time of those ended (the postmaster's children's time: an import's
    threads' connections end with them). None elsewhere. With the process's own CPU time, what an import costs
    whatever the machine's load; the server's background writers count too."""
    if database.vendor != "postgresql":
        return None
    with database.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    try:
        postmaster = _stat(backend)[1]
        ended = sum(_stat(postmaster)[13:15])  # cutime + cstime
    except OSError:
        return None
    alive = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                fields = _stat(int(entry.name))
            except OSError:  # ended meanwhile
                continue
            if fields[1] == postmaster:
                alive += fields[11] + fields[12]  # utime + stime
    return (ended + alive) / os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[int]:
    """A process's /proc/<pid>/stat fields after its name (state, ppid, ...), the numbers as numbers (state as 0)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return [int(field) if field.lstrip("-").isdigit() else 0 for field in fields]


def run(options: dict[str, Any]) -> dict[str, Any]:
    if options.get("database"):
        return run_elsewhere(options["database"])
    wanted = options["rows"]
    today = timezone.localdate()
    read_on = _month_before(today) + datetime.timedelta(days=24)
    installed_on = read_on - datetime.timedelta(days=120)
    with scratch_database(keep=options["keep"]):
        with transaction.atomic():
            operator = bench_operator(districts=3)
            seeded = seed(operator=operator, count=wanted, installed_on=installed_on)
        statistics_refresh()  # the seeded tables, as a database in use keeps them (autovacuum)
        content = file_of(seeded, read_on=read_on)
        profiler = None
        if options.get("profile"):
            import cProfile

            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
        database_started = _database_cpu()
        cpu_started = cpu_seconds()
        started = time.perf_counter()
        checked = reading_import_check(operator=operator, acting_user=None, file_name="bench.csv", content=content)
        checked_at = time.perf_counter()
        first = reading_import_run(reading_import_id=checked.pk)
        recorded_at = time.perf_counter()
        cpu_used = cpu_seconds() - cpu_started
        database_finished = _database_cpu()
        if profiler is not None:
            import pstats

            profiler.disable()
            pstats.Stats(profiler, stream=sys.stderr).sort_stats(
                os.environ.get("MITA_PROFILE_SORT", "cumulative")
            ).print_stats(45)
        again = reading_import_check(operator=operator, acting_user=None, file_name="bench.csv", content=content)
        second = reading_import_run(reading_import_id=again.pk)
        finished = time.perf_counter()
        seconds = recorded_at - started
        return {
            "bench": "readings-import",
            "database": database_vendor(),
            "rows": first.rows_total,
            "file_bytes": len(content),
            "seconds": round(seconds, 2),
            "check_seconds": round(checked_at - started, 2),
            "record_seconds": round(recorded_at - checked_at, 2),
            "rows_per_second": round(first.rows_total / seconds, 1),
            # CPU seconds of this process and of the database server for the check and the record: the work itself,
            # which a loaded machine stretches into more seconds (on PostgreSQL served locally).
            "cpu_seconds": round(cpu_used, 2),
            "database_cpu_seconds": None
            if database_started is None or database_finished is None
            else round(database_finished - database_started, 2),
            "created": first.rows_created,
            "replayed": first.rows_replayed,
            "refused": first.rows_refused,
            "review": first.rows_review,
            "errors": first.rows_error,
            "again_seconds": round(finished - recorded_at, 2),
            "again_created": second.rows_created,
            "again_replayed": second.rows_replayed,
            "again_refused": second.rows_refused,
        }


register_bench(
    Benchmark(
        name="readings-import",
        help="Import of a file of readings: check and record seconds for N rows, then the same file again (replays).",
        add_arguments=add_arguments,
        run=run,
    )
)
