"""The durable queue: order, persistence across reopening, the disk budget and its log line."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from edge.queue import ROW_OVERHEAD_BYTES, MessageQueue, OutgoingMessage


def message(device_id: str, seq: int, payload: bytes = b"{}") -> OutgoingMessage:
    return OutgoingMessage(
        device_id=device_id, topic=f"ownat/v1/devices/{device_id}/vitals", payload=payload, seq=seq
    )


def test_messages_come_out_in_the_order_they_went_in(tmp_path: Path) -> None:
    queue = MessageQueue(tmp_path / "queue.db")
    batch = [message(device, seq) for seq in range(5) for device in ("a", "b")]

    ids, dropped = queue.put_many(batch)
    out = queue.peek(after_id=0, limit=100)

    assert dropped == []
    assert ids == sorted(ids)
    assert [(m.device_id, m.seq) for m in out] == [(m.device_id, m.seq) for m in batch]
    assert [(m.device_id, m.seq) for m in queue.peek(after_id=0, limit=100, devices={"b"})] == [
        ("b", seq) for seq in range(5)
    ]
    assert {m.device_id for m in queue.peek(after_id=0, limit=100, devices={"b"}, exclude=True)} == {"a"}
    assert [m.seq for m in queue.peek(after_id=out[3].id, limit=2)] == [2, 2]
    queue.close()


def test_only_deleted_messages_leave_the_queue(tmp_path: Path) -> None:
    queue = MessageQueue(tmp_path / "queue.db")
    ids, _ = queue.put_many([message("a", seq) for seq in range(4)])

    assert queue.delete([ids[0], ids[2], 999_999]) == 2

    assert [m.seq for m in queue.peek(after_id=0, limit=10)] == [1, 3]
    assert queue.stats().pending == 2
    queue.close()


def test_pending_messages_and_seqs_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "queue.db"
    queue = MessageQueue(path)
    ids, _ = queue.put_many([message("a", seq, b"x" * 10) for seq in range(3)] + [message("b", 7)])
    queue.delete([ids[0]])
    before = queue.stats()
    queue.close()

    reopened = MessageQueue(path)

    assert [(m.device_id, m.seq, m.payload) for m in reopened.peek(after_id=0, limit=10)] == [
        ("a", 1, b"x" * 10),
        ("a", 2, b"x" * 10),
        ("b", 7, b"{}"),
    ]
    assert reopened.stats() == before
    assert reopened.last_seqs() == {"a": 2, "b": 7}
    assert reopened.pending_devices() == {"a", "b"}
    # New messages go after the old ones, never between them.
    new_ids, _ = reopened.put_many([message("a", 3)])
    assert new_ids[0] > max(ids)
    reopened.close()


@pytest.mark.parametrize("durability", ["full", "normal"])
def test_the_queue_runs_in_wal_mode_with_the_chosen_durability(tmp_path: Path, durability: str) -> None:
    queue = MessageQueue(tmp_path / "queue.db", durability=durability)  # type: ignore[arg-type]
    queue.put_many([message("a", 0)])

    assert queue._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # 2 = FULL, 1 = NORMAL: what the last insert committed with.
    assert queue._db.execute("PRAGMA synchronous").fetchone()[0] == (2 if durability == "full" else 1)
    queue.close()


def test_the_row_budget_drops_the_oldest_with_a_counter_and_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    queue = MessageQueue(tmp_path / "queue.db", max_rows=5)
    queue.put_many([message("a", seq) for seq in range(4)])

    with caplog.at_level(logging.WARNING, logger="edge.queue"):
        _, dropped = queue.put_many([message("b", 0), message("a", 4), message("b", 1)])

    assert [(d.device_id, d.count, d.first_seq, d.last_seq) for d in dropped] == [("a", 2, 0, 1)]
    assert [(m.device_id, m.seq) for m in queue.peek(after_id=0, limit=10)] == [
        ("a", 2),
        ("a", 3),
        ("b", 0),
        ("a", 4),
        ("b", 1),
    ]
    assert queue.stats().dropped_total == 2
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "dropped the 2 oldest message(s): a x2 (seq 0..1); 2 dropped in total" in record.getMessage()
    queue.close()


def test_the_byte_budget_drops_the_oldest_and_the_count_is_kept_across_restarts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "queue.db"
    one = len(message("a", 0, b"p" * 100).payload) + len(message("a", 0).topic) + ROW_OVERHEAD_BYTES
    queue = MessageQueue(path, max_bytes=one * 3)
    queue.put_many([message("a", seq, b"p" * 100) for seq in range(3)])
    assert queue.stats().dropped_total == 0

    with caplog.at_level(logging.WARNING, logger="edge.queue"):
        queue.put_many([message("a", 3, b"p" * 100)])
    queue.close()
    reopened = MessageQueue(path, max_bytes=one * 3)

    assert [m.seq for m in reopened.peek(after_id=0, limit=10)] == [1, 2, 3]
    assert reopened.stats().pending_bytes == one * 3
    assert reopened.stats().dropped_total == 1
    assert any("over its disk budget" in r.getMessage() for r in caplog.records)
    reopened.close()


def test_a_batch_larger_than_the_budget_keeps_its_newest_messages(tmp_path: Path) -> None:
    queue = MessageQueue(tmp_path / "queue.db", max_rows=3)

    _, dropped = queue.put_many([message("a", seq) for seq in range(10)])

    assert sum(d.count for d in dropped) == 7
    assert [m.seq for m in queue.peek(after_id=0, limit=10)] == [7, 8, 9]
    queue.close()


def test_a_budget_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="positive"):
        MessageQueue(tmp_path / "queue.db", max_rows=0)
