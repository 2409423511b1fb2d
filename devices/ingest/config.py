"""How one ingest worker is tuned; `ownat ingest` fills it from the command line and settings."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import timedelta

from devices import vitals
from devices.ingest.mqtt import MqttProtocol, SubscriptionOptions

DEFAULT_SHARE_GROUP = "ownat-ingest"


@dataclass(frozen=True, slots=True)
class IngestConfig:
    """Tuning of one worker. The defaults suit a hospital-sized stream on a small machine."""

    database_url: str
    broker_url: str
    # Unique per live worker (the broker disconnects the older of two connections with one id);
    # stable per worker, so that a persistent session (session_expiry_s > 0) is resumed on restart.
    client_id: str = field(default_factory=lambda: f"ownat-ingest-{socket.gethostname()}")
    share_group: str = DEFAULT_SHARE_GROUP
    mqtt_protocol: MqttProtocol = "5"
    # Unacknowledged messages the broker may send us (MQTT 5 receive maximum). It bounds the worker's
    # memory (at most this many payloads of up to 64 KiB each) and must exceed a batch's worth of
    # messages, or batches flush on the timer instead of by size.
    receive_maximum: int = 2000
    # 0: clean sessions, so a dead worker holds no share of the stream (see devices.ingest.mqtt).
    session_expiry_s: int = 0
    # A batch is written when it holds this many readings, or when its oldest message has waited
    # `flush_interval_s`: big enough for COPY to pay off, short enough to keep live data live.
    batch_max_readings: int = 5000
    flush_interval_s: float = 0.05
    binding_refresh_s: float = 5.0
    rollup_interval_s: float = 30.0
    storage_upkeep_interval_s: float = 3600.0
    retention_days: int = vitals.RETENTION_DAYS
    rollup_retention_days: int = vitals.ROLLUP_RETENTION_DAYS
    partition_days_ahead: int = vitals.PARTITION_DAYS_AHEAD
    retry_base_s: float = 0.2
    retry_cap_s: float = 10.0
    # False: an alarms-only worker (`ownat ingest --alarms-only`). It hands every message to its
    # observer on receipt and acknowledges it to the broker, and stores, publishes and acknowledges
    # to devices nothing: the storing workers, in a share group of their own, receive every message
    # too. Alarm evaluation then has a process (and an interpreter lock) of its own, and never waits
    # for the storage path however far behind it falls.
    stores_readings: bool = True
    # Readings older than this are dead-lettered ("too-old"): by default the raw readings' retention,
    # past which they would be deleted at once; far longer than an edge gateway's backlog.
    max_reading_age_days: float = vitals.RETENTION_DAYS

    @property
    def max_reading_age(self) -> timedelta:
        return timedelta(days=self.max_reading_age_days)

    def subscription(self) -> SubscriptionOptions:
        return SubscriptionOptions(
            client_id=self.client_id,
            share_group=self.share_group,
            protocol=self.mqtt_protocol,
            receive_maximum=self.receive_maximum,
            session_expiry_s=self.session_expiry_s,
        )
