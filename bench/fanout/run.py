"""The processes of a run: `ownat ingest` and `ownat api`, the baseline server, the client processes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import sys
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx

from bench.ingest.run import subscribed

START_GUARD_S = 180.0  # an api process imports the whole application: slow on a busy machine
TOKEN_TTL_S = 3600  # an hour: no access token expires during a run


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@asynccontextmanager
async def child(
    command: list[str], env: dict[str, str] | None, log: Path, *, pipes: bool = False
) -> AsyncIterator[asyncio.subprocess.Process]:
    """A child process, terminated (or killed) at the end; with pipes, its stdin and stdout are ours."""
    with log.open("ab") as sink:
        process = await asyncio.create_subprocess_exec(
            *command, env=env, stdin=asyncio.subprocess.PIPE if pipes else None,
            stdout=asyncio.subprocess.PIPE if pipes else sink, stderr=sink, limit=256 * 1024 * 1024,
        )  # fmt: skip
    try:
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


async def line(process: asyncio.subprocess.Process, what: str, guard_s: float = START_GUARD_S) -> str:
    """The child's next stdout line; fails clearly when it exits or the guard passes."""
    assert process.stdout is not None
    text = (await asyncio.wait_for(process.stdout.readline(), guard_s)).decode()
    if not text:
        raise RuntimeError(f"{what}: the process exited ({process.returncode}); see its log")
    return text


def service_env(
    *, database_url: str, redis_url: str, mqtt_url: str, prefix: str, secret: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OWNAT_")}
    env.update(
        OWNAT_DATABASE_URL=database_url, OWNAT_REDIS_URL=redis_url, OWNAT_MQTT_URL=mqtt_url,
        OWNAT_REDIS_KEY_PREFIX=prefix, OWNAT_SECRET_KEY=secret,
        OWNAT_LOG_JSON="false", OWNAT_LOG_LEVEL="WARNING", PYTHONPATH=os.getcwd(),
    )  # fmt: skip
    env["OWNAT_ACCESS_TOKEN_TTL_S"] = str(TOKEN_TTL_S)
    return env


async def serving(port: int, guard_s: float = START_GUARD_S) -> None:
    """Waits until an api instance answers /healthz."""
    deadline = time.monotonic() + guard_s
    async with httpx.AsyncClient(timeout=2) as http:
        while True:
            try:
                if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not serving yet
            if time.monotonic() > deadline:
                raise RuntimeError(f"api on port {port} did not start")
            await asyncio.sleep(0.3)  # across processes there is no event to await


@asynccontextmanager
async def otlp_sink(env: dict[str, str], log_dir: Path, ratio: float | None) -> AsyncIterator[None]:
    """With a ratio, a local OTLP sink and `env` pointing the processes at it; prints what it got."""
    if ratio is None:
        yield
        return
    port, report = 30000 + secrets.randbelow(5000), log_dir / "otlp-sink.json"
    env.update(OWNAT_OTLP_ENDPOINT=f"http://127.0.0.1:{port}", OWNAT_TRACE_SAMPLE_RATIO=str(ratio))
    command = [sys.executable, "-m", "bench.fanout.otlp_sink", str(port), str(report)]
    try:
        async with child(command, None, log_dir / "otlp-sink.log", pipes=True) as process:
            await line(process, "otlp sink")
            yield
    finally:
        del env["OWNAT_OTLP_ENDPOINT"], env["OWNAT_TRACE_SAMPLE_RATIO"]
    totals = json.loads(report.read_text()) if report.exists() else {}
    print(f"tracing at ratio {ratio:g}: {totals.get('spans', 0):,} spans exported "
          f"in {totals.get('requests', 0):,} requests, {totals.get('bytes', 0) / 1e6:.1f} MB", flush=True)  # fmt: skip


@asynccontextmanager
async def ownat(
    env: dict[str, str], log_dir: Path, *, alarm_process: bool = False
) -> AsyncIterator[tuple[str, list[int]]]:
    """One `ownat ingest` worker and one `ownat api` instance, and with `alarm_process` an
    `ownat ingest --alarms-only` beside a worker run `--no-alarms`; yields the hub's URL and the pids
    (ingest, api, then the alarms worker)."""
    api_port, metrics_port = 20000 + secrets.randbelow(5000), 25000 + secrets.randbelow(5000)
    group = f"fanout-{secrets.token_hex(3)}"
    # Traced: through the launcher that sets tracing up before the command runs.
    entry = "bench.fanout.traced" if env.get("OWNAT_OTLP_ENDPOINT") else "ownat.cli"
    ingest = [
        sys.executable, "-m", entry, "ingest", "--group", group, "--client-id", f"{group}-0",
        "--metrics-port", str(metrics_port), "--session-expiry", "60",
    ]  # fmt: skip
    api = [sys.executable, "-m", entry, "api", "--host", "127.0.0.1", "--port", str(api_port)]
    async with contextlib.AsyncExitStack() as stack:
        api_process = await stack.enter_async_context(child(api, env, log_dir / "api.log"))
        extra = ["--no-alarms"] if alarm_process else []
        worker = await stack.enter_async_context(child(ingest + extra, env, log_dir / "ingest.log"))
        pids, metrics_ports = [worker.pid, api_process.pid], [metrics_port]
        if alarm_process:
            alarms_port = metrics_port + 1
            alarms = [
                sys.executable, "-m", "ownat.cli", "ingest", "--alarms-only", "--group", group,
                "--client-id", f"{group}-alarms-0", "--metrics-port", str(alarms_port),
            ]  # fmt: skip
            evaluator = await stack.enter_async_context(child(alarms, env, log_dir / "alarms.log"))
            pids.append(evaluator.pid)
            metrics_ports.append(alarms_port)
        await serving(api_port)
        await subscribed(metrics_ports, guard_s=START_GUARD_S)
        yield f"ws://127.0.0.1:{api_port}/ws", pids


@asynccontextmanager
async def baseline(config: dict, log_dir: Path) -> AsyncIterator[tuple[str, int]]:
    """The bare broadcast server; yields its URL and pid."""
    port = 30000 + secrets.randbelow(5000)
    path = log_dir / "baseline.json"
    path.write_text(json.dumps(config))
    command = [sys.executable, "-m", "bench.fanout.baseline", str(path), str(port)]
    async with child(command, None, log_dir / "baseline.log", pipes=True) as process:
        await line(process, "baseline server")
        yield f"ws://127.0.0.1:{port}/ws", process.pid


@asynccontextmanager
async def clients(
    url: str,
    assignments: list[tuple[str, str]],
    scripted: list[str],
    processes: int,
    log_dir: Path,
    name: str,
) -> AsyncIterator[list[asyncio.subprocess.Process]]:
    """Client processes sharing the clients out; yields them once every client has its snapshot."""
    async with AsyncExitStack() as stack:
        started: list[asyncio.subprocess.Process] = []
        for index in range(processes):
            path = log_dir / f"{name}-clients-{index}.json"
            path.write_text(
                json.dumps({"url": url, "clients": assignments[index::processes], "scripted": scripted})
            )
            command = [sys.executable, "-m", "bench.fanout.clients", str(path)]
            log = log_dir / f"{name}-clients-{index}.log"
            started.append(await stack.enter_async_context(child(command, None, log, pipes=True)))
        for index, process in enumerate(started):
            await line(process, f"client process {index}", guard_s=600)
        yield started


async def tell(processes: list[asyncio.subprocess.Process], text: str) -> None:
    for process in processes:
        assert process.stdin is not None
        process.stdin.write(text.encode() + b"\n")
        await process.stdin.drain()


async def results(
    processes: list[asyncio.subprocess.Process], expected: dict[str, int], alarms: dict[str, list[str]]
) -> list[dict]:
    """Tells the clients what each ward should have received; their results once they have it (or gave up)."""
    await tell(processes, "stop " + json.dumps({"readings": expected, "alarms": alarms}))
    return [json.loads(await line(p, "client results", guard_s=120)) for p in processes]
