"""`python -m bench.account [--rounds 40]`: does the time of an answer tell whether an address has an
account? Sign-up and forgotten-password requests for addresses with and without accounts, interleaved,
against one app on a scratch database and the machine's Redis; prints each kind's p10/p50/p90 and the
ratio of medians (1.0 = indistinguishable), with the load average."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import time

import httpx

from api.app import create_app
from bench.ingest.run import scratch_database
from core import identity
from core.identity import PatientRegistration
from core.principal import Role
from core.sessions import transaction
from core.settings import Settings

PASSWORD = "Bench-Lantern-Harbour-77"  # noqa: S105 (a benchmark account's, on a scratch database)


def _load() -> str:
    with open("/proc/loadavg") as source:
        return " ".join(source.read().split()[:3])


def _quantiles(samples: list[float]) -> tuple[float, float, float]:
    deciles = statistics.quantiles(samples, n=10)
    return deciles[0] * 1000, statistics.median(samples) * 1000, deciles[-1] * 1000


async def _time(client: httpx.AsyncClient, path: str, body: dict[str, str]) -> float:
    started = time.perf_counter()
    response = await client.post(path, json=body)
    elapsed = time.perf_counter() - started
    assert response.status_code == 202, response.text
    return elapsed


async def main(rounds: int) -> int:
    admin_url = os.environ.get(
        "OWNAT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    redis_url = os.environ.get("OWNAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    async with scratch_database(admin_url) as database_url:
        settings = Settings(
            _env_file=None,
            environment="test",
            database_url=database_url,
            redis_url=redis_url,
            redis_key_prefix=f"ownat-bench-{secrets.token_hex(4)}:",
            account_emails_per_address=10_000,
            account_emails_per_client=10_000,
            log_json=False,
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            known = []
            async with transaction(app.state.resources.sessions) as session:
                for n in range(rounds):
                    registration = PatientRegistration(
                        email=f"known-{n}@bench.example", password=PASSWORD, full_name="Sample Reader"
                    )
                    user = await identity.register_patient(
                        session=session, registration=registration, password_min_length=12
                    )
                    assert user.role is Role.PATIENT
                    known.append(user.email)
            transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                print(f"load average before: {_load()}  ({rounds} rounds, interleaved)")
                timings: dict[str, list[float]] = {
                    k: [] for k in ("reset, account", "reset, none", "sign-up, taken", "sign-up, new")
                }
                # Interleaved, so that both kinds see the same machine load.
                for n in range(rounds):
                    stranger = f"stranger-{n}-{secrets.token_hex(3)}@bench.example"
                    timings["reset, account"].append(
                        await _time(client, "/api/v1/auth/forgot-password", {"email": known[n]})
                    )
                    timings["reset, none"].append(
                        await _time(client, "/api/v1/auth/forgot-password", {"email": stranger})
                    )
                    body = {"password": PASSWORD, "full_name": "Sample Reader"}
                    timings["sign-up, taken"].append(
                        await _time(client, "/api/v1/auth/register", {**body, "email": known[n]})
                    )
                    timings["sign-up, new"].append(
                        await _time(client, "/api/v1/auth/register", {**body, "email": stranger})
                    )
                print(f"load average after:  {_load()}\n")
                print(f"{'request':18} {'p10 ms':>8} {'p50 ms':>8} {'p90 ms':>8}")
                for name, samples in timings.items():
                    p10, p50, p90 = _quantiles(samples)
                    print(f"{name:18} {p10:8.1f} {p50:8.1f} {p90:8.1f}")
                for a, b in (("reset, account", "reset, none"), ("sign-up, taken", "sign-up, new")):
                    ratio = statistics.median(timings[a]) / statistics.median(timings[b])
                    print(f"median {a} / {b}: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=40)
    raise SystemExit(asyncio.run(main(parser.parse_args().rounds)))
