"""`python -m bench.api.load`: one load-generating process (a job as JSON on stdin, results to a file).

Plain HTTP/1.1 keep-alive over asyncio streams with requests encoded beforehand: a few tens of
microseconds of CPU per request, so the generator is not what limits the figures; each process
reports its own CPU time beside the wall time so that the run can show it. Each connection sends
its next request as soon as the previous answer is in (a closed loop): concurrency = connections.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(slots=True)
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    ran_out: bool = False  # a connection used up its share of once-each requests before the end


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Reads one response; returns its status (bodies have a Content-Length in this app)."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("the server closed the connection")
    status = int(status_line.split(b" ", 2)[1])
    length = 0
    while (header := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = header.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def _connection(
    address: tuple[str, int], requests: list[bytes], first: int, step: int, cycle: bool,
    start_at: float, measure_from: float, stop_at: float, tally: Tally,
) -> None:  # fmt: skip
    reader, writer = await asyncio.open_connection(*address)
    await asyncio.sleep(max(0.0, start_at - time.time()))
    index = first
    try:
        while (sent := time.time()) < stop_at:
            if index >= len(requests) and not cycle:
                tally.ran_out = True  # each booking is sent once: this connection has used its share
                return
            writer.write(requests[index % len(requests)])
            index += step
            status = await _read_response(reader)
            if sent >= measure_from:
                tally.latencies_ms.append((time.time() - sent) * 1000)
                tally.statuses[status] = tally.statuses.get(status, 0) + 1
    finally:
        writer.close()


async def run(job: dict) -> dict:
    """Runs the job's connections; returns latencies, statuses and this process's CPU use."""
    tally = Tally()
    requests = [r.encode("latin-1") for r in job["requests"]]
    addresses = [("127.0.0.1", port) for port in job["ports"]]
    connections = job["connections"]
    cpu_before, wall_before = resource.getrusage(resource.RUSAGE_SELF), time.time()
    await asyncio.gather(*(
        _connection(
            addresses[(job["first_connection"] + n) % len(addresses)], requests, job["first_request"] + n,
            job["request_step"], job["cycle"], job["start_at"], job["measure_from"], job["stop_at"], tally,
        )
        for n in range(connections)
    ))  # fmt: skip
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return {
        "latencies_ms": tally.latencies_ms,
        "statuses": tally.statuses,
        "ran_out": tally.ran_out,
        "cpu_s": cpu_s,
        "wall_s": time.time() - wall_before,
    }


if __name__ == "__main__":
    import uvloop  # as uvicorn uses it: the cheapest event loop available here

    job = json.load(sys.stdin)
    # To a file, not stdout: tens of thousands of latencies make a long line.
    Path(job["results_path"]).write_text(json.dumps(uvloop.run(run(job))))
