"""`mita bench <name>` prints, with any benchmark's figures, what the machine was like while it ran."""

import io
import json

from django.core.management import call_command

from mita.core import bench
from mita.core.bench import Benchmark


def test_every_benchmark_line_says_what_the_machine_was_like(monkeypatch):
    ran = []
    tiny = Benchmark(
        name="tiny",
        help="a benchmark of nothing",
        add_arguments=lambda parser: parser.add_argument("--times", type=int, default=1),
        run=lambda options: ran.append(options["times"]) or {"bench": "tiny", "times": options["times"]},
    )
    monkeypatch.setitem(bench.BENCHMARKS, "tiny", tiny)
    out = io.StringIO()
    call_command("bench", "tiny", "--times", "3", stdout=out)
    figures = json.loads(out.getvalue())
    assert ran == [3] and figures["bench"] == "tiny" and figures["times"] == 3
    machine = figures["machine"]
    assert machine["cpus"] >= 1
    before, after = machine["python_ms_before_after"]
    assert before > 0 and after > 0
    assert machine["steal_percent"] is None or 0 <= machine["steal_percent"] <= 100


def test_a_benchmark_run_elsewhere_keeps_the_machine_figures_it_brought(monkeypatch):
    """--database naming another engine runs the benchmark in a child process, whose line already has them."""
    theirs = {"cpus": 64, "python_ms_before_after": [1.0, 2.0], "steal_percent": 0.0, "load_average": None}
    tiny = Benchmark(
        name="tiny", help="", add_arguments=lambda parser: None, run=lambda options: {"machine": dict(theirs)}
    )
    monkeypatch.setitem(bench.BENCHMARKS, "tiny", tiny)
    out = io.StringIO()
    call_command("bench", "tiny", stdout=out)
    assert json.loads(out.getvalue())["machine"] == theirs


def test_steal_is_the_share_of_the_cpu_time_the_host_took(monkeypatch):
    samples = iter([[100, 0, 50, 800, 0, 0, 0, 50], [200, 0, 100, 1500, 0, 0, 0, 200]])
    monkeypatch.setattr(bench, "_cpu_times", lambda: next(samples))
    monkeypatch.setattr(bench, "python_speed_ms", lambda: 80.0)
    figures = bench.machine_figures(bench.machine_sample())
    # 1000 jiffies passed, 150 of them stolen
    assert figures["steal_percent"] == 15.0 and figures["python_ms_before_after"] == [80.0, 80.0]
