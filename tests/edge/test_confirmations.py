"""The edge's bookkeeping of what awaits the platform's acknowledgement (pure: no broker)."""

from __future__ import annotations

from devices.protocol import decode_ack
from edge.confirmations import Confirmations, acked_device


def test_unconfirmed_messages_come_due_in_queue_order_and_each_waits_twice_as_long_next_time() -> None:
    book = Confirmations(timeout_s=5, cap_s=12, window=3)
    book.sent(11, "bed-1", 0, now=0.0)
    book.sent(12, "bed-2", 0, now=1.0)
    book.sent(13, "bed-1", 1, now=2.0)
    assert book.room == 0
    assert book.due(now=4.9, limit=10) == []
    assert book.due(now=6.5, limit=10) == [11, 12]  # sent again at 6.5: next due 10 s later
    assert book.due(now=7.0, limit=10) == [13]
    assert book.due(now=16.4, limit=10) == []
    assert book.due(now=16.5, limit=10) == [11, 12]  # then 12 s later: 20 s capped
    assert book.due(now=17.0, limit=10) == [13]
    assert book.due(now=28.4, limit=10) == []
    assert book.due(now=28.5, limit=10) == [11, 12]


def test_an_acknowledgement_confirms_exactly_the_seqs_it_names() -> None:
    book = Confirmations(timeout_s=5, cap_s=60, window=10)
    for queue_id, (device, seq) in enumerate(
        [("bed-1", 7), ("bed-1", 8), ("bed-2", 8), ("bed-1", 10)], start=1
    ):
        book.sent(queue_id, device, seq, now=0.0)
    book.confirm("bed-1", decode_ack(b'{"v":1,"seq":10,"seqs":[[8,8],[10,10]]}'))
    assert [queue_id for queue_id in range(1, 5) if queue_id in book] == [1, 3]
    assert book.room == 8
    assert book.due(now=5.0, limit=1) == [1]  # at most `limit`, the oldest first


def test_only_acknowledgement_topics_name_a_device() -> None:
    assert acked_device("ownat/v1/devices/bed-12/ack") == "bed-12"
    assert acked_device("ownat/v1/devices/bed-12/vitals") is None
    assert acked_device("ownat/v1/devices/a/b/ack") is None
    assert acked_device("elsewhere/bed-12/ack") is None
