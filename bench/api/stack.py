"""The processes of a run: a scratch database with the demo hospital, `ownat api` instances, `ownat
worker` (which seals the audit log), the bare baseline app. Each may run the code of another checkout
(`--code /work/main`), so that "before" and "after" are measured the same way on the same machine."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis

from bench.fanout.run import child, serving

POSTGRES_ADMIN = os.environ.get(
    "OWNAT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("OWNAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
MQTT_URL = os.environ.get("OWNAT_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
TOKEN_TTL_S = 3600  # no access token expires during a run


@dataclass(frozen=True, slots=True)
class Checkout:
    """Where the code under test lives, and what it offers."""

    path: Path

    def command(self, *args: str) -> list[str]:
        # -P: the checkout (PYTHONPATH) comes first, not the current directory.
        return [sys.executable, "-P", "-m", "ownat.cli", *args]

    def supports(self, option: str) -> bool:
        """Whether `ownat api` of this checkout knows `option` (older code has no --reuse-port)."""
        return option in (self.path / "ownat" / "cli.py").read_text()


@dataclass(frozen=True, slots=True)
class Scratch:
    database_url: str
    env: dict[str, str]


def free_port() -> int:
    """A port nobody listens on now (others run benchmarks and tests on this machine too)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _admin_dsn() -> str:
    return POSTGRES_ADMIN.replace("postgresql+psycopg://", "postgresql://")


@asynccontextmanager
async def scratch(checkout: Checkout, log_dir: Path) -> AsyncIterator[Scratch]:
    """A new database, migrated and seeded with the demo hospital by the checkout's own commands."""
    name = f"ownat_bench_api_{secrets.token_hex(4)}"
    with psycopg.connect(_admin_dsn(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    database_url = POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    prefix = f"ownat-bench-api-{secrets.token_hex(4)}:"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OWNAT_")}
    env.update(
        OWNAT_ENVIRONMENT="development", OWNAT_DATABASE_URL=database_url, OWNAT_REDIS_URL=REDIS_URL,
        OWNAT_MQTT_URL=MQTT_URL, OWNAT_REDIS_KEY_PREFIX=prefix, OWNAT_SECRET_KEY=secrets.token_hex(32),
        OWNAT_AUDIT_KEY=secrets.token_hex(32), OWNAT_ACCESS_TOKEN_TTL_S=str(TOKEN_TTL_S),
        OWNAT_LOG_JSON="false", OWNAT_LOG_LEVEL="WARNING", PYTHONPATH=str(checkout.path),
    )  # fmt: skip
    try:
        with (log_dir / "setup.log").open("ab") as log:
            for step in (("migrate",), ("seed",)):
                process = await asyncio.create_subprocess_exec(
                    *checkout.command(*step), env=env, cwd=checkout.path, stdout=log, stderr=log
                )
                if await process.wait() != 0:
                    raise RuntimeError(f"`ownat {step[0]}` failed; see {log_dir / 'setup.log'}")
        yield Scratch(database_url, env)
    finally:
        with psycopg.connect(_admin_dsn(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


@dataclass(frozen=True, slots=True)
class Servers:
    ports: list[int]  # one port when the instances share it
    pids: list[int]


@asynccontextmanager
async def api_instances(
    checkout: Checkout, scratch_env: dict[str, str], count: int, log_dir: Path
) -> AsyncIterator[Servers]:
    """`count` api instances, on one port with SO_REUSEPORT when the checkout offers it."""
    shared = count > 1 and checkout.supports("--reuse-port")
    ports = [free_port()] * count if shared else [free_port() for _ in range(count)]
    async with AsyncExitStack() as stack:
        pids = []
        for n, port in enumerate(ports):
            command = checkout.command(
                "api", "--host", "127.0.0.1", "--port", str(port), *(["--reuse-port"] if shared else [])
            )
            process = await stack.enter_async_context(
                child(command, {**scratch_env}, log_dir / f"api-{count}-{n}.log")
            )
            pids.append(process.pid)
        for port in sorted(set(ports)):
            await serving(port)
        yield Servers(sorted(set(ports)), pids)


@asynccontextmanager
async def bare_instances(count: int, log_dir: Path) -> AsyncIterator[Servers]:
    """The bare FastAPI baseline, as many processes as api instances, sharing one port."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    async with AsyncExitStack() as stack:
        pids = []
        for n in range(count):
            command = [
                sys.executable,
                "-m",
                "bench.api.bare",
                str(port),
                *(["--reuse-port"] if count > 1 else []),
            ]
            process = await stack.enter_async_context(child(command, env, log_dir / f"bare-{count}-{n}.log"))
            pids.append(process.pid)
        await _answering(port, "/ping")
        yield Servers([port], pids)


async def _answering(port: int, path: str) -> None:
    for _ in range(600):
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
            if (await reader.readline()).startswith(b"HTTP/1.1 200"):
                writer.close()
                return
            writer.close()
        except OSError:
            pass  # not listening yet
        await asyncio.sleep(0.2)  # across processes there is no event to await
    raise RuntimeError(f"the bare app on port {port} did not start")


@asynccontextmanager
async def worker(checkout: Checkout, scratch_env: dict[str, str], log_dir: Path) -> AsyncIterator[int]:
    """`ownat worker`, as production runs it beside the api (it seals the audit log where the code does)."""
    async with child(checkout.command("worker"), {**scratch_env}, log_dir / "worker.log") as process:
        yield process.pid


def audit_report(checkout: Checkout, scratch_env: dict[str, str]) -> str:
    """The checkout's own `ownat audit-verify` output, once the run is over."""
    done = subprocess.run(
        checkout.command("audit-verify"),
        env=scratch_env,
        cwd=checkout.path,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or done.stderr.strip()
