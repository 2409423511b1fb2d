"""`python -m bench.ingest.cpu`: CPU per reading of each stage of an ingest worker, measured in process.

Wall-clock throughput depends on whatever else the machine runs; CPU time spent per reading barely
does, so this is the figure to compare before and after a change. The stages are those of
`IngestWorker._commit` on the benchmark's own messages (monitors bound to patients, as in a ward):
decoding, attribution and rows, the COPY (our process and the PostgreSQL backend, separately),
accounting, the live fan-out's serialisation, and receiving plus acknowledging over MQTT (a
separate process publishes, so only the receiving side is counted). Each stage is run `--rounds`
times and the cheapest round is kept.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.ingest.load import MonitorLoad
from bench.ingest.mqtt_load import receive_cpu_s
from bench.ingest.run import register, scratch_database
from core.bus import InProcessBus, encode_each
from core.db import create_engine
from core.sessions import create_sessionmaker
from devices.ingest import IngestConfig, IngestWorker, Received, WriteBatch
from devices.registry import BindingSpan


def _backend_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _messages(load: MonitorLoad, count: int) -> tuple[list[Received], int]:
    start = datetime.now(UTC) - timedelta(minutes=30)
    received, readings = [], 0
    for index in range(count):
        device_id = load.device_ids[index % len(load.device_ids)]
        at = start + timedelta(seconds=index // len(load.device_ids))
        payload, n = load.message(device_id, at)
        readings += n
        received.append(Received(f"ownat/v1/devices/{device_id}/vitals", payload, index + 1, 1, 1, at))
    return received, readings


def _bind(worker: IngestWorker, device_ids: list[str]) -> None:
    since = datetime.now(UTC) - timedelta(days=1)
    ward = uuid.uuid4()
    spans = {d: [BindingSpan(d, uuid.uuid4(), uuid.uuid4(), ward, since, None)] for d in device_ids}
    cache = worker._bindings  # the harness fills the cache the registry would have filled
    cache._known, cache._spans, cache._loaded_at = dict.fromkeys(device_ids, since), spans, time.monotonic()


@contextmanager
def _clock(cpu: dict[str, float], stage: str) -> Iterator[None]:
    started = time.process_time()
    yield
    cpu[stage] = cpu.get(stage, 0.0) + time.process_time() - started


async def _one_round(
    worker: IngestWorker, received: list[Received], backend: int, cpu: dict[str, float]
) -> None:
    for start in range(0, len(received), 100):
        with _clock(cpu, "decode"):
            worker._receive(received[start : start + 100])
    while worker._pending:
        messages = worker._take_batch()
        await worker._recognise_devices(messages)
        with _clock(cpu, "attribute+rows"):
            batch, live = worker._prepare(messages)
        server_before = _backend_cpu_s(backend)
        with _clock(cpu, "copy (worker)"):
            inserted = await worker._store.write(batch)
        cpu["copy (postgres)"] = cpu.get("copy (postgres)", 0.0) + _backend_cpu_s(backend) - server_before
        with _clock(cpu, "account"):
            worker._account(messages, batch, inserted, datetime.now(UTC))
        with _clock(cpu, "fan-out"):
            for (device_id, who), readings in live.items():
                worker._fanout.submit_readings(device_id, who, readings)
    with _clock(cpu, "fan-out"):
        encode_each(worker._fanout._take())


async def main(args: argparse.Namespace) -> None:
    postgres = os.environ.get(
        "OWNAT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    mqtt_url = os.environ.get("OWNAT_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
    device_ids = [f"cpu-{secrets.token_hex(2)}-{i:05d}" for i in range(args.devices)]
    load = MonitorLoad(device_ids, samples=16, period_s=1.0)
    best: dict[str, float] = {}
    readings = 0
    async with scratch_database(postgres) as database_url:
        await register(database_url, device_ids)
        engine = create_engine(database_url)
        for _round in range(args.rounds):
            received, readings = _messages(load, args.messages)
            config = IngestConfig(
                database_url=database_url, broker_url=mqtt_url, batch_max_readings=args.batch
            )
            worker = IngestWorker(
                config=config, engine=engine, sessions=create_sessionmaker(engine), bus=InProcessBus()
            )
            _bind(worker, device_ids)
            await worker._store.write(WriteBatch())  # connects
            backend = worker._store._connection.info.backend_pid  # type: ignore[attr-defined]
            cpu: dict[str, float] = {}
            await _one_round(worker, received, backend, cpu)
            await worker._store.close()
            for stage, seconds in cpu.items():
                best[stage] = min(best.get(stage, seconds), seconds)
        await engine.dispose()
    if args.mqtt:
        payloads = [r.payload for r in _messages(load, args.messages)[0]]
        rounds = [await receive_cpu_s(mqtt_url, device_ids, payloads) for _ in range(args.rounds)]
        best["mqtt receive+ack"] = min(rounds)
    print(
        f"{readings:,} readings in {args.messages:,} messages; batches of {args.batch:,}; best of {args.rounds}"
    )
    worker_total = 0.0
    for stage, seconds in best.items():
        per = seconds / readings * 1e6
        worker_total += per if stage != "copy (postgres)" else 0.0
        print(f"  {stage:<18} {per:6.2f} µs/reading")
    print(f"  {'worker total':<18} {worker_total:6.2f} µs/reading (without postgres)")
    print(f"machine load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.ingest.cpu", description=__doc__)
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-mqtt", dest="mqtt", action="store_false")
    asyncio.run(main(parser.parse_args()))
