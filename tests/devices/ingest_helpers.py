"""Test helpers of the ingest and vitals tests: registered devices, payloads, a publisher, a running worker.

Everything talks to the real services: devices and bindings go through the registry's services,
messages through the machine's Mosquitto, readings into this run's PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.patients import service as patients
from clinical.patients.schemas import PatientCreate
from core.bus import Bus, InProcessBus
from core.db import create_engine
from core.principal import SYSTEM
from core.sessions import create_sessionmaker, transaction
from devices.ingest.config import IngestConfig
from devices.ingest.worker import IngestWorker
from devices.registry.models import Device, DeviceBinding, DeviceKind, DeviceStatus
from devices.vitals.models import VitalReading

GUARD_S = 30.0  # a guard against hanging, never a timing assertion
METRICS = (("hr", "/min", 60.0, 100.0), ("spo2", "%", 92.0, 99.0), ("rr", "/min", 12.0, 20.0))


def unique_device_id(label: str = "dev") -> str:
    return f"t-{label}-{secrets.token_hex(5)}"


def unique_name(label: str) -> str:
    return f"{label}-{secrets.token_hex(4)}"


async def register_devices(
    sessions: async_sessionmaker[AsyncSession],
    device_ids: Iterable[str],
    *,
    registered_at: datetime | None = None,
) -> dict[str, uuid.UUID]:
    """Registers the devices (active, a day ago unless told) as registry rows; returns their row ids by wire id."""
    rows = {device_id: uuid.uuid4() for device_id in device_ids}
    # Readings dated before a device's registration are refused: the tests' streams start minutes back.
    when = registered_at or datetime.now(UTC) - timedelta(days=1)
    async with transaction(sessions) as session:
        for device_id, row_id in rows.items():
            session.add(
                Device(
                    id=row_id,
                    created_at=when,
                    device_id=device_id,
                    kind=DeviceKind.BEDSIDE_MONITOR,
                    manufacturer="Testmed",
                    model="M1",
                    serial=secrets.token_hex(6),
                    status=DeviceStatus.ACTIVE,
                )
            )
    return rows


async def new_patient(sessions: async_sessionmaker[AsyncSession]) -> uuid.UUID:
    async with transaction(sessions) as session:
        patient = await patients.create_patient(
            session=session,
            actor=SYSTEM,
            data=PatientCreate(
                given_name="Vera", family_name=unique_name("Vitals"), birth_date=date(1960, 5, 1)
            ),
        )
        return patient.id


async def bind(
    sessions: async_sessionmaker[AsyncSession],
    device_uuid: uuid.UUID,
    patient_id: uuid.UUID,
    start: datetime,
    end: datetime | None = None,
) -> uuid.UUID:
    """Binds the device to the patient over [start, end); returns the binding's id."""
    binding_id = uuid.uuid4()
    async with transaction(sessions) as session:
        session.add(
            DeviceBinding(
                id=binding_id, device_uuid=device_uuid, patient_id=patient_id, start_at=start, end_at=end
            )
        )
    return binding_id


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def vitals_payload(
    seq: int, at: datetime, *, metrics: Iterable[tuple[str, str, float]] | None = None
) -> bytes:
    """One message with one reading per metric, all at `at`."""
    chosen = (
        metrics
        if metrics is not None
        else [(alias, unit, (low + high) / 2) for alias, unit, low, high in METRICS]
    )
    readings = [
        {"metric": alias, "value": value, "unit": unit, "time": iso(at)} for alias, unit, value in chosen
    ]
    return json.dumps({"v": 1, "seq": seq, "readings": readings}).encode()


def stream(
    device_ids: list[str],
    *,
    messages_per_device: int,
    start: datetime,
    step: timedelta = timedelta(seconds=1),
):
    """(topic, payload) of a stream: each device's messages in time order, devices interleaved."""
    for seq in range(messages_per_device):
        for device_id in device_ids:
            yield f"ownat/v1/devices/{device_id}/vitals", vitals_payload(seq, start + seq * step)


class Publisher:
    """A paho MQTT 5 client on its own thread; `publish` returns a future resolved by the broker's PUBACK."""

    def __init__(self, mqtt_url: str) -> None:
        parts = urlsplit(mqtt_url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 1883
        self._loop = asyncio.get_running_loop()
        self._acks: dict[int, asyncio.Future[None]] = {}
        self._early: set[int] = set()
        self._connected = asyncio.Event()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=unique_name("test-pub"), protocol=mqtt.MQTTv5
        )
        self._client.max_inflight_messages_set(1000)
        self._client.max_queued_messages_set(0)
        self._client.on_connect = self._on_connect
        self._client.on_publish = self._on_publish

    async def __aenter__(self) -> Publisher:
        self._client.connect_async(self._host, self._port, 30)
        self._client.loop_start()
        async with asyncio.timeout(GUARD_S):
            await self._connected.wait()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._client.disconnect()
        await asyncio.to_thread(self._client.loop_stop)

    def publish(self, topic: str, payload: bytes) -> asyncio.Future[None]:
        info = self._client.publish(topic, payload, qos=1)
        future = self._loop.create_future()
        if info.mid in self._early:
            self._early.discard(info.mid)
            future.set_result(None)
        else:
            self._acks[info.mid] = future
        return future

    async def publish_all(self, items: Iterable[tuple[str, bytes]]) -> int:
        """Publishes everything at QoS 1 and waits for every PUBACK; returns the count."""
        futures = [self.publish(topic, payload) for topic, payload in items]
        async with asyncio.timeout(GUARD_S):
            await asyncio.gather(*futures)
        return len(futures)

    def _on_connect(self, *_args: Any) -> None:
        self._loop.call_soon_threadsafe(self._connected.set)

    def _on_publish(self, _client: Any, _userdata: Any, mid: int, *_rest: Any) -> None:
        self._loop.call_soon_threadsafe(self._acked, mid)

    def _acked(self, mid: int) -> None:
        future = self._acks.pop(mid, None)
        if future is None:
            self._early.add(mid)  # the PUBACK beat our bookkeeping
        elif not future.done():
            future.set_result(None)


def worker_config(database_url: str, mqtt_url: str, **overrides: Any) -> IngestConfig:
    """A worker config with a share group and client id of its own (no sharing with other runs)."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "broker_url": mqtt_url,
        "client_id": unique_name("test-ingest"),
        "share_group": unique_name("test-group"),
        "flush_interval_s": 0.05,
        "binding_refresh_s": 0.5,
        "rollup_interval_s": 1.0,
    }
    values.update(overrides)
    return IngestConfig(**values)


@asynccontextmanager
async def running_worker(config: IngestConfig, *, bus: Bus | None = None) -> AsyncIterator[IngestWorker]:
    """An ingest worker on this event loop, subscribed when entered, stopped when left."""
    engine = create_engine(config.database_url)
    worker = IngestWorker(
        config=config, engine=engine, sessions=create_sessionmaker(engine), bus=bus or InProcessBus()
    )
    task = asyncio.create_task(worker.run())
    try:
        async with asyncio.timeout(GUARD_S):
            ready = asyncio.create_task(worker.ready.wait())
            done, _ = await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
            if task in done:
                task.result()  # the worker failed to start: raise its error
        yield worker
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await engine.dispose()


async def wait_until(check: Callable[[], Awaitable[bool]], *, what: str, guard_s: float = GUARD_S) -> None:
    """Polls `check` until it holds; the guard only stops a hanging test."""
    try:
        async with asyncio.timeout(guard_s):
            # The database offers no event for "these rows are there": polling is the only way.
            while not await check():  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"gave up waiting for {what}") from None


async def count_readings(sessions: async_sessionmaker[AsyncSession], device_ids: Iterable[str]) -> int:
    async with sessions() as session:
        total = await session.scalar(
            select(func.count()).select_from(VitalReading).where(VitalReading.device_id.in_(list(device_ids)))
        )
        return int(total or 0)


async def duplicate_keys(sessions: async_sessionmaker[AsyncSession], device_ids: Iterable[str]) -> int:
    """Readings stored more than once for one (device, metric, time): must always be zero."""
    async with sessions() as session:
        grouped = (
            select(VitalReading.device_id, VitalReading.metric, VitalReading.time)
            .where(VitalReading.device_id.in_(list(device_ids)))
            .group_by(VitalReading.device_id, VitalReading.metric, VitalReading.time)
            .having(func.count() > 1)
            .subquery()
        )
        return int(await session.scalar(select(func.count()).select_from(grouped)) or 0)


def recent_start(seconds_ago: float = 600) -> datetime:
    """A start time in the recent past, on a whole second."""
    return (datetime.now(UTC) - timedelta(seconds=seconds_ago)).replace(microsecond=0)
