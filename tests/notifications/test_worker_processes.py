"""Two real `ownat worker` processes on one PostgreSQL: every webhook delivered once, then a clean stop."""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from collections import Counter
from pathlib import Path

import pytest

from core.outbox import EventType
from notifications.models import DeliveryStatus
from tests.notifications.builders import (
    deactivate,
    notifications_of,
    record_event,
    subscription,
    worker_process,
)
from tests.notifications.servers import HttpRecorder

EVENTS = 40
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
async def test_two_worker_processes_deliver_each_event_once(sessions, settings, tmp_path) -> None:
    async with HttpRecorder().serving() as hook:
        hook_id = await subscription(sessions, hook.url, [EventType.INVOICE_ISSUED.value])
        ids = {
            str(
                await record_event(
                    sessions,
                    EventType.INVOICE_ISSUED,
                    invoice_id=uuid.uuid4(),
                    amount_minor=990,
                    currency="EUR",
                )
            )
            for _ in range(EVENTS)
        }
        processes = [
            worker_process(settings, tmp_path / f"worker-{n}.log", OWNAT_PROVIDER_TIMEOUT_S="30")
            for n in (1, 2)
        ]
        try:

            def all_arrived(requests) -> bool:
                return ids <= {json.loads(r.body)["id"] for r in requests}

            await asyncio.wait_for(hook.wait_until(all_arrived), timeout=120)
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            codes = [await asyncio.to_thread(process.wait, 60) for process in processes]
            await deactivate(sessions, hook_id)
    logs = "\n".join(p.read_text() for p in tmp_path.glob("worker-*.log"))
    assert codes == [0, 0], logs
    assert "notification worker stopped" in logs
    delivered = Counter(json.loads(r.body)["id"] for r in hook.requests)
    assert all(delivered[event_id] == 1 for event_id in ids)
    rows = await notifications_of(sessions, subscription_id=hook_id)
    assert len(rows) == EVENTS and {row.status for row in rows} == {DeliveryStatus.SENT}
