"""`ownat worker` seals the audit log: two of them at once, one killed mid-run, each entry sealed once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from core.audit.verify import verify_chain
from tests.core.audit_support import GUARD_S, KEYS, record, seal_everything, sealed_counts


def _worker(
    database_url: str, redis_url: str, redis_prefix: str, mqtt_url: str, log: Path
) -> subprocess.Popen[bytes]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OWNAT_")}
    env.update(
        OWNAT_DATABASE_URL=database_url, OWNAT_REDIS_URL=redis_url, OWNAT_REDIS_KEY_PREFIX=f"{redis_prefix}worker:",
        OWNAT_MQTT_URL=mqtt_url, OWNAT_AUDIT_SEAL_INTERVAL_S="0.1", OWNAT_LOG_JSON="false",
    )  # fmt: skip
    with log.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "ownat.cli", "worker"], env=env, stdout=sink, stderr=sink
        )


async def _wait_sealed(sessions, count_at_least: int) -> None:
    async with asyncio.timeout(GUARD_S):
        # Another process seals: only the database can tell when it has.
        while (await sealed_counts(sessions))[1] < count_at_least:  # noqa: ASYNC110
            await asyncio.sleep(0.1)


async def test_two_workers_seal_each_entry_once_and_one_may_die(
    audit_sessions, audit_database_url: str, redis_url: str, redis_prefix: str, mqtt_url: str, tmp_path: Path
) -> None:
    await seal_everything(audit_sessions)
    start = (await sealed_counts(audit_sessions))[1]
    workers = [
        _worker(audit_database_url, redis_url, redis_prefix, mqtt_url, tmp_path / f"w{n}.log") for n in (0, 1)
    ]
    try:
        for _ in range(10):
            await record(audit_sessions, patient_id=uuid.uuid4())
        await _wait_sealed(audit_sessions, start + 10)
        workers[0].send_signal(signal.SIGKILL)  # no clean shutdown: whatever it held is rolled back
        for _ in range(10):
            await record(audit_sessions, patient_id=uuid.uuid4())
        await _wait_sealed(audit_sessions, start + 20)
    finally:
        for process in workers:
            process.kill()
            process.wait()
    async with audit_sessions() as session:
        report = await verify_chain(session, KEYS)
    assert report.ok, report.reason
    assert await sealed_counts(audit_sessions) == (report.checked, report.checked)
    assert report.checked == start + 20 and report.pending == 0
