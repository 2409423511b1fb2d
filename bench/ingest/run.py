"""Driving the pipeline: a scratch database, `ownat ingest` workers, a paced publisher, the measurements."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from bench.ingest.load import MonitorLoad
from core.bus import BusMessage, DeviceReadings, create_bus, decode_payload, vitals_device
from core.db import create_engine
from devices.ingest import BufferedClient
from devices.registry import Device, DeviceKind, DeviceStatus
from ownat import migrate

# Seconds the publisher waits at the end for the broker to acknowledge what it still has queued.
ACKNOWLEDGEMENT_GUARD_S = 60.0


@dataclass(frozen=True, slots=True)
class Options:
    postgres_url: str
    mqtt_url: str
    redis_url: str
    devices: int = 500
    samples: int = 16
    period_s: float = 1.0
    rate: int = 60_000  # values per second offered; the pipeline's own pace decides what is sustained
    workers: int = 2
    batch_size: int = 5000  # readings per worker batch (`ownat ingest --batch-size`)
    warmup_s: float = 5.0
    measure_s: float = 30.0
    latency_sample_every: int = 10  # one device in this many is watched on the bus
    # Unacknowledged messages allowed per worker: well inside the receive maximum (2000), and small
    # enough that latency is measured near the sustained rate, not behind a queue of seconds.
    max_backlog_messages: int = 150
    profile_dir: str | None = None  # run the workers under cProfile, writing worker-N.prof here


@dataclass(slots=True)
class Measured:
    published_readings: int = 0
    published_messages: int = 0
    window_stored: int = 0
    window_s: float = 0.0
    latencies_s: list[float] = field(default_factory=list)  # publish -> live on the bus, sampled
    commit_p50_s: float = float("nan")  # publish -> commit, every message of the window
    commit_p99_s: float = float("nan")
    stored_total: int = 0
    paused_s: float = 0.0
    publisher_cpu_s: float = 0.0


@asynccontextmanager
async def scratch_database(admin_url: str) -> AsyncIterator[str]:
    """A migrated database of the run's own, dropped afterwards."""
    url = make_url(admin_url)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"ownat_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    database_url = url.set(database=name).render_as_string(hide_password=False)
    try:
        await migrate.upgrade_async(database_url)
        yield database_url
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def register(database_url: str, device_ids: list[str]) -> None:
    engine = create_engine(database_url)
    rows = [
        {"id": uuid.uuid4(), "device_id": d, "kind": DeviceKind.BEDSIDE_MONITOR, "manufacturer": "Bench",
         "model": "B1", "serial": d, "status": DeviceStatus.ACTIVE}
        for d in device_ids
    ]  # fmt: skip
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(Device), rows)
    finally:
        await engine.dispose()


@dataclass(frozen=True, slots=True)
class Workers:
    ports: list[int]
    pids: list[int]

    def cpu_seconds(self) -> float:
        """User plus system CPU time the worker processes have used so far (Linux /proc)."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in self.pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        return total


@asynccontextmanager
async def workers(options: Options, database_url: str, prefix: str, log_dir: Path) -> AsyncIterator[Workers]:
    """`ownat ingest` processes on one shared subscription."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OWNAT_")}
    env.update(
        OWNAT_DATABASE_URL=database_url, OWNAT_MQTT_URL=options.mqtt_url, OWNAT_REDIS_URL=options.redis_url,
        OWNAT_REDIS_KEY_PREFIX=prefix, OWNAT_LOG_JSON="false", OWNAT_LOG_LEVEL="WARNING",
    )  # fmt: skip
    group = f"bench-{secrets.token_hex(3)}"
    ports: list[int] = []
    processes: list[asyncio.subprocess.Process] = []
    for index in range(options.workers):
        port = 19400 + secrets.randbelow(500) * 2 + index
        profiler = (
            ["-m", "cProfile", "-o", f"{options.profile_dir}/worker-{index}.prof"]
            if options.profile_dir
            else []
        )
        command = [
            sys.executable, *profiler, "-m", "ownat.cli", "ingest", "--group", group, "--client-id", f"{group}-{index}",
            "--metrics-port", str(port), "--batch-size", str(options.batch_size),
        ]  # fmt: skip
        with (log_dir / f"worker-{index}.log").open("wb") as log:
            processes.append(
                await asyncio.create_subprocess_exec(*command, env=env, stdout=log, stderr=subprocess.STDOUT)
            )
        ports.append(port)
    try:
        yield Workers(ports, [p.pid for p in processes])
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()


_http: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}


def _http_client() -> httpx.AsyncClient:
    # One client for the run's hundreds of polls: building one (an SSL context among other things)
    # costs milliseconds of the very CPU being measured.
    loop = asyncio.get_running_loop()
    if loop not in _http:
        _http[loop] = httpx.AsyncClient(timeout=2)
    return _http[loop]


async def _metrics_text(ports: list[int]) -> list[str] | None:
    texts = []
    http = _http_client()
    for port in ports:
        try:
            texts.append((await http.get(f"http://127.0.0.1:{port}/metrics")).text)
        except httpx.TransportError:
            return None
    return texts


async def stored(ports: list[int]) -> int | None:
    """Readings stored so far, summed over the workers' metrics (None while one does not answer)."""
    texts = await _metrics_text(ports)
    if texts is None:
        return None
    total = 0
    for text in texts:
        for line in text.splitlines():
            if line.startswith("ownat_ingest_readings_stored_total "):
                total += int(float(line.split()[1]))
    return total


async def delay_buckets(ports: list[int]) -> dict[float, float]:
    """The workers' reading-delay histogram (upper bound -> cumulative count), summed."""
    buckets: dict[float, float] = {}
    for text in await _metrics_text(ports) or []:
        for line in text.splitlines():
            if line.startswith('ownat_ingest_reading_delay_seconds_bucket{le="'):
                bound = float(line.split('"')[1])
                buckets[bound] = buckets.get(bound, 0.0) + float(line.split()[-1])
    return buckets


def quantile(q: float, before: dict[float, float], after: dict[float, float]) -> float:
    """The q-quantile of the observations between two histogram snapshots, interpolated in its bucket."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    total = counts[-1] if counts else 0.0
    if total <= 0:
        return float("nan")
    rank, lower, below = q * total, 0.0, 0.0
    for bound, cumulative in zip(bounds, counts, strict=True):
        if cumulative >= rank:
            if bound == float("inf"):
                return lower
            return lower + (bound - lower) * (rank - below) / max(cumulative - below, 1e-9)
        lower, below = bound, cumulative
    return lower


class Publisher:
    """One MQTT 5 client publishing at QoS 1, driven by the event loop itself.

    paho's own thread would add a wake-up and a GIL hand-over per message; here paho's documented
    external-loop hooks put its socket on the asyncio loop, and `BufferedClient` reads the PUBACKs
    in chunks. The messages and their QoS are what devices send; only the sender is cheaper.
    """

    def __init__(self, mqtt_url: str) -> None:
        parts = urlsplit(mqtt_url)
        self._client = BufferedClient(
            CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{secrets.token_hex(3)}", protocol=mqtt.MQTTv5
        )
        self._client.max_inflight_messages_set(1000)
        self._client.max_queued_messages_set(0)
        self._address = (parts.hostname or "127.0.0.1", parts.port or 1883)
        self._loop = asyncio.get_running_loop()
        self._misc: asyncio.Task[None] | None = None
        # Published but not yet acknowledged by the broker (queued in paho or in flight).
        self.unacknowledged = 0
        self._all_acknowledged = asyncio.Event()
        client, loop = self._client, self._loop
        client.on_publish = self._acknowledged
        client.on_socket_open = lambda _c, _u, sock: loop.add_reader(sock, client.loop_read)
        client.on_socket_close = lambda _c, _u, sock: loop.remove_reader(sock)
        client.on_socket_register_write = lambda _c, _u, sock: loop.add_writer(sock, client.loop_write)
        client.on_socket_unregister_write = lambda _c, _u, sock: loop.remove_writer(sock)

    async def __aenter__(self) -> Publisher:
        self._client.connect(*self._address, keepalive=30)
        self._misc = asyncio.create_task(self._housekeeping())
        return self

    async def __aexit__(self, *exc: object) -> None:
        # Disconnecting drops what paho still queues: wait for the broker to take every message, or
        # the benchmark would count as published (and then as lost) messages that were never sent.
        if self.unacknowledged:
            await asyncio.wait_for(self._all_acknowledged.wait(), ACKNOWLEDGEMENT_GUARD_S)
        if self._misc is not None:
            self._misc.cancel()
        self._client.disconnect()

    def _acknowledged(self, *_args: object) -> None:
        # paho calls this from `loop_read`, which runs on the event loop (see `__init__`).
        self.unacknowledged -= 1
        if not self.unacknowledged:
            self._all_acknowledged.set()

    async def _housekeeping(self) -> None:
        while True:
            self._client.loop_misc()  # keepalive pings and retries, as paho's thread would
            await asyncio.sleep(1.0)

    def publish(self, device_id: str, payload: bytes) -> None:
        self.unacknowledged += 1
        self._all_acknowledged.clear()
        self._client.publish(f"ownat/v1/devices/{device_id}/vitals", payload, qos=1)


class Driver:
    """Publishes at the offered rate, pausing while the backlog is full, and measures one window."""

    def __init__(self, options: Options, load: MonitorLoad, ports: list[int]) -> None:
        self.options, self.load, self.ports = options, load, ports
        self.measured = Measured()
        every = options.latency_sample_every
        self.watched = {d for i, d in enumerate(load.device_ids) if i % every == 0}
        # (device, newest reading time) of watched messages -> wall time of publishing.
        self._newest: dict[tuple[str, datetime], float] = {}
        readings_per_message = load.samples * 3  # the simulator's pool averages ~3 readings per sample
        self._messages_per_s = options.rate / readings_per_message
        # Within the receive maximum of every worker: the broker never has to queue, let alone drop.
        self._backlog_limit = options.max_backlog_messages * options.workers * readings_per_message
        self._stored = 0

    async def run(self, prefix: str) -> Measured:
        bus = create_bus(redis_url=self.options.redis_url, key_prefix=prefix)
        try:
            async with bus.subscribe(channels=[vitals_device(d) for d in self.watched]) as live:
                listener = asyncio.create_task(self._listen(live))
                async with Publisher(self.options.mqtt_url) as publisher:
                    await self._publish(publisher)
                listener.cancel()
        finally:
            await bus.close()
        return self.measured

    async def _publish(self, publisher: Publisher) -> None:
        loop, options, measured = asyncio.get_running_loop(), self.options, self.measured
        started = loop.time()
        window_start, window_end = started + options.warmup_s, started + options.warmup_s + options.measure_s
        stored_at_start: int | None = None
        delays_at_start: dict[float, float] = {}
        sent, last_poll = 0, 0.0
        while (now := loop.time()) < window_end:
            if now - last_poll >= 0.1:
                self._stored = await stored(self.ports) or self._stored
                last_poll = now
                if stored_at_start is None and now >= window_start:
                    stored_at_start = self._stored
                    delays_at_start = await delay_buckets(self.ports)
            if measured.published_readings - self._stored > self._backlog_limit:
                measured.paused_s += 0.005
                await asyncio.sleep(0.005)  # pacing: wait for the pipeline to catch up
                continue
            due = min(500, int((now - started) * self._messages_per_s) - sent)
            wall = datetime.now(UTC)
            for _ in range(max(0, due)):
                device_id = self.load.device_ids[sent % len(self.load.device_ids)]
                payload, count = self.load.message(device_id, wall)
                publisher.publish(device_id, payload)
                if device_id in self.watched and now >= window_start:
                    self._newest[device_id, wall] = time.time()
                sent += 1
                measured.published_readings += count
                measured.published_messages += 1
            await asyncio.sleep(0.002)  # pacing: the next messages fall due
        measured.window_stored = (await stored(self.ports) or self._stored) - (stored_at_start or 0)
        measured.window_s = options.measure_s
        delays = await delay_buckets(self.ports)
        measured.commit_p50_s = quantile(0.5, delays_at_start, delays)
        measured.commit_p99_s = quantile(0.99, delays_at_start, delays)

    async def _listen(self, live: AsyncIterator[BusMessage]) -> None:
        async for message in live:
            received = time.time()
            device = decode_payload(DeviceReadings, message.payload)
            for reading in device.readings:
                published = self._newest.pop((device.device_id, datetime.fromisoformat(reading.time)), None)
                if published is not None:
                    self.measured.latencies_s.append(received - published)


async def drain(ports: list[int], published: int, *, guard_s: float = 60.0) -> int:
    """Waits until the workers have stored every published reading (or the guard ends); returns stored."""
    deadline = time.monotonic() + guard_s
    total = 0
    while time.monotonic() < deadline:
        total = await stored(ports) or total
        if total >= published:
            return total
        await asyncio.sleep(0.2)
    return total


async def subscribed(ports: list[int], *, guard_s: float = 60.0) -> None:
    """Waits until every worker reports its subscription granted (ownat_ingest_mqtt_connected 1)."""
    deadline = time.monotonic() + guard_s
    async with httpx.AsyncClient(timeout=2) as http:
        for port in ports:
            while True:
                try:
                    text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
                    if "ownat_ingest_mqtt_connected 1.0" in text:
                        break
                except httpx.TransportError:
                    pass  # not serving yet
                if time.monotonic() > deadline:
                    raise RuntimeError(f"worker on metrics port {port} did not subscribe")
                await asyncio.sleep(0.2)  # across processes there is no event to await
