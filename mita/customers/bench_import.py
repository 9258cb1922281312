"""`mita bench customers-import --rows N`: preview and import a generated file of N rows (the demo's generator) on a
scratch database; one JSON line with the seconds of each step and the rows per second."""

import random
import time
from typing import Any

from django.db import transaction
from django.utils import timezone

from mita.core.bench import Benchmark, database_vendor, register_bench, scratch_database
from mita.customers.demo import bulk_rows, rows_csv
from mita.customers.imports import import_batch_run, import_preview
from mita.customers.models import Connection, Customer
from mita.registry.bench_world import bench_operator


def add_arguments(parser: Any) -> None:
    parser.add_argument("--rows", type=int, default=10000, help="Rows (connections) in the file (default 10000).")


def run(options: dict[str, Any]) -> dict[str, Any]:
    wanted = options["rows"]
    with scratch_database(keep=options["keep"]):
        with transaction.atomic():
            operator = bench_operator(districts=3)
        rows = bulk_rows(
            rng=random.Random(5),
            operator=operator,
            key="amazi",
            customers=wanted,
            arrears_as_of=timezone.localdate(),
        )[:wanted]
        content = rows_csv(rows)
        started = time.perf_counter()
        batch = import_preview(operator=operator, acting_user=None, file_name="bench.csv", content=content)
        previewed = time.perf_counter()
        batch = import_batch_run(batch_id=batch.pk)
        imported = time.perf_counter()
        again = import_preview(operator=operator, acting_user=None, file_name="bench.csv", content=content)
        repreviewed = time.perf_counter()
        return {
            "bench": "customers-import",
            "database": database_vendor(),
            "rows": len(rows),
            "file_bytes": len(content),
            "preview_seconds": round(previewed - started, 2),
            "import_seconds": round(imported - previewed, 2),
            "rows_per_second": round(len(rows) / (imported - started), 1),
            "reimport_preview_seconds": round(repreviewed - imported, 2),
            "imported": batch.rows_imported,
            "errors": batch.rows_error,
            "customers": Customer.objects.filter(operator=operator).count(),
            "connections": Connection.objects.filter(operator=operator).count(),
            "reimport_unchanged": again.rows_unchanged,
            "reimport_new": again.rows_new,
        }


register_bench(
    Benchmark(
        name="customers-import",
        help="Bulk import of customers: preview and import seconds for N rows.",
        add_arguments=add_arguments,
        run=run,
    )
)
