"""The API benchmark's command on a short run: every figure is printed, nothing fails, the log seals.

Run: `pytest tests/bench/test_api_bench.py -m bench`. Asserts the report's shape and the run's own
checks (no error answers, the audit log verifies with nothing left unsealed), not the figures, which
depend on the machine and its load.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Benchmarks run for minutes: the suite's per-test guard would cut them short.
pytestmark = [pytest.mark.bench, pytest.mark.timeout(3600)]

REPO_ROOT = Path(__file__).resolve().parents[2]
GUARD_S = 600  # a migration, a seed and api start-ups on a busy 2-core machine


def test_a_short_api_run_reports_every_endpoint_against_its_baselines() -> None:
    command = [
        sys.executable, "-m", "bench.api", "--concurrency", "1", "4", "--instances", "1", "2",
        "--seconds", "1", "--warmup", "0.5", "--bookings", "200",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=GUARD_S, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    for endpoint in ("bare FastAPI", "healthz", "auth/me", "patient read", "FHIR Patient read",
                     "FHIR Observation search", "booking"):  # fmt: skip
        rows = [line for line in lines if line.startswith(endpoint + " ")]
        assert len(rows) == 4, (endpoint, done.stdout)  # two concurrencies, one and two instances
        assert not any(" x " in row for row in rows), rows  # no error answers
    report = json.loads(done.stdout[done.stdout.index("{", done.stdout.index("audit log after the run")) :])
    assert report["ok"] is True and report["checked"] > 0
