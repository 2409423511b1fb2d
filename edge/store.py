"""The queue on its own thread: async access to `edge.queue.MessageQueue` for the event loop.

SQLite calls block (an fsync can take milliseconds on flash storage), so every call runs on
one dedicated thread, the only one that ever touches the connection; that single thread also
serialises writes and reads, which keeps queue ids and the forwarders' cursors consistent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from edge.queue import DroppedRange, Durability, MessageQueue, OutgoingMessage, QueueStats, StoredMessage

_T = TypeVar("_T")


class QueueWorker:
    """Runs one MessageQueue on a dedicated thread."""

    def __init__(self, executor: ThreadPoolExecutor, queue: MessageQueue) -> None:
        self._executor = executor
        self._queue = queue
        # The queue's totals after the last write, read on the event loop without a thread hop.
        self.last_stats = queue.stats()

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        max_bytes: int | None = None,
        max_rows: int | None = None,
        durability: Durability = "full",
    ) -> QueueWorker:
        """Opens (or creates) the queue file on a new worker thread."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="edge-queue")
        loop = asyncio.get_running_loop()
        try:
            queue = await loop.run_in_executor(
                executor,
                lambda: MessageQueue(path, max_bytes=max_bytes, max_rows=max_rows, durability=durability),
            )
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(executor, queue)

    @property
    def path(self) -> Path:
        return self._queue.path

    async def _call(self, function: Callable[[], _T]) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, function)

    async def put_many(self, messages: Sequence[OutgoingMessage]) -> tuple[list[int], list[DroppedRange]]:
        result, self.last_stats = await self._call(
            lambda: (self._queue.put_many(messages), self._queue.stats())
        )
        return result

    async def peek(
        self, *, after_id: int, limit: int, devices: Collection[str] | None = None, exclude: bool = False
    ) -> list[StoredMessage]:
        return await self._call(
            lambda: self._queue.peek(after_id=after_id, limit=limit, devices=devices, exclude=exclude)
        )

    async def delete(self, ids: Iterable[int]) -> int:
        batch = list(ids)
        removed, self.last_stats = await self._call(lambda: (self._queue.delete(batch), self._queue.stats()))
        return removed

    async def get(self, ids: Iterable[int]) -> list[StoredMessage]:
        batch = list(ids)
        return await self._call(lambda: self._queue.get(batch))

    async def delete_seqs(self, confirmed: Sequence[tuple[str, Sequence[tuple[int, int]]]]) -> list[int]:
        removed, self.last_stats = await self._call(
            lambda: (self._queue.delete_seqs(confirmed), self._queue.stats())
        )
        return removed

    async def stats(self) -> QueueStats:
        return await self._call(self._queue.stats)

    async def last_seqs(self) -> dict[str, int]:
        return await self._call(self._queue.last_seqs)

    async def pending_devices(self) -> set[str]:
        return await self._call(self._queue.pending_devices)

    async def close(self) -> None:
        """Closes the file and stops the thread."""
        await self._call(self._queue.close)
        self._executor.shutdown(wait=True)
