"""A batch observer (the live alarm evaluator) on a thread and event loop of its own.

On the ingest worker's event loop, every await of an alarm round (its few queries, its commit, its
publish) waits its turn behind whatever the worker has queued meanwhile: decoding, COPY batches,
acknowledgements, the reading fan-out. At 2,000 monitors on a 2-core machine that added hundreds
of milliseconds to each alarm, so alarms arrived well after the readings that raised them. On a
loop of its own a round waits only for the database and Redis, and the interpreter hands the
thread the GIL every few milliseconds (`sys.getswitchinterval`) however busy the worker is.

The worker's side costs what it did: `observe` puts the batch in an inbox (the worker does not touch
a batch once it has handed it over) and wakes the thread's loop with `call_soon_threadsafe` only when
no wake-up is pending already: each wake-up writes to the loop's self-pipe and costs the loop a turn,
and under load hundreds of batches a second then share a few. The
observer and its resources (database pool, bus connection) are opened and closed on the thread's
own loop by the `open_observer` context that the composition root passes in.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from devices.ingest.attribution import Attribution
from devices.ingest.decode import DecodedReading
from devices.ingest.worker import BatchObserver

log = logging.getLogger(__name__)

Readings = Mapping[tuple[str, Attribution], Sequence[DecodedReading]]
Statuses = Sequence[tuple[str, dict[str, Any]]]


class ObserverThread:
    """A `BatchObserver` that runs another one on its own thread; the worker sees no difference."""

    def __init__(self, open_observer: Callable[[], AbstractAsyncContextManager[BatchObserver]]) -> None:
        self._open_observer = open_observer
        # Created now, run by the thread: batches handed over before it runs wait in its queue.
        self._loop = asyncio.new_event_loop()
        self._observer: BatchObserver | None = None
        self._early: list[tuple[Readings, Statuses]] = []
        # Filled by the worker's thread, emptied by the observer's (deque appends and pops are atomic).
        self._inbox: deque[tuple[Readings, Statuses]] = deque()
        # True from a wake-up's scheduling until its drain starts; a batch added meanwhile rides on it.
        self._wake_pending = False
        # Set from the worker's thread (through the loop) to stop; an Event binds to a loop on first use.
        self._stopping = asyncio.Event()

    def observe(self, readings: Readings, statuses: Statuses) -> None:
        """Hands a batch to the observer's loop; returns at once."""
        self._inbox.append((readings, statuses))
        # Appended before the flag is read: a drain that cleared it has yet to look, or a new one comes.
        if self._wake_pending:
            return
        self._wake_pending = True
        with contextlib.suppress(RuntimeError):  # the thread has ended: the worker is stopping
            self._loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        # On the observer's loop. Cleared before looking: what is appended after this sees no wake-up
        # pending and schedules one, so no batch is left behind.
        self._wake_pending = False
        inbox = self._inbox
        while inbox:
            readings, statuses = inbox.popleft()
            # Before the observer is open (its pool is opening), keep the batch.
            if self._observer is None:
                self._early.append((readings, statuses))
            else:
                self._observer.observe(readings, statuses)

    async def run(self) -> None:
        """Runs the observer's thread until cancelled, then stops it and waits for it to finish."""
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        thread = threading.Thread(target=self._main, args=(done,), name="batch-observer", daemon=True)
        thread.start()
        try:
            await asyncio.wrap_future(done)
        finally:
            with contextlib.suppress(RuntimeError):  # its loop is closed: the thread has ended
                self._loop.call_soon_threadsafe(self._stopping.set)
            await asyncio.to_thread(thread.join)

    def _main(self, done: concurrent.futures.Future[None]) -> None:
        asyncio.set_event_loop(self._loop)
        error: BaseException | None = None
        try:
            self._loop.run_until_complete(self._observe())
        except BaseException as caught:  # the worker's task group sees it and stops the worker
            log.exception("the batch observer's thread stopped")
            error = caught
        finally:
            with contextlib.suppress(Exception):
                self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()
        # Cancelled already when the worker is stopping: nobody waits for the outcome then.
        with contextlib.suppress(concurrent.futures.InvalidStateError):
            if error is None:
                done.set_result(None)
            else:
                done.set_exception(error)

    async def _observe(self) -> None:
        async with self._open_observer() as observer:
            self._observer = observer
            early, self._early = self._early, []
            for readings, statuses in early:
                observer.observe(readings, statuses)
            work = asyncio.create_task(observer.run(), name="batch-observer-run")
            stop = asyncio.create_task(self._stopping.wait(), name="batch-observer-stop")
            finished, _ = await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
            work.cancel()
            stop.cancel()
            await asyncio.gather(work, stop, return_exceptions=True)
            if work in finished:
                work.result()  # an observer that ended by itself ended by an error
