"""`mita billrun` in process (scopes, approve, publish, what it refuses) and `mita bench billrun` on a tiny world."""

import io
import json
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from mita.billing.models import Bill, BillRun
from mita.billing.tests.world_billing import billing_world

pytestmark = pytest.mark.django_db


def _billrun(*args: str) -> tuple[dict, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("billrun", *args, stdout=out, stderr=err)
    return json.loads(out.getvalue()), err.getvalue()


def test_a_route_is_billed_issued_and_published_from_the_command_line(operator_a):
    billing_world(operator_a, with_exceptions=False)
    summary, _err = _billrun("--operator", "aal", "--cycle", "2026-10", "--scope", "route:r1", "--publish", "--quiet")
    assert summary["status"] == "published" and summary["scope"] == "route:R1" and summary["bills"] == 3
    assert {bill.account for bill in Bill.objects.filter(published_at__isnull=False)} == {
        "AAL-R1-01",
        "AAL-R1-02",
        "AAL-R1-03",
    }
    # the rest of the operator, with a progress bar on stderr
    summary, err = _billrun("--operator", "AAL", "--cycle", "2026-10")
    assert summary["status"] == "preview" and summary["bills"] == 6 and "units" in err
    assert BillRun.objects.count() == 2


def test_the_command_line_says_what_is_wrong(operator_a):
    billing_world(operator_a, with_exceptions=False)
    with pytest.raises(CommandError, match="No operator"):
        _billrun("--operator", "ZZZ", "--cycle", "2026-10")
    with pytest.raises(CommandError, match="No cycle 2031-01"):
        _billrun("--operator", "AAL", "--cycle", "2031-01")
    with pytest.raises(CommandError, match="No route nope of AAL"):
        _billrun("--operator", "AAL", "--cycle", "2026-10", "--scope", "route:nope")
    operator_a.licences.update(status="expired", expires_on="2025-01-01")
    with pytest.raises(CommandError, match="may not bill"):
        _billrun("--operator", "AAL", "--cycle", "2026-10")


def test_the_benchmark_runs_on_a_tiny_population_and_prints_json(tmp_path):
    environment = {**os.environ, "MITA_VAR_DIR": str(tmp_path)}
    if connection.vendor == "postgresql":  # its scratch database is named after this test database: <name>_bench
        settings = connection.settings_dict
        environment["DATABASE_URL"] = (
            f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/"
            f"{settings['NAME']}"
        )
    else:
        environment.pop("DATABASE_URL", None)
    command = [sys.executable, "-m", "mita.cli", "bench", "billrun", "--accounts", "40", "--unit-size", "15"]
    done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["bench"] == "billrun" and figures["accounts"] == 40 and figures["units"] == 3
    assert figures["bills"] == figures["bills_issued"] == 40 and figures["status"] == "issued"
    assert figures["rows_written"] > 40 * 4 and figures["accounts_per_second"] > 0


def test_the_benchmark_runs_on_the_other_kind_of_database_named_by_database(tmp_path):
    """--database naming another engine than the configured one runs the benchmark there (a child process): it used
    to keep the configured engine and say so only in its `database` figure."""
    environment = {**os.environ, "MITA_VAR_DIR": str(tmp_path)}
    if connection.vendor == "postgresql":
        environment["DATABASE_URL"] = (
            f"postgres://{connection.settings_dict['USER']}@{connection.settings_dict['HOST'] or '127.0.0.1'}:"
            f"{connection.settings_dict['PORT'] or 5432}/{connection.settings_dict['NAME']}"
        )
        other, expected = f"sqlite:///{tmp_path / 'other.sqlite3'}", "sqlite"
    else:  # the suite's PostgreSQL (CI runs it on both): a scratch database named after this test's process
        environment.pop("DATABASE_URL", None)
        other, expected = f"postgres://postgres@127.0.0.1:5432/mita_other_{os.getpid()}", "postgresql"
    command = [sys.executable, "-m", "mita.cli", "bench", "billrun", "--accounts", "12", "--database", other]
    done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["database"] == expected
    assert figures["bills"] == figures["bills_issued"] == 12
