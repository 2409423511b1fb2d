"""The edge gateway: adapters -> durable queue -> broker links, with counters and a status line.

Each adapter runs in a task that hands its messages to one writer task through a bounded
inbox; the writer commits them to the queue in batches (one fsync for many messages) and
wakes the links that serve those devices. Each link forwards its devices' messages in queue
order and deletes them on PUBACK (see `edge.forwarder`). A slow disk therefore slows the
adapters (back-pressure) instead of growing memory; a missing broker only grows the queue,
up to its budget.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Mapping, Sequence
from types import TracebackType
from typing import Any

from edge.adapters import DeviceAdapter, DeviceMessage
from edge.forwarder import BrokerLink, LinkSpec
from edge.metrics import EdgeCounters
from edge.mqtt_settings import BrokerSettings
from edge.store import QueueWorker

logger = logging.getLogger(__name__)

# Messages committed per transaction at most, and waiting between adapters and the disk.
WRITE_BATCH_MAX = 500
INBOX_MAX = 10_000


class EdgeGateway:
    """Runs adapters, the queue writer, one link per MQTT identity and the status log."""

    def __init__(
        self,
        *,
        queue: QueueWorker,
        broker: BrokerSettings,
        links: Sequence[LinkSpec],
        adapters: Sequence[DeviceAdapter],
        status_interval_s: float = 60.0,
    ) -> None:
        if not links:
            raise ValueError("the gateway needs at least one broker link")
        self.queue = queue
        self.counters = EdgeCounters(links_total=len(links))
        self.links = [BrokerLink(spec, broker, queue, self.counters) for spec in links]
        self.adapters = list(adapters)
        self.status_interval_s = status_interval_s
        self.adapters_done = asyncio.Event()
        self._inbox: asyncio.Queue[DeviceMessage | None] = asyncio.Queue(INBOX_MAX)
        self._feeders: list[asyncio.Task[None]] = []
        self._link_tasks: list[asyncio.Task[None]] = []
        self._writer: asyncio.Task[None] | None = None
        self._status: asyncio.Task[None] | None = None
        self._failure: asyncio.Future[None] | None = None

    async def __aenter__(self) -> EdgeGateway:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Starts every task; returns at once."""
        loop = asyncio.get_running_loop()
        self._failure = loop.create_future()
        next_seq = {device: seq + 1 for device, seq in (await self.queue.last_seqs()).items()}
        self.counters.set_queue(self.queue.last_stats)
        self._link_tasks = [self._spawn(link.run(), f"edge link {link.spec.name}") for link in self.links]
        self._writer = self._spawn(self._write(), "edge queue writer")
        self._status = self._spawn(self._report(), "edge status")
        for adapter in self.adapters:
            bind = getattr(adapter, "bind", None)
            if bind is not None:
                bind(loop)
            self._feeders.append(self._spawn(self._feed(adapter, next_seq), f"edge adapter {adapter.name}"))
        if not self._feeders:
            self.adapters_done.set()
        logger.info(
            "edge gateway started: %d adapter(s), %d broker link(s), queue %s with %d pending",
            len(self.adapters),
            len(self.links),
            self.queue.path,
            self.counters.pending,
        )

    async def serve(self, stop: asyncio.Event) -> None:
        """Runs until `stop` is set, then stops; raises the first failure of an internal task."""
        assert self._failure is not None, "start() first"
        stopped = asyncio.ensure_future(stop.wait())
        try:
            waiters: set[asyncio.Future[Any]] = {stopped, self._failure}
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            await self.stop()

    async def stop(self) -> None:
        """Stops the adapters, queues what they already delivered, disconnects; raises an internal failure."""
        for task in self._feeders:
            task.cancel()
        await asyncio.gather(*self._feeders, return_exceptions=True)
        self._feeders.clear()
        if self._writer is not None and not self._writer.done():
            await self._inbox.put(None)
        for link in self.links:
            link.stop()
        if self._status is not None:
            self._status.cancel()
        tasks = [*self._link_tasks, *(t for t in (self._writer, self._status) if t is not None)]
        await asyncio.gather(*tasks, return_exceptions=True)
        self._link_tasks, self._writer, self._status = [], None, None
        self.counters.changed()
        failure, self._failure = self._failure, None
        if failure is not None and failure.done():
            failure.result()

    async def _feed(self, adapter: DeviceAdapter, next_seq: Mapping[str, int]) -> None:
        try:
            async for message in adapter.messages(next_seq):
                await self._inbox.put(message)
        except Exception:
            # One broken device driver must not stop the others nor the forwarding of what is queued.
            logger.exception(
                "edge adapter %s failed; its devices send nothing more until a restart", adapter.name
            )
        finally:
            if all(task.done() or task is asyncio.current_task() for task in self._feeders):
                self.adapters_done.set()

    async def _write(self) -> None:
        finished = False
        while not finished:
            batch: list[DeviceMessage] = []
            item = await self._inbox.get()
            while item is not None:
                batch.append(item)
                if len(batch) >= WRITE_BATCH_MAX or self._inbox.empty():
                    break
                item = self._inbox.get_nowait()
            finished = item is None
            if not batch:
                continue
            _, dropped = await self.queue.put_many([message.outgoing() for message in batch])
            self.counters.queued += len(batch)
            self.counters.dropped += sum(d.count for d in dropped)
            self.counters.set_queue(self.queue.last_stats)
            devices = {message.device_id for message in batch}
            for link in self.links:
                if any(link.spec.serves(device) for device in devices):
                    link.wake()
            self.counters.changed()

    async def _report(self) -> None:
        while True:
            await asyncio.sleep(self.status_interval_s)
            logger.info(self.counters.status_line())

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work, name=name)
        task.add_done_callback(self._watch)
        return task

    def _watch(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        error = task.exception()
        logger.error("%s failed; the edge gateway stops", task.get_name(), exc_info=error)
        if self._failure is not None and not self._failure.done():
            self._failure.set_exception(error)  # type: ignore[arg-type]
