"""`mita bench billrun --accounts N [--database URL] [--profile]`: N synthetic metered accounts (a meter, a tariff and
October's reading each, seeded with bulk inserts) on a scratch database, then a bill run's preview and issue through
the real code; one JSON line: accounts, seconds (and of each step), accounts per second, bills, rows written."""

import cProfile
import datetime
import io
import pstats
import random
import sys
import time
from decimal import Decimal
from typing import Any

import dj_database_url
from django.db import connection, transaction
from django.utils import timezone

from mita.billing.cycles import cycles_generate
from mita.billing.models import Bill, BillException, BillingCycle, BillRunUnit
from mita.billing.run import UNIT_SIZE, run_until_done
from mita.billing.services import billrun_approve, billrun_create
from mita.core.bench import (
    Benchmark,
    cpu_seconds,
    database_vendor,
    on_other_engine,
    register_bench,
    run_elsewhere,
    scratch_database,
)
from mita.core.bulk import instances_insert, maker, statistics_refresh
from mita.customers.models import Connection, Customer
from mita.ledger.models import Charge, Transfer
from mita.ledger.services import holder_accounts_ensure
from mita.metering.models import Installation, Meter, MeterModel, Reading, Register
from mita.registry.bench_world import bench_operator
from mita.registry.models import Licence, Operator
from mita.tariffs.services import tariff_create, version_create, version_publish

BATCH = 5000
DEFINITION = {
    "currency": "RWF",
    "utility": "water",
    "unit": "m3",
    "period": "month",
    "components": [
        {
            "type": "blocks",
            "id": "water",
            "label": "Water",
            "method": "incremental",
            "bands": [
                {"upto": 5, "rate": 340},
                {"upto": 20, "rate": 720},
                {"upto": 50, "rate": 845},
                {"upto": None, "rate": 877},
            ],
        },
        {"type": "fixed", "id": "service", "label": "Service charge", "amount": 500},
    ],
    "vat": {"rate": 18, "mode": "exclusive", "applies_to": ["water"]},
}


def add_arguments(parser: Any) -> None:
    parser.add_argument("--accounts", type=int, default=10000, help="Metered accounts to bill (default 10000).")
    parser.add_argument("--database", default="", help="A database URL to make the scratch database next to.")
    parser.add_argument("--unit-size", type=int, default=UNIT_SIZE, help="Connections in a unit.")
    parser.add_argument(
        "--workers", type=int, default=0, help="Processes sharing the units (default 2 on PostgreSQL, 1 on SQLite)."
    )
    parser.add_argument("--profile", action="store_true", help="Print the run's top costs (cProfile) on stderr.")
    parser.add_argument("--compute-only", action="store_true", help="Stop after the preview (no ledger posting).")


def _seed(count: int) -> tuple[Operator, BillingCycle]:
    """The world, set-based: customers, connections, meters, installations and readings by bulk inserts."""
    rng = random.Random(7)
    with transaction.atomic():
        operator = bench_operator()
        Licence.objects.create(
            number="L-BENCH",
            operator=operator,
            holder_name=operator.name,
            status="valid",
            issued_on=datetime.date(2020, 1, 1),
            expires_on=datetime.date(2099, 12, 31),
            fetched_at=timezone.now(),
        )
        cycles_generate(operator=operator, year=2026, frequency=BillingCycle.Frequency.MONTHLY)
        tariff = tariff_create(
            operator=operator, acting_user=None, code="RES", name="Residential", utility="water", property_types=[]
        )
        version = version_create(
            tariff=tariff, acting_user=None, effective_from=datetime.date(2026, 1, 1), definition=DEFINITION, note=""
        )
        version_publish(version=version, acting_user=None)
        model = MeterModel.objects.create(
            operator=operator, code="B15", brand="Itron", name="Bench", utility="water", dial_digits=6, size="15 mm"
        )
        Register.objects.create(meter_model=model, code="main", unit="m3", position=1)
    installed_on = datetime.date(2026, 1, 1)
    customer, connection_of = maker(Customer, operator_id=operator.pk), maker(Connection, operator_id=operator.pk)
    meter, installation = maker(Meter, operator_id=operator.pk), maker(Installation, operator_id=operator.pk)
    reading = maker(Reading, operator_id=operator.pk, cycle="2026-10", read_on=datetime.date(2026, 10, 28))
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        numbers = [f"BEN-{start + i + 1:07d}" for i in range(size)]
        with transaction.atomic():
            customers = [
                customer(
                    sequence_number=start + i + 1,
                    number=f"C{start + i + 1:07d}",
                    name=f"Bench customer {start + i + 1}",
                    phone=f"+250788{start + i + 1:06d}"[-13:],
                )
                for i in range(size)
            ]
            instances_insert(customers)
            connections = [
                connection_of(
                    number=number,
                    customer_id=made.pk,
                    utility="water",
                    property_type="residential",
                    status=Connection.Status.ACTIVE,
                )
                for number, made in zip(numbers, customers, strict=True)
            ]
            instances_insert(connections)
            meters = [
                meter(meter_model_id=model.pk, brand="Itron", serial=f"S{number}", status="installed")
                for number in numbers
            ]
            instances_insert(meters)
            installations = [
                installation(meter_id=made.pk, connection_id=c.pk, installed_on=installed_on, initial_index=Decimal(0))
                for made, c in zip(meters, connections, strict=True)
            ]
            instances_insert(installations)
            readings = []
            for c, made in zip(connections, installations, strict=True):
                previous = Decimal(rng.randint(0, 5000))
                used = Decimal(rng.randint(1, 60))
                readings.append(
                    reading(
                        connection_id=c.pk,
                        installation_id=made.pk,
                        previous_index=previous,
                        current_index=previous + used,
                        consumption=used,
                        source="manual",
                        status="accepted",
                    )
                )
            instances_insert(readings)
            holder_accounts_ensure(operator=operator, holders=numbers, purpose="receivable")
    return operator, BillingCycle.objects.get(operator=operator, code="2026-10")


def _rows() -> int:
    return sum(model.objects.count() for model in (Bill, BillException, BillRunUnit, Charge, Transfer))


def _switch(url: str) -> None:
    """Point the default connection at another database (the scratch database is made next to it)."""
    connection.close()
    parsed = dj_database_url.parse(url)
    connection.settings_dict.update({key: value for key, value in parsed.items() if key != "CONN_MAX_AGE"})


def _profiled(step: str, profiling: bool, work: Any) -> Any:
    """Run a step, under cProfile when asked (its top costs go to stderr, by own time and by cumulative time)."""
    if not profiling:
        return work()
    profile = cProfile.Profile()
    result = profile.runcall(work)
    text = io.StringIO()
    text.write(f"--- {step} ---\n")
    stats = pstats.Stats(profile, stream=text)
    stats.sort_stats("tottime").print_stats(15)
    stats.sort_stats("cumulative").print_stats(30)
    sys.stderr.write(text.getvalue())
    return result


def run(options: dict[str, Any]) -> dict[str, Any]:
    if options.get("database"):
        if on_other_engine(options["database"]):  # SQLite configured, PostgreSQL asked for (or the other way)
            return run_elsewhere(options["database"])
        _switch(options["database"])
    count = options["accounts"]
    with scratch_database(keep=options["keep"]):
        seeding = time.perf_counter()
        operator, cycle = _seed(count)
        statistics_refresh()  # the seeded tables, as a database in use keeps them (autovacuum)
        seeded = time.perf_counter()
        rows_before = _rows()
        profiling = bool(options.get("profile"))
        workers = options.get("workers") or (2 if connection.vendor == "postgresql" else 1)
        started, cpu = time.perf_counter(), cpu_seconds()
        billrun = billrun_create(operator=operator, cycle=cycle, acting_user=None, background=False)
        billrun = _profiled(
            "compute", profiling, lambda: run_until_done(billrun, unit_size=options["unit_size"], workers=workers)
        )
        computed = time.perf_counter()
        if not options.get("compute_only"):
            billrun = billrun_approve(run=billrun, acting_user=None, background=False)
            billrun = _profiled("issue", profiling, lambda: run_until_done(billrun, workers=workers))
        issued = time.perf_counter()
        seconds = issued - started
        return {
            "bench": "billrun",
            "database": database_vendor(),
            "accounts": count,
            "seconds": round(seconds, 2),
            "accounts_per_second": round(count / seconds, 1) if seconds else None,
            "compute_seconds": round(computed - started, 2),
            "cpu_seconds": round(cpu_seconds() - cpu, 2),  # this process's and its workers' (SQLite's work included)
            "issue_seconds": round(issued - computed, 2),
            "seed_seconds": round(seeded - seeding, 2),
            "units": billrun.units_total,
            "workers": workers if connection.vendor == "postgresql" else 1,
            "bills": Bill.objects.filter(run=billrun).count(),
            "bills_issued": Bill.objects.filter(run=billrun, status=Bill.Status.ISSUED).count(),
            "exceptions": billrun.exceptions,
            "rows_written": _rows() - rows_before,
            "status": billrun.status,
        }


register_bench(
    Benchmark(
        name="billrun",
        help="A bill run (preview and issue) of N synthetic metered accounts: seconds and accounts per second.",
        add_arguments=add_arguments,
        run=run,
    )
)
