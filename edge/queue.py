"""The edge gateway's durable queue: every message stays in a local SQLite file until it is
acknowledged: by the platform, end to end, for a message with a `seq` (the platform has committed
it), otherwise by the broker (PUBACK). Readings so survive a broker outage, a broker that loses its
disk, an ingest worker that dies, and a restart of the agent.

One row per message, in arrival order (the integer primary key), with the device id and the
device's `seq`; rows are deleted only once acknowledged (`delete`, or `delete_seqs` for the
platform's acknowledgement of a device's seqs). A disk budget (bytes and/or rows)
bounds the file: when a new message would exceed it, the OLDEST messages are dropped, counted
(in memory and in the file, for the record) and logged at WARNING, never silently.

Durability: WAL journal. Inserts commit with `synchronous=FULL`, so a queued reading survives
a power cut, not only a crash of the agent; the cost is one fsync per commit, which the gateway
keeps low by writing messages in batches. Deletions after PUBACK commit with
`synchronous=NORMAL` (no fsync of their own, made durable by the next insert's fsync): losing
one to a power cut only re-sends a message the platform de-duplicates by (device, metric, time).
`durability="normal"` applies NORMAL to inserts too, for storage where fsync is slow (SD cards);
then a power cut can lose the last moments of readings, a crash of the agent still loses none.

This class is synchronous and not thread-safe: the gateway drives it from one dedicated thread
(`edge.store.QueueWorker`), never from the event loop.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

logger = logging.getLogger(__name__)

Durability = Literal["full", "normal"]
# Rough bytes SQLite spends per row besides topic and payload (row header, index entry).
ROW_OVERHEAD_BYTES = 64

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT NOT NULL,
    seq INTEGER,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    retain INTEGER NOT NULL DEFAULT 0,
    size INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_device_id ON messages (device_id, id);
CREATE INDEX IF NOT EXISTS messages_device_seq ON messages (device_id, seq);
CREATE TABLE IF NOT EXISTS device_seq (device_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A message to queue: the device it comes from, its seq (if any) and its MQTT topic and payload."""

    device_id: str
    topic: str
    payload: bytes
    seq: int | None = None
    retain: bool = False


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A queued message with its queue id (the order it is sent in)."""

    id: int
    device_id: str
    seq: int | None
    topic: str
    payload: bytes
    retain: bool


@dataclass(frozen=True, slots=True)
class DroppedRange:
    """Messages dropped from one device by the disk budget: how many and their seq range."""

    device_id: str
    count: int
    first_seq: int | None
    last_seq: int | None


@dataclass(frozen=True, slots=True)
class QueueStats:
    pending: int
    pending_bytes: int
    dropped_total: int


class MessageQueue:
    """A durable FIFO of outgoing MQTT messages in one SQLite file, with a disk budget."""

    def __init__(
        self,
        path: str | Path,
        *,
        max_bytes: int | None = None,
        max_rows: int | None = None,
        durability: Durability = "full",
    ) -> None:
        if (max_bytes is not None and max_bytes <= 0) or (max_rows is not None and max_rows <= 0):
            raise ValueError("the queue's budget must be positive")
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.max_rows = max_rows
        self._insert_sync = "FULL" if durability == "full" else "NORMAL"
        # Autocommit mode: transactions are begun and ended explicitly below.
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        rows, size = self._db.execute("SELECT count(*), coalesce(sum(size), 0) FROM messages").fetchone()
        self._rows: int = rows
        self._bytes: int = size
        row = self._db.execute("SELECT value FROM counters WHERE name = 'dropped'").fetchone()
        self._dropped_total: int = row[0] if row else 0

    def close(self) -> None:
        """Closes the file; pending messages stay for the next start."""
        self._db.close()

    def stats(self) -> QueueStats:
        return QueueStats(self._rows, self._bytes, self._dropped_total)

    def put_many(self, messages: Sequence[OutgoingMessage]) -> tuple[list[int], list[DroppedRange]]:
        """Appends messages in order in one durable transaction; returns their ids and what the budget dropped."""
        if not messages:
            return [], []
        db = self._db
        db.execute(f"PRAGMA synchronous={self._insert_sync}")
        db.execute("BEGIN IMMEDIATE")
        try:
            ids = []
            for message in messages:
                size = len(message.payload) + len(message.topic) + ROW_OVERHEAD_BYTES
                cursor = db.execute(
                    "INSERT INTO messages (device_id, seq, topic, payload, retain, size) VALUES (?, ?, ?, ?, ?, ?)",
                    (message.device_id, message.seq, message.topic, message.payload, message.retain, size),
                )
                ids.append(int(cursor.lastrowid or 0))
                self._rows += 1
                self._bytes += size
            self._remember_seqs(messages)
            dropped = self._enforce_budget()
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            self._reload_totals()
            raise
        if dropped:
            self._log_drops(dropped)
        return ids, dropped

    def peek(
        self, *, after_id: int, limit: int, devices: Collection[str] | None = None, exclude: bool = False
    ) -> list[StoredMessage]:
        """The oldest messages after `after_id`: of `devices` (or of all others when `exclude`), or of any device."""
        where = "id > ?"
        params: list[object] = [after_id]
        if devices is not None and (devices or not exclude):
            marks = ", ".join("?" * len(devices))
            where += f" AND device_id {'NOT IN' if exclude else 'IN'} ({marks})"
            params.extend(devices)
        # Only "?" placeholders are interpolated; every value is a bound parameter.
        query = f"SELECT id, device_id, seq, topic, payload, retain FROM messages WHERE {where} ORDER BY id LIMIT ?"  # noqa: S608
        rows = self._db.execute(query, (*params, limit)).fetchall()
        return [StoredMessage(r[0], r[1], r[2], r[3], bytes(r[4]), bool(r[5])) for r in rows]

    def delete(self, ids: Iterable[int]) -> int:
        """Removes acknowledged messages; returns how many were still there."""
        batch = list(ids)
        if not batch:
            return 0
        db = self._db
        # Not fsynced on its own: a lost deletion only means a re-send (see the module docstring).
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("BEGIN IMMEDIATE")
        try:
            removed = 0
            for start in range(0, len(batch), 500):
                chunk = batch[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                # Only "?" placeholders are interpolated; the ids are bound parameters.
                query = f"DELETE FROM messages WHERE id IN ({marks}) RETURNING size"  # noqa: S608
                sizes = db.execute(query, chunk).fetchall()
                removed += len(sizes)
                self._bytes -= sum(size for (size,) in sizes)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            self._reload_totals()
            raise
        self._rows -= removed
        return removed

    def get(self, ids: Iterable[int]) -> list[StoredMessage]:
        """The messages of `ids` still queued, in queue order."""
        wanted = list(ids)
        found: list[StoredMessage] = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            # Only "?" placeholders are interpolated; the ids are bound parameters.
            query = f"SELECT id, device_id, seq, topic, payload, retain FROM messages WHERE id IN ({marks})"  # noqa: S608
            found += [
                StoredMessage(r[0], r[1], r[2], r[3], bytes(r[4]), bool(r[5]))
                for r in self._db.execute(query, chunk)
            ]
        return sorted(found, key=lambda message: message.id)

    def delete_seqs(self, confirmed: Iterable[tuple[str, Iterable[tuple[int, int]]]]) -> list[int]:
        """Removes, per (device, inclusive seq ranges), the device's messages of those seqs; returns their ids."""
        db = self._db
        db.execute("PRAGMA synchronous=NORMAL")  # as `delete`: a lost deletion only means a re-send
        db.execute("BEGIN IMMEDIATE")
        try:
            removed: list[int] = []
            for device_id, ranges in confirmed:
                for first, last in ranges:
                    rows = db.execute(
                        "DELETE FROM messages WHERE device_id = ? AND seq BETWEEN ? AND ? RETURNING id, size",
                        (device_id, first, last),
                    ).fetchall()
                    removed += [queue_id for queue_id, _size in rows]
                    self._bytes -= sum(size for _id, size in rows)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            self._reload_totals()
            raise
        self._rows -= len(removed)
        return removed

    def last_seqs(self) -> dict[str, int]:
        """The last seq queued per device, ever: a restarted adapter continues after it."""
        return dict(self._db.execute("SELECT device_id, last_seq FROM device_seq").fetchall())

    def pending_devices(self) -> set[str]:
        """Devices with messages still waiting."""
        return {row[0] for row in self._db.execute("SELECT DISTINCT device_id FROM messages")}

    def _remember_seqs(self, messages: Sequence[OutgoingMessage]) -> None:
        latest: dict[str, int] = {}
        for message in messages:
            if message.seq is not None:
                latest[message.device_id] = max(message.seq, latest.get(message.device_id, -1))
        self._db.executemany(
            "INSERT INTO device_seq (device_id, last_seq) VALUES (?, ?) ON CONFLICT (device_id) "
            "DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)",
            latest.items(),
        )

    def _over_budget(self) -> bool:
        return (self.max_bytes is not None and self._bytes > self.max_bytes) or (
            self.max_rows is not None and self._rows > self.max_rows
        )

    def _enforce_budget(self) -> list[DroppedRange]:
        """Deletes the oldest rows until the queue fits its budget (inside the caller's transaction)."""
        if not self._over_budget():
            return []
        victims: list[tuple[int, str, int | None, int]] = []
        rows, size = self._rows, self._bytes
        cursor = self._db.execute("SELECT id, device_id, seq, size FROM messages ORDER BY id")
        for row in cursor:
            victims.append(row)
            rows, size = rows - 1, size - row[3]
            if not (
                (self.max_bytes is not None and size > self.max_bytes)
                or (self.max_rows is not None and rows > self.max_rows)
            ):
                break
        cursor.close()
        self._db.execute("DELETE FROM messages WHERE id <= ?", (victims[-1][0],))
        self._rows, self._bytes = rows, size
        self._dropped_total += len(victims)
        self._db.execute(
            "INSERT INTO counters (name, value) VALUES ('dropped', ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (self._dropped_total,),
        )
        return _summarise(victims)

    def _log_drops(self, dropped: list[DroppedRange]) -> None:
        count = sum(d.count for d in dropped)
        details = "; ".join(
            f"{d.device_id} x{d.count} (seq {d.first_seq}..{d.last_seq})"
            if d.first_seq is not None
            else f"{d.device_id} x{d.count}"
            for d in dropped[:10]
        )
        more = f"; and {len(dropped) - 10} more devices" if len(dropped) > 10 else ""
        logger.warning(
            "edge queue over its disk budget (%s): dropped the %d oldest message(s): %s%s; %d dropped in total",
            self._budget_text(),
            count,
            details,
            more,
            self._dropped_total,
        )

    def _budget_text(self) -> str:
        parts = []
        if self.max_bytes is not None:
            parts.append(f"{self.max_bytes} bytes")
        if self.max_rows is not None:
            parts.append(f"{self.max_rows} messages")
        return " / ".join(parts)

    def _reload_totals(self) -> None:
        rows, size = self._db.execute("SELECT count(*), coalesce(sum(size), 0) FROM messages").fetchone()
        self._rows, self._bytes = rows, size
        row = self._db.execute("SELECT value FROM counters WHERE name = 'dropped'").fetchone()
        self._dropped_total = row[0] if row else 0


def _summarise(victims: list[tuple[int, str, int | None, int]]) -> list[DroppedRange]:
    by_device: dict[str, list[int | None]] = {}
    for _id, device_id, seq, _size in victims:
        by_device.setdefault(device_id, []).append(seq)
    summary = []
    for device_id, seqs in by_device.items():
        known = [s for s in seqs if s is not None]
        summary.append(DroppedRange(device_id, len(seqs), min(known, default=None), max(known, default=None)))
    return summary
