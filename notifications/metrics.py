"""The notification worker's Prometheus metrics: deliveries by channel and outcome, how long after
its event each notification went out, events fanned out, and the providers' circuit breakers.

Unregistered until `register` (the `ownat worker` process registers them on its registry), so that
a worker built in a test or in the embedded mode registers nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Histogram

from core.circuit_breaker import BreakerMetrics, CircuitBreaker

# From an event to its notification sent: seconds when healthy, minutes when a provider retries
# (quiet hours hold some for hours: those land in +Inf).
EVENT_TO_SENT_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


class WorkerMetrics:
    """Counters of one worker's outbox fan-out and deliveries, with its breakers' states."""

    def __init__(self, breakers: Callable[[], list[CircuitBreaker]]) -> None:
        self.breakers = BreakerMetrics(breakers)
        self.events_dispatched = Counter(
            "ownat_notifications_events_dispatched",
            "Outbox events fanned out into notifications",
            registry=None,
        )
        self.deliveries = Counter(
            "ownat_notifications_deliveries",
            "Delivery attempts by channel and outcome (sent, pending: to retry, dead, lost-lease)",
            ["channel", "outcome"],
            registry=None,
        )
        self.event_to_sent = Histogram(
            "ownat_notifications_event_to_sent_seconds",
            "From the outbox event to its notification sent, by channel",
            ["channel"],
            buckets=EVENT_TO_SENT_BUCKETS,
            registry=None,
        )

    def register(self, registry: CollectorRegistry) -> None:
        """Exports them all on `registry`."""
        for collector in (self.breakers, self.events_dispatched, self.deliveries, self.event_to_sent):
            registry.register(collector)
