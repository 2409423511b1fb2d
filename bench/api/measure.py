"""One measurement: an endpoint at a concurrency, driven by load processes, with CPU and load figures."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.api.requests import Endpoint
from bench.fanout.run import cpu_seconds


def current_load_average() -> str:
    """The 1, 5 and 15 minute load averages, as /proc/loadavg states them."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


CONNECT_S = 1.5  # for the load processes to start and open their connections


@dataclass(frozen=True, slots=True)
class Measurement:
    endpoint: str
    connections: int
    requests: int
    per_second: float
    p50_ms: float
    p99_ms: float
    errors: dict[int, int]
    server_cpu: float  # cores' worth of CPU used by the servers under test
    generator_cpu: float  # the busiest load process's share of a core
    load_average: str
    exhausted: bool  # a once-each endpoint ran out of requests before the end


async def measure(
    endpoint: Endpoint, requests: list[str], *, ports: list[int], connections: int, seconds: float,
    warmup_s: float, server_pids: list[int],
) -> Measurement:  # fmt: skip
    """Runs `connections` closed-loop connections for `warmup_s` + `seconds`; measures the last `seconds`."""
    processes = min(2, connections)
    start_at = time.time() + CONNECT_S
    measure_from, stop_at = start_at + warmup_s, start_at + warmup_s + seconds
    load_average = current_load_average()
    shares = [connections // processes + (1 if p < connections % processes else 0) for p in range(processes)]
    jobs, first = [], 0
    for share in shares:
        jobs.append({
            "requests": requests, "ports": ports, "connections": share, "first_connection": first,
            "first_request": first, "request_step": connections, "cycle": not endpoint.once_each,
            "start_at": start_at, "measure_from": measure_from, "stop_at": stop_at,
        })  # fmt: skip
        first += share
    cpu_before = sum(cpu_seconds(pid) for pid in server_pids)
    results = await asyncio.gather(*(_load_process(job) for job in jobs))
    server_cpu = (sum(cpu_seconds(pid) for pid in server_pids) - cpu_before) / (stop_at - start_at)
    latencies = sorted(ms for result in results for ms in result["latencies_ms"])
    statuses: dict[int, int] = {}
    for result in results:
        for status, count in result["statuses"].items():
            statuses[int(status)] = statuses.get(int(status), 0) + count
    quantiles = (
        statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else [0.0] * 99
    )
    return Measurement(
        endpoint=endpoint.name,
        connections=connections,
        requests=len(latencies),
        per_second=len(latencies) / seconds,
        p50_ms=quantiles[49],
        p99_ms=quantiles[98],
        errors={s: n for s, n in statuses.items() if not 200 <= s < 300},
        server_cpu=server_cpu,
        generator_cpu=max(result["cpu_s"] for result in results) / (stop_at - start_at),
        load_average=load_average,
        exhausted=any(result["ran_out"] for result in results),
    )


async def _load_process(job: dict) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-api-load-") as scratch:
        results = Path(scratch) / "results.json"
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.api.load", stdin=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.getcwd()},
        )  # fmt: skip
        await process.communicate(json.dumps({**job, "results_path": str(results)}).encode())
        if process.returncode != 0:
            raise RuntimeError(f"a load process failed ({process.returncode})")
        return json.loads(results.read_text())
