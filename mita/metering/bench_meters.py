"""`mita bench meters-receive --batches N`: receive N batches of 10,000 meters by serial range on a scratch database,
then a batch that clashes on every serial (the duplicate check alone) and a transfer of 10,000 meters; one JSON line
with the seconds of each."""

import datetime
import time
from typing import Any

from django.db import transaction

from mita.core.bench import Benchmark, database_vendor, register_bench, scratch_database
from mita.core.errors import Conflict
from mita.metering.models import Meter
from mita.metering.serials import MAX_BATCH, serial_range
from mita.metering.services_catalogue import meter_model_create, store_create
from mita.metering.services_movements import meters_move, meters_receive
from mita.registry.bench_world import bench_operator


def add_arguments(parser: Any) -> None:
    parser.add_argument("--batches", type=int, default=3, help="Batches of 10,000 meters to receive (default 3).")


def _range(batch: int) -> list[str]:
    first = 1 + batch * MAX_BATCH
    return serial_range(f"WM-{first:07d}", f"WM-{first + MAX_BATCH - 1:07d}")


def run(options: dict[str, Any]) -> dict[str, Any]:
    batches = max(1, options["batches"])
    on = datetime.date(2026, 1, 15)
    with scratch_database(keep=options["keep"]):
        with transaction.atomic():
            operator = bench_operator()
        model = meter_model_create(
            operator=operator, acting_user=None, code="WM15", brand="Itron", name="Aquadis+", utility="water"
        )
        central = store_create(operator=operator, acting_user=None, code="CEN", name="Central", kind="central")
        branch = store_create(operator=operator, acting_user=None, code="BR1", name="Branch", kind="branch")
        seconds = []
        for batch in range(batches):
            serials = _range(batch)
            started = time.perf_counter()
            meters_receive(
                operator=operator,
                store=central,
                meter_model=model,
                serials=serials,
                received_on=on,
                supplier="Bench",
                acting_user=None,
            )
            seconds.append(time.perf_counter() - started)
        started = time.perf_counter()
        try:
            meters_receive(
                operator=operator,
                store=central,
                meter_model=model,
                serials=_range(0),
                received_on=on,
                supplier="Bench",
                acting_user=None,
            )
            refused = False
        except Conflict as error:
            refused = error.code == "serials_taken"
        clash_seconds = time.perf_counter() - started
        started = time.perf_counter()
        moved = meters_move(
            operator=operator,
            kind="transfer",
            from_store=central,
            to_store=branch,
            serials=_range(0),
            moved_on=on,
            acting_user=None,
        ).movement
        transfer_seconds = time.perf_counter() - started
        return {
            "bench": "meters-receive",
            "database": database_vendor(),
            "batches": batches,
            "meters": Meter.objects.filter(operator=operator).count(),
            "receive_seconds_per_batch": [round(value, 2) for value in seconds],
            "meters_per_second": round(batches * MAX_BATCH / sum(seconds), 1),
            "clash_check_seconds": round(clash_seconds, 2),
            "clashing_batch_refused": refused,
            "transfer_seconds": round(transfer_seconds, 2),
            "transferred": moved.lines.count(),
        }


register_bench(
    Benchmark(
        name="meters-receive",
        help="Receiving meters in batches of 10,000: seconds per batch, the duplicate check, a transfer of 10,000.",
        add_arguments=add_arguments,
        run=run,
    )
)
