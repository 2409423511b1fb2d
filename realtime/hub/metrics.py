"""The hub's Prometheus metrics, on the api's registry, and whether the api process keeps up.

The app creates one `HubMetrics` on its registry and hands it to each hub it starts (a hub may be
restarted on the same app, the metrics are not). `watch_loop_lag`, run by the hub, measures how late
a sleep wakes: the time every coroutine of the process waits for the event loop, bus reads and
socket writes included. Its decision and thresholds are `core.overload`'s.
"""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from core.overload import HUB_POLICY, OverloadDetector, OverloadPolicy, OverloadReport
from core.tracing import LIVE_HOP_BUCKETS
from realtime.hub.messages import CLOSE_HEARTBEAT_TIMEOUT, CLOSE_TOO_SLOW

# Why a client is resynchronised: its queue overflowed, or the bus reconnected (messages may be lost).
RESYNC_REASONS = ("slow-consumer", "bus-reconnected")
# The closes that say a client could not keep up (or the process could not serve it): counted by reason.
DROP_REASONS = {CLOSE_TOO_SLOW: "too-slow", CLOSE_HEARTBEAT_TIMEOUT: "heartbeat-timeout"}


class HubMetrics:
    """Counters of clients falling behind, the api's event-loop lag with its overload flag, and the
    live path's last two hops (a ward's readings from the bus to each dashboard's socket)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.resyncs = Counter(
            "ownat_hub_resyncs",
            "Clients sent a resync and fresh snapshots, by reason",
            ["reason"],
            registry=r,
        )
        self.clients_dropped = Counter(
            "ownat_hub_clients_dropped",
            "Clients closed for falling behind (too-slow) or not answering pings, by reason",
            ["reason"],
            registry=r,
        )
        self.loop_lag = Gauge(
            "ownat_hub_loop_lag_seconds", "How late the api's event loop wakes a sleep, smoothed", registry=r
        )
        self.overloaded = Gauge(
            "ownat_hub_overloaded",
            "1 while the event loop has lagged for a sustained time (see core.overload), else 0",
            registry=r,
        )
        self.overload_episodes = Counter(
            "ownat_hub_overload_episodes", "Times the api process turned overloaded", registry=r
        )
        self.bus_to_receive = Histogram(
            "ownat_hub_bus_to_receive_seconds",
            "From the ingest worker's publication of a ward's readings to their receipt by this hub",
            buckets=LIVE_HOP_BUCKETS,
            registry=r,
        )
        self.receive_to_send = Histogram(
            "ownat_hub_receive_to_send_seconds",
            "From the hub's receipt of a ward's readings to the vitals frame holding them sent on a "
            "dashboard's socket (per socket)",
            buckets=LIVE_HOP_BUCKETS,
            registry=r,
        )
        self.alarm_receive_to_send = Histogram(
            "ownat_hub_alarm_receive_to_send_seconds",
            "From the hub's receipt of an alarm change to its frame sent on a dashboard's socket (per socket)",
            buckets=LIVE_HOP_BUCKETS,
            registry=r,
        )
        # The watchdog of alarm evaluation (`realtime.hub.alarm_watch`): alert on running == 0.
        self.alarm_evaluation_running = Gauge(
            "ownat_alarm_evaluation_running",
            "0 when no alarm evaluator has been heard for OWNAT_ALARM_WATCHDOG_S (alarms are not being "
            "raised, or do not reach this api instance), else 1",
            registry=r,
        )
        self.alarm_evaluation_silent = Gauge(
            "ownat_alarm_evaluation_silent_seconds",
            "Seconds since this api instance last heard an alarm evaluator's heartbeat",
            registry=r,
        )
        self.alarm_evaluators = Gauge(
            "ownat_alarm_evaluators", "Alarm evaluators heard within OWNAT_ALARM_WATCHDOG_S", registry=r
        )
        # Every reason at 0 from the start, so that a rate is defined before the first one happens.
        for reason in RESYNC_REASONS:
            self.resyncs.labels(reason)
        for reason in DROP_REASONS.values():
            self.clients_dropped.labels(reason)

    def dropped(self, close_code: int) -> None:
        """Counts a connection closed with `close_code`, if it is one that says "could not keep up"."""
        reason = DROP_REASONS.get(close_code)
        if reason is not None:
            self.clients_dropped.labels(reason).inc()


async def watch_loop_lag(metrics: HubMetrics, *, policy: OverloadPolicy = HUB_POLICY) -> None:
    """Measures the event loop's lag every `policy.sample_interval_s` until cancelled."""
    loop = asyncio.get_running_loop()
    detector = OverloadDetector(policy)
    report = OverloadReport("api", metrics.loop_lag, metrics.overloaded, metrics.overload_episodes)
    interval_s = policy.sample_interval_s
    while True:
        asked_at = loop.time()
        await asyncio.sleep(interval_s)
        now = loop.time()
        report.show(detector, changed=detector.update(max(0.0, now - asked_at - interval_s), now=now))
