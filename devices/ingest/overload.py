"""Whether the worker keeps up: how long its oldest uncommitted message has waited since receipt.

Measured from receipt, not from the reading's own time (a device's clock may be wrong), and sampled
on a timer rather than at each message or commit: it keeps growing while nothing commits (a stalled
database), and costs the pipeline nothing. The decision and its thresholds are `core.overload`'s.
While the worker is behind, the broker keeps what exceeds `--receive-maximum` for it, so this
lateness levels off at about `receive_maximum / throughput`; `pending_messages` at that maximum
says the same from the other side.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime

from core.db import utc_now
from core.overload import INGEST_POLICY, OverloadDetector, OverloadPolicy, OverloadReport
from devices.ingest.metrics import IngestMetrics


async def watch_backlog(
    oldest_uncommitted: Callable[[], datetime | None],
    metrics: IngestMetrics,
    *,
    policy: OverloadPolicy = INGEST_POLICY,
) -> None:
    """Samples the wait of the oldest uncommitted message (its receipt time, or None) until cancelled."""
    detector = OverloadDetector(policy)
    report = OverloadReport("ingest", metrics.behind_seconds, metrics.overloaded, metrics.overload_episodes)
    while True:
        await asyncio.sleep(policy.sample_interval_s)
        oldest = oldest_uncommitted()
        waited_s = 0.0 if oldest is None else max(0.0, (utc_now() - oldest).total_seconds())
        report.show(detector, changed=detector.update(waited_s, now=time.monotonic()))
