"""`python -m bench.ingest.sessions`: what a dead ingest worker costs, per kind of broker session.

On the machine's Mosquitto build, for each session setting of `ownat ingest` (clean, and persistent
with a short expiry): a private Mosquitto (persistence on, production queue limits), a scratch
database, two workers on one shared subscription, and a plain publisher (no edge gateway, so the
broker's own behaviour shows) sending 100 messages a second from 50 devices. Five seconds in, one
worker is killed with SIGKILL and never restarted. The curve printed is the share of the readings
published since the kill that are stored, 1 to 30 s after it; then how many never were. The edge
gateway re-sends what was not acknowledged end to end, so with it nothing stays lost: the figures
show what it has to make up for, and how long a dead worker holds its share.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy.engine import make_url

from bench.broker import MOSQUITTO, free_port, start_broker
from bench.ingest.run import register, scratch_database
from devices.protocol import topic_for

DEVICES = 50
RATE_PER_S = 100
KILL_AFTER_S = 5.0
CURVE_S = (1, 2, 3, 5, 10, 15, 20, 25)


async def _subscribed(metrics_port: int) -> bool:
    try:
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=2)).text
    except httpx.TransportError:
        return False
    return "ownat_ingest_mqtt_connected 1.0" in text


def _worker(
    index: int, port: int, metrics_port: int, expiry_s: int, database_url: str, log: Path
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OWNAT_")}
    env.update(
        OWNAT_DATABASE_URL=database_url, OWNAT_MQTT_URL=f"mqtt://127.0.0.1:{port}", OWNAT_LOG_JSON="false"
    )
    command = [
        sys.executable, "-m", "ownat.cli", "ingest", "--group", "sessions", "--client-id", f"sessions-{index}",
        "--session-expiry", str(expiry_s), "--no-alarms", "--metrics-port", str(metrics_port),
    ]  # fmt: skip
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def _payload(seq: int, at: datetime) -> bytes:
    stamp = at.isoformat().replace("+00:00", "Z")
    readings = [{"metric": "hr", "value": 70, "unit": "/min", "time": stamp}]
    return json.dumps({"v": 1, "seq": seq, "readings": readings}).encode()


async def _count_since(dsn: str, since: datetime, *, before: bool = False) -> int:
    """Readings stored with a time from `since` on (or before it)."""
    query = f"SELECT count(*) FROM vital_readings WHERE time {'<' if before else '>='} %s"
    async with await psycopg.AsyncConnection.connect(dsn) as connection:
        cursor = await connection.execute(query, (since,))
        row = await cursor.fetchone()
        return int(row[0]) if row else 0


async def _scenario(admin_url: str, expiry_s: int, seconds: float) -> dict[str, object]:
    devices = [f"sess-{i:03d}" for i in range(DEVICES)]
    directory = Path(tempfile.mkdtemp(prefix="ownat-sessions-"))
    port, metrics_ports = free_port(), [free_port(), free_port()]
    broker = start_broker(directory, port, persistence=True)
    async with scratch_database(admin_url) as database_url:
        await register(database_url, devices)
        dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        workers = [
            _worker(i, port, metrics_ports[i], expiry_s, database_url, directory / "workers.log")
            for i in range(2)
        ]
        client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        try:
            async with asyncio.timeout(120):
                for metrics_port in metrics_ports:
                    # Polling: a process's metrics endpoint offers no event.
                    while not await _subscribed(metrics_port):  # noqa: ASYNC110
                        await asyncio.sleep(0.2)
            client.connect("127.0.0.1", port)
            client.loop_start()
            published_before_kill = published_after_kill = 0
            kill_at: datetime | None = None
            curve: dict[int, float] = {}
            started = time.monotonic()
            seq = 0
            while time.monotonic() - started < KILL_AFTER_S + seconds:
                now = datetime.now(UTC)
                per_tick = RATE_PER_S // 10
                for device in (devices[(seq * per_tick + i) % DEVICES] for i in range(per_tick)):
                    client.publish(topic_for(device, "vitals"), _payload(seq, now), qos=1)
                    if kill_at is None:
                        published_before_kill += 1
                    else:
                        published_after_kill += 1
                seq += 1
                elapsed = time.monotonic() - started
                if kill_at is None and elapsed >= KILL_AFTER_S:
                    workers[1].send_signal(signal.SIGKILL)
                    kill_at = datetime.now(UTC)
                if kill_at is not None:
                    since_kill = elapsed - KILL_AFTER_S
                    for mark in CURVE_S:
                        if mark not in curve and since_kill >= mark:
                            stored = await _count_since(dsn, kill_at)
                            curve[mark] = stored / max(1, published_after_kill)
                await asyncio.sleep(0.1)
            await asyncio.sleep(5)  # the last commits
            assert kill_at is not None
            lost = published_after_kill - await _count_since(dsn, kill_at)
            held = published_before_kill - await _count_since(dsn, kill_at, before=True)
        finally:
            client.disconnect()
            client.loop_stop()
            for worker in workers:
                if worker.poll() is None:
                    worker.terminate()
                    worker.wait()
            broker.terminate()
            broker.wait()
            shutil.rmtree(directory, ignore_errors=True)
    return {"curve": curve, "published_after_kill": published_after_kill, "lost": lost, "held": held}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest.sessions", description=__doc__)
    parser.add_argument("--expiry", type=int, default=15, help="the persistent session's expiry, seconds")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured after the kill")
    args = parser.parse_args()
    admin_url = os.environ.get(
        "OWNAT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    version = subprocess.run([MOSQUITTO, "-h"], capture_output=True, text=True).stdout.splitlines()[0]
    print(
        f"{version}; {DEVICES} devices, {RATE_PER_S} messages/s, 2 workers, one killed after {KILL_AFTER_S:g} s"
    )
    for label, expiry in (
        ("clean session (expiry 0)", 0),
        (f"persistent session, expiry {args.expiry} s", args.expiry),
    ):
        result = asyncio.run(_scenario(admin_url, expiry, args.seconds))
        curve = ", ".join(f"{mark} s: {share:.0%}" for mark, share in sorted(result["curve"].items()))  # type: ignore[attr-defined]
        print(
            f"\n{label}\n  stored of what was published since the kill: {curve}\n"
            f"  never stored (without an edge to re-send): {result['lost']} of {result['published_after_kill']}, "
            f"and {result['held']} published before the kill (what the dead worker held)"
        )
    print(
        f"\nmachine load: {Path('/proc/loadavg').read_text().split()[0]} (1-minute average, {os.cpu_count()} CPUs)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
