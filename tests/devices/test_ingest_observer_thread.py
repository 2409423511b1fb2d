"""The alarm evaluator on a thread of its own, as `ownat ingest` runs it: readings over the real
Mosquitto raise an alarm on Redis from the evaluator's thread, and stopping the worker stops the
thread and closes what it opened."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from core.bus import create_bus
from core.db import create_engine
from core.sessions import create_sessionmaker
from devices.ingest.observer_thread import ObserverThread
from devices.ingest.worker import IngestWorker
from realtime.alarms.live_evaluator import LiveAlarmEvaluator, LiveTuning
from tests.devices.ingest_helpers import GUARD_S, Publisher, recent_start, worker_config
from tests.realtime.alarm_builders import AT_ONCE
from tests.realtime.test_live_evaluator import SICK, monitored_patient, next_alarm, vitals


class Opened:
    """What the observer's context saw: the thread it ran on, the evaluator, whether it closed."""

    def __init__(self) -> None:
        self.thread: str | None = None
        self.evaluator: LiveAlarmEvaluator | None = None
        self.closed = False


async def test_a_threaded_evaluator_raises_alarms_and_stops_with_the_worker(
    settings, sessions, mqtt_url, redis_url, redis_prefix
) -> None:
    device, patient_id = await monitored_patient(sessions)
    config = worker_config(settings.database_url, mqtt_url)
    opened = Opened()

    @asynccontextmanager
    async def open_evaluator() -> AsyncIterator[LiveAlarmEvaluator]:
        # As the runner opens it: a pool and a bus connection of its own, on the thread's loop.
        engine = create_engine(config.database_url)
        bus = create_bus(redis_url=redis_url, key_prefix=redis_prefix)
        opened.thread = threading.current_thread().name
        opened.evaluator = LiveAlarmEvaluator(
            sessions=create_sessionmaker(engine), bus=bus, tuning=LiveTuning(), policy=AT_ONCE
        )
        try:
            yield opened.evaluator
        finally:
            await bus.close()
            await engine.dispose()
            opened.closed = True

    engine = create_engine(config.database_url)
    bus = create_bus(redis_url=redis_url, key_prefix=redis_prefix)
    worker = IngestWorker(
        config=config,
        engine=engine,
        sessions=create_sessionmaker(engine),
        bus=bus,
        observer=ObserverThread(open_evaluator),
    )
    task = asyncio.create_task(worker.run())
    try:
        async with asyncio.timeout(GUARD_S):
            await worker.ready.wait()
        async with (
            bus.subscribe(channels=[f"alarms.patient.{patient_id}"]) as alarms,
            Publisher(mqtt_url) as pub,
        ):
            await pub.publish_all([(f"ownat/v1/devices/{device}/vitals", vitals(0, recent_start(3), SICK))])
            raised = await next_alarm(alarms)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await bus.close()
        await engine.dispose()
    assert raised["change"] == "raised" and raised["alarm"]["patient_id"] == str(patient_id)
    assert opened.thread == "batch-observer" != threading.current_thread().name
    assert opened.evaluator is not None and opened.evaluator.stats.rounds >= 1
    assert opened.closed, "the evaluator's pool and bus were not closed when the worker stopped"
    assert not [t for t in threading.enumerate() if t.name == "batch-observer"]


class Recorder:
    """An observer that keeps what it is handed, in order, and the threads it was handed it on."""

    def __init__(self, expected: int) -> None:
        self.seen: list[tuple[str, int]] = []
        self.threads: set[str] = set()
        self.expected = expected
        self.all_in = threading.Event()  # set on the observer's thread, awaited from the test's

    def observe(self, readings, statuses) -> None:
        self.threads.add(threading.current_thread().name)
        self.seen.extend((device_id, body["n"]) for device_id, body in statuses)
        if len(self.seen) >= self.expected:
            self.all_in.set()

    async def run(self) -> None:
        await asyncio.Event().wait()


async def test_batches_handed_over_from_busy_threads_all_arrive_in_order_however_wake_ups_are_shared() -> (
    None
):
    """The worker wakes the observer's loop only when no wake-up is pending: batches handed over
    meanwhile ride on it. None may be left behind, whatever the interleaving of the threads."""
    producers, each = 4, 5_000
    recorder = Recorder(expected=producers * each)

    @asynccontextmanager
    async def open_recorder() -> AsyncIterator[Recorder]:
        yield recorder

    observer = ObserverThread(open_recorder)
    task = asyncio.create_task(observer.run())
    loop = asyncio.get_running_loop()

    def hand_over(name: str) -> None:
        for n in range(each):
            observer.observe({}, [(name, {"n": n})])

    try:
        # Some batches may go before the observer is open (kept, then replayed), most after.
        await asyncio.gather(*(loop.run_in_executor(None, hand_over, f"p{i}") for i in range(producers)))
        assert await asyncio.to_thread(recorder.all_in.wait, GUARD_S), f"{len(recorder.seen)} arrived"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert recorder.threads == {"batch-observer"}
    assert len(recorder.seen) == producers * each
    for i in range(producers):
        assert [n for name, n in recorder.seen if name == f"p{i}"] == list(range(each))
