"""Real processes for the fault tests: `ownat ingest` workers and `ownat edge`, with their metrics."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.devices.ingest_helpers import GUARD_S


def ownat_env(database_url: str, mqtt_url: str, redis_url: str, redis_prefix: str) -> dict[str, str]:
    """The environment of an `ownat` process on this run's services, nothing inherited from ours."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OWNAT_")}
    env.update(
        OWNAT_DATABASE_URL=database_url,
        OWNAT_MQTT_URL=mqtt_url,
        OWNAT_REDIS_URL=redis_url,
        OWNAT_REDIS_KEY_PREFIX=redis_prefix,
        OWNAT_LOG_JSON="false",
        OWNAT_ENVIRONMENT="test",
    )
    return env


@contextmanager
def ownat_process(
    command: list[str], env: dict[str, str], log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """`ownat <command>` running until the block ends; then SIGTERM (a clean stop), SIGKILL if it lingers."""
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ownat.cli", *command], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=GUARD_S)
            except subprocess.TimeoutExpired:
                process.kill()
        process.wait()


def ingest_command(
    *, client_id: str, group: str, metrics_port: int, extra: list[str] | None = None
) -> list[str]:
    return [
        "ingest", "--client-id", client_id, "--group", group, "--metrics-port", str(metrics_port),
        "--no-alarms", *(extra or []),
    ]  # fmt: skip


async def metric(port: int, name: str) -> float:
    """A metric's value from a worker's Prometheus endpoint (0 until it answers)."""
    try:
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://127.0.0.1:{port}/metrics", timeout=2)).text
    except httpx.TransportError:
        return 0.0
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


async def subscribed(port: int) -> bool:
    """Whether the worker behind metrics port `port` holds its subscription."""
    return await metric(port, "ownat_ingest_mqtt_connected") == 1


async def log_text(path: Path) -> str:
    return await asyncio.to_thread(path.read_text)
