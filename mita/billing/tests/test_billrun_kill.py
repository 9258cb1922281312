"""The kill test: a real `mita billrun` process killed (SIGKILL) part-way through the preview, then part-way through
issuing, and started again, ends with exactly the bills of an uninterrupted run of the same world, numbered without a
gap."""

import os
import subprocess
import sys
import time

import pytest
from django.db import connection

from mita.billing.models import Bill, BillRun, BillRunUnit
from mita.billing.run import run_until_done
from mita.billing.services import billrun_approve, billrun_create
from mita.billing.tests.world_billing import OCTOBER, billing_world
from mita.testing.factories import OperatorFactory

UNIT_SIZE = "2"


def _environment() -> dict[str, str]:
    environment = {**os.environ}
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = settings["USER"] + (f":{settings['PASSWORD']}" if settings.get("PASSWORD") else "")
        environment["DATABASE_URL"] = (
            f"postgres://{auth}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"
        )
    else:
        environment["DATABASE_URL"] = f"sqlite:///{settings['NAME']}"
    return environment


def _command(operator, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "mita.cli",
        "billrun",
        "--operator",
        operator.prefix,
        "--cycle",
        OCTOBER,
        "--unit-size",
        UNIT_SIZE,
        *extra,
    ]


def _kill_when(process: subprocess.Popen, operator, stage: str, *, at_least: int = 1, timeout: float = 120) -> int:
    """SIGKILL the process once at least `at_least` units are past `stage` (and not all); the count then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        units = BillRunUnit.objects.filter(run__operator=operator)
        done = units.filter(stage=stage).count()
        if done >= at_least:
            process.kill()
            process.wait(timeout=30)
            return done
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        time.sleep(0.1)
    process.kill()
    raise AssertionError(f"no unit reached {stage} in time")


def _bills(operator) -> list[tuple[str, str, object]]:
    return sorted(
        (bill.account.removeprefix(operator.prefix), bill.number.removeprefix(operator.prefix), bill.total)
        for bill in Bill.objects.filter(operator=operator)
    )


@pytest.mark.django_db(transaction=True)
def test_a_run_killed_twice_and_restarted_gives_the_bills_of_an_uninterrupted_run(district_a):
    killed, calm = OperatorFactory(prefix="KIL"), OperatorFactory(prefix="CLM")
    billing_world(killed)
    world = billing_world(calm)
    environment = _environment()
    slow = {**environment, "MITA_BILLRUN_UNIT_PAUSE": "0.7"}

    # killed while computing the preview: some units committed, the one in hand rolled back
    process = subprocess.Popen(
        _command(killed, "--quiet"), env=slow, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    computed = _kill_when(process, killed, BillRunUnit.Stage.COMPUTED)
    run = BillRun.objects.get(operator=killed)
    assert run.status == BillRun.Status.COMPUTING and 1 <= computed < run.units_total
    assert Bill.objects.filter(operator=killed).count() < 9

    # restarted with --approve and killed again while issuing: some bills numbered and posted, not all
    process = subprocess.Popen(
        _command(killed, "--approve", "--quiet"), env=slow, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    issued = _kill_when(process, killed, BillRunUnit.Stage.ISSUED)
    run.refresh_from_db()
    assert run.status == BillRun.Status.ISSUING and issued < run.units_total
    assert 0 < Bill.objects.filter(operator=killed, status=Bill.Status.ISSUED).count() < 9

    # restarted once more, it finishes
    done = subprocess.run(
        _command(killed, "--approve"), env=environment, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert '"status": "issued"' in done.stdout and "units" in done.stderr  # the summary, and the progress bar
    assert BillRun.objects.filter(operator=killed).count() == 1  # resumed, never started afresh

    # the same world run without interruption
    calm_run = billrun_create(operator=calm, cycle=world["cycle"], acting_user=None, background=False)
    calm_run = run_until_done(
        billrun_approve(run=run_until_done(calm_run, unit_size=2), acting_user=None, background=False)
    )
    assert calm_run.status == BillRun.Status.ISSUED

    assert _bills(killed) == _bills(calm) and len(_bills(killed)) == 9
    numbers = sorted(
        int(number.rsplit("-", 1)[1])
        for number in Bill.objects.filter(operator=killed).values_list("number", flat=True)
    )
    assert numbers == list(range(1, 10))
