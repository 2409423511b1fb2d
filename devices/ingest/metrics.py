"""The worker's Prometheus metrics, on a registry of its own (served by `--metrics-port`)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from core.tracing import LIVE_HOP_BUCKETS

# Batches take milliseconds when healthy and seconds when the database struggles.
BATCH_SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# From a reading's own time to its commit: the freshness a dashboard sees (device clocks included).
READING_DELAY_BUCKETS = (
    0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75,
    1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0,
)  # fmt: skip


class IngestMetrics:
    """Counters, gauges and histograms of one ingest worker."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.messages = Counter(
            "ownat_ingest_messages",
            "MQTT messages processed, by kind and outcome",
            ["kind", "outcome"],
            registry=r,
        )
        self.readings_stored = Counter("ownat_ingest_readings_stored", "Readings newly stored", registry=r)
        self.readings_duplicate = Counter(
            "ownat_ingest_readings_duplicate",
            "Readings ignored because already stored (redelivery)",
            registry=r,
        )
        self.dead_letters = Counter(
            "ownat_ingest_dead_letters", "Messages dead-lettered, by reason", ["reason"], registry=r
        )
        self.batch_seconds = Histogram(
            "ownat_ingest_batch_seconds",
            "Time to write and commit one batch",
            buckets=BATCH_SECONDS_BUCKETS,
            registry=r,
        )
        self.batch_readings = Histogram(
            "ownat_ingest_batch_readings",
            "Readings per committed batch",
            buckets=(1, 10, 100, 500, 1000, 2500, 5000, 10000, 20000),
            registry=r,
        )
        self.reading_delay = Histogram(
            "ownat_ingest_reading_delay_seconds",
            "From the newest reading of a message to its commit",
            buckets=READING_DELAY_BUCKETS,
            registry=r,
        )
        # The live path's hops through this worker (docs/observability.md).
        self.publish_to_receive = Histogram(
            "ownat_ingest_publish_to_receive_seconds",
            "From the newest reading of a message (the device's clock) to its receipt by the worker",
            buckets=LIVE_HOP_BUCKETS,
            registry=r,
        )
        self.receive_to_commit = Histogram(
            "ownat_ingest_receive_to_commit_seconds",
            "From a message's receipt to the commit of the batch holding it",
            buckets=LIVE_HOP_BUCKETS,
            registry=r,
        )
        self.commit_to_bus = Histogram(
            "ownat_ingest_commit_to_bus_seconds",
            "From a device's committed readings to their publication on the bus (per device and round)",
            buckets=LIVE_HOP_BUCKETS,
            registry=r,
        )
        self.write_failures = Counter(
            "ownat_ingest_write_failures", "Batch writes that failed and will be retried", registry=r
        )
        self.database_up = Gauge(
            "ownat_ingest_database_up", "1 while batches commit, 0 while retrying", registry=r
        )
        self.mqtt_connected = Gauge(
            "ownat_ingest_mqtt_connected", "1 while connected and subscribed to the broker", registry=r
        )
        self.pending_messages = Gauge(
            "ownat_ingest_pending_messages", "Messages received and not yet acknowledged", registry=r
        )
        self.acks_published = Counter(
            "ownat_ingest_acks_published",
            "End-to-end acknowledgements published to devices after commits",
            registry=r,
        )
        self.bus_published = Counter(
            "ownat_ingest_bus_published", "Messages published on the bus", registry=r
        )
        self.bus_dropped = Counter(
            "ownat_ingest_bus_dropped",
            "Bus messages given up (bus down or far behind); dashboards resync",
            registry=r,
        )
        # Whether the worker keeps up (`devices.ingest.overload`): sampled on a timer, not per message.
        self.behind_seconds = Gauge(
            "ownat_ingest_behind_seconds",
            "How long the oldest received and uncommitted message has waited, smoothed",
            registry=r,
        )
        self.overloaded = Gauge(
            "ownat_ingest_overloaded",
            "1 while the worker has been behind for a sustained time (see core.overload), else 0",
            registry=r,
        )
        self.overload_episodes = Counter(
            "ownat_ingest_overload_episodes", "Times the worker turned overloaded", registry=r
        )
