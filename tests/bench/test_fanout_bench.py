"""The fan-out benchmark's command, run on a tiny hospital: every phase completes and nothing is lost.

Run: `pytest tests/bench/test_fanout_bench.py -m bench`. Asserts the run's own checks (every client got
every reading of its ward, every scripted alarm reached every watching client) and that the report
has its figures; not the figures themselves, which depend on the machine and its load.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

# Benchmarks run for minutes: the suite's per-test guard would cut them short.
pytestmark = [pytest.mark.bench, pytest.mark.timeout(3600)]

REPO_ROOT = Path(__file__).resolve().parents[2]
# Two api/worker/client start-ups on a busy 2-core machine, plus 7 s of load per phase.
GUARD_S = 600


def test_a_tiny_fanout_run_delivers_every_reading_and_alarm_to_every_dashboard() -> None:
    command = [
        sys.executable, "-m", "bench.fanout", "--devices", "30", "--clients", "6", "--beds-per-ward", "10",
        "--alarms", "2", "--warmup", "2", "--seconds", "8", "--client-processes", "1",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=GUARD_S)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "6 of 6 clients got every reading of their ward; missing 0, extra 0" in out, out
    assert re.search(r"readings -> dashboard: p50 \d+ ms, p99 \d+ ms, max \d+ ms", out), out
    # Two crossings, each in a ward of two watching clients (6 clients round robin over 3 wards).
    assert "(4 of 4 deliveries of 2 scripted crossings)" in out, out
    assert re.search(
        r"baseline .*\n  readings: +p50 \d+ ms, p99 \d+ ms.*6 of 6 clients complete, missing 0", out
    ), out
