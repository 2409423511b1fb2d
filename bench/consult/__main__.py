"""`python -m bench.consult [--consultations 20] [--steps 25,50,100,200,400]`: the consultation benchmark.

Starts one api instance (`uvicorn api.app:create_app`) on a scratch database and this machine's Redis,
then measures (1) admission to connected media over `--consultations` sequential consultations of two
aiortc peers on loopback, and (2) signalling capacity: growing numbers of concurrent consultations
relaying ICE messages while a probe measures ping round trips.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.consult.capacity import measure
from bench.consult.latency import admission_to_media_s
from bench.consult.visits import create_visits
from bench.ingest.run import scratch_database
from core.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
# Responsive: a signalling round trip a person would not notice added to call setup.
RESPONSIVE_P99_MS = 100.0


def nearest_rank(samples: list[float], quantile: float) -> float:
    """The sample at the quantile's rank (with 20 samples p99 is the largest: no extrapolation)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(quantile * len(ordered)) - 1)]


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.consult", description=__doc__)
    parser.add_argument("--consultations", type=int, default=20)
    parser.add_argument("--steps", default="25,50,100,200,400", help="concurrent consultations per step")
    parser.add_argument("--rate", type=float, default=1.0, help="ICE messages per second, each way, per room")
    parser.add_argument("--measure", type=float, default=10.0, help="seconds measured per step")
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument(
        "--p99-ms", type=float, default=RESPONSIVE_P99_MS, help="responsive while probe p99 is under"
    )
    return parser.parse_args()


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OWNAT_")}
    env.update(
        OWNAT_DATABASE_URL=str(settings.database_url),
        OWNAT_REDIS_URL=str(settings.redis_url),
        OWNAT_REDIS_KEY_PREFIX=settings.redis_key_prefix,
        OWNAT_SECRET_KEY=settings.secret_key.get_secret_value(),
        OWNAT_ENVIRONMENT="test",
        OWNAT_LOG_JSON="false",
        OWNAT_LOG_LEVEL="WARNING",
    )
    return env


async def _serving(port: int) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(1200):
            try:
                if (await http.get(f"http://127.0.0.1:{port}/healthz", timeout=2)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the api instance did not start")


async def main(args: argparse.Namespace) -> int:
    admin_url = os.environ.get(
        "OWNAT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    steps = [int(n) for n in args.steps.split(",")]
    async with scratch_database(admin_url) as database_url:
        settings = Settings(
            _env_file=None,
            database_url=database_url,
            redis_url=os.environ.get("OWNAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
            redis_key_prefix=f"ownat-bench-{secrets.token_hex(3)}:",
            secret_key=secrets.token_urlsafe(48),
        )
        print(f"preparing {args.consultations + max(steps) + 1} video appointments ...", flush=True)
        visits = await create_visits(settings, args.consultations + max(steps) + 1)
        log = Path(tempfile.mkdtemp(prefix="ownat-bench-consult-")) / "api.log"
        command = [
            sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--host", "127.0.0.1",
            "--port", str(args.port), "--ws", "websockets-sansio", "--log-level", "warning",
        ]  # fmt: skip
        with log.open("ab") as out:
            api = await asyncio.create_subprocess_exec(
                *command, env=_env(settings), cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            await _serving(args.port)
            url = f"ws://127.0.0.1:{args.port}/ws/consult"
            await _latency(url, visits[: args.consultations])
            await _capacity(url, visits[args.consultations :], steps, args)
        finally:
            api.terminate()
            await asyncio.wait_for(api.wait(), 30)
    return 0


async def _latency(url: str, visits: list) -> None:
    samples = []
    for visit in visits:
        samples.append(await admission_to_media_s(url, visit) * 1000)
    print(
        f"admission to connected media (audio and video frames both ways), {len(samples)} consultations: "
        f"p50 {statistics.median(samples):.0f} ms, p99 {nearest_rank(samples, 0.99):.0f} ms",
        flush=True,
    )


async def _capacity(url: str, visits: list, steps: list[int], args: argparse.Namespace) -> None:
    probe_token = visits[-1].clinician_token
    print(f"rooms  setup_s  relayed/s  probe_p50_ms  probe_p99_ms  (responsive: p99 < {args.p99_ms:.0f} ms)")
    for rooms in steps:
        # The same rooms again, and more: the previous step's participants have left them.
        batch = visits[:rooms]
        started = time.perf_counter()
        step = await measure(url, batch, probe_token, rate_hz=args.rate, seconds=args.measure)
        print(
            f"{step.rooms:5d}  {step.setup_s:7.1f}  {step.relayed_per_s:9.0f}  {step.probe_p50_ms:12.1f}"
            f"  {step.probe_p99_ms:12.1f}   ({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
        if step.probe_p99_ms > args.p99_ms:
            break


if __name__ == "__main__":
    sys.exit(asyncio.run(main(_args())))
