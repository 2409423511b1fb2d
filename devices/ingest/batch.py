"""What the worker holds between receiving a message and acknowledging it, and what it writes."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from opentelemetry.trace import SpanContext

from devices.ingest.decode import DecodedReading
from devices.ingest.models import DEAD_LETTER_PAYLOAD_BYTES

# A stored reading: (time, device_id, patient_id, metric, value, unit), the column order of the table.
ReadingRow = tuple[datetime, str, uuid.UUID | None, str, float, str]
# Dead letters are named by their content, so writing one again (a redelivery, a retried batch)
# finds the row already there instead of adding a second.
_DEAD_LETTER_NAMESPACE = uuid.UUID("5b0c3a52-7f69-4d44-9c1b-8d1f0f1e7a01")
LOCAL = -1


@dataclass(slots=True)
class Received:
    """One MQTT message as it came off the wire, with what acknowledging it needs."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    # The connection it arrived on: an acknowledgement only makes sense on that connection.
    # LOCAL for a message handed over in-process (`IngestWorker.submit`), which has no broker to ack.
    generation: int
    received_at: datetime
    # W3C trace context from the publisher's MQTT 5 user properties; read only while tracing is on.
    traceparent: str | None = None
    tracestate: str | None = None

    @property
    def local(self) -> bool:
        return self.generation == LOCAL


@dataclass(slots=True)
class Classified:
    """A received message after decoding: what it carries, or why it is refused."""

    received: Received
    kind: Literal["vitals", "status", "events", "dead"]
    device_id: str | None = None
    # What the topic said it was, kept after a refusal for the metrics ("other" for a bad topic).
    topic_kind: str = "other"
    readings: list[DecodedReading] = field(default_factory=list)
    body: dict[str, Any] | None = None  # a status or an event, as published on the bus
    # The device's number for the message, to acknowledge it by; None when it gave none we can read.
    seq: int | None = None
    reason_code: str | None = None
    reason: str | None = None
    # Set for a local submission: resolved once the message's transaction committed.
    committed: asyncio.Future[None] | None = None
    # Handed to the batch observer (alarms) already: on receipt when its device was known.
    observed: bool = False
    # Its `ingest.receive` span, when tracing is on and the message's trace is sampled.
    trace: SpanContext | None = None

    def refuse(self, code: str, reason: str) -> None:
        """Turns this message into a dead letter."""
        self.kind, self.reason_code, self.reason, self.readings = "dead", code, reason, []


@dataclass(frozen=True, slots=True)
class DeadLetterRow:
    id: uuid.UUID
    received_at: datetime
    topic: str
    device_id: str | None
    payload: bytes
    payload_size: int
    reason_code: str
    reason: str

    @classmethod
    def of(cls, message: Classified) -> DeadLetterRow:
        received = message.received
        digest = hashlib.sha256(received.payload).hexdigest()
        return cls(
            id=uuid.uuid5(_DEAD_LETTER_NAMESPACE, f"{received.topic}\0{digest}"),
            received_at=received.received_at,
            topic=received.topic[:512],
            device_id=message.device_id,
            payload=received.payload[:DEAD_LETTER_PAYLOAD_BYTES],
            payload_size=len(received.payload),
            reason_code=message.reason_code or "invalid",
            reason=message.reason or "",
        )


@dataclass(frozen=True, slots=True)
class StatusRow:
    device_id: str
    online: bool
    battery_pct: int | None
    sensor_off: bool
    firmware: str | None
    reported_at: datetime
    received_at: datetime


@dataclass(slots=True)
class WriteBatch:
    """Everything one transaction writes."""

    readings: list[ReadingRow] = field(default_factory=list)
    dead_letters: list[DeadLetterRow] = field(default_factory=list)
    statuses: dict[str, StatusRow] = field(default_factory=dict)

    def add_status(self, row: StatusRow) -> None:
        """Keeps the newest status per device: only that one would survive the upsert anyway."""
        current = self.statuses.get(row.device_id)
        if current is None or current.reported_at <= row.reported_at:
            self.statuses[row.device_id] = row
