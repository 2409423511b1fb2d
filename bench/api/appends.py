"""`python -m bench.api.appends [--code DIR] [--sessions 1 4 16 64] [--seconds 5]`

The audit append alone, without HTTP: N sessions each committing transactions that record one audit
entry (as an audited read does), against the same transactions writing one plain row instead, in
the same run on a scratch database. The API figures depend on the whole request path and on the
machine's other load; this isolates what the log itself costs, and whether appends serialise.
`--code /work/main` runs another checkout's audit code (its own migrations, its own `record`), in a
child process of that checkout: before and after on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path

POSTGRES_ADMIN = os.environ.get(
    "OWNAT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


async def _drive(sessions, work, count: int, seconds: float) -> float:
    stop = time.monotonic() + seconds
    done = 0

    async def loop() -> None:
        nonlocal done
        while time.monotonic() < stop:
            await work(sessions)
            done += 1

    await asyncio.gather(*(loop() for _ in range(count)))
    return done / seconds


async def _measure(database_url: str, counts: list[int], seconds: float) -> list[dict]:
    # Imported here: the checkout under test is first on sys.path in this child process.
    from sqlalchemy import text

    from core import audit
    from core.db import create_engine
    from core.principal import Principal, Role
    from core.sessions import create_sessionmaker, transaction

    nurse = Principal(user_id=uuid.uuid4(), role=Role.NURSE)
    engine = create_engine(database_url, pool_size=max(counts), max_overflow=0)
    sessions = create_sessionmaker(engine)
    async with engine.begin() as db:
        await db.execute(text("CREATE TABLE plain_rows (id uuid PRIMARY KEY, at timestamptz NOT NULL)"))

    async def audited(sessions) -> None:
        async with transaction(sessions) as session:
            audit.record(
                session, actor=nurse, action="read", resource_type="patient", patient_id=uuid.uuid4()
            )

    async def plain(sessions) -> None:
        async with transaction(sessions) as session:
            await session.execute(text("INSERT INTO plain_rows VALUES (:id, now())"), {"id": uuid.uuid4()})

    rows = []
    try:
        for count in counts:
            baseline = await _drive(sessions, plain, count, seconds)
            appends = await _drive(sessions, audited, count, seconds)
            rows.append({"sessions": count, "appends": appends, "plain": baseline, "load": _load_average()})
    finally:
        await engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.api.appends", description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", default=".", help="checkout whose audit code runs (default: this one)")
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--child", help=argparse.SUPPRESS)  # the database URL, inside the child process
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(_measure(args.child, args.sessions, args.seconds))))
        return
    import psycopg

    code = Path(args.code).resolve()
    admin = POSTGRES_ADMIN.replace("postgresql+psycopg://", "postgresql://")
    name = f"ownat_bench_appends_{secrets.token_hex(4)}"
    url = POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("OWNAT_")}, "PYTHONPATH": str(code)}
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    try:
        child = [sys.executable, "-P"]
        subprocess.run(
            [*child, "-m", "ownat.cli", "migrate"],
            env={**env, "OWNAT_DATABASE_URL": url},
            cwd=code,
            check=True,
            capture_output=True,
        )
        # This file as a script: the child imports only the checkout's code (older ones have no bench.api).
        command = [*child, str(Path(__file__).resolve()), "--child", url, "--seconds", str(args.seconds)]
        command += ["--sessions", *map(str, args.sessions)]
        result = subprocess.run(command, env=env, cwd=code, check=True, capture_output=True, text=True)
    finally:
        with psycopg.connect(admin, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"audit appends, code {code}: transactions/s with N sessions committing at once")
    print(f"{'sessions':>8} {'audited':>9} {'plain row':>10} {'ratio':>6}  load avg")
    for row in json.loads(result.stdout):
        print(
            f"{row['sessions']:>8} {row['appends']:>9,.0f} {row['plain']:>10,.0f} {row['appends'] / row['plain']:>6.2f}  {row['load']}"
        )


if __name__ == "__main__":
    main()
