"""What ingestion keeps besides readings: refused messages (dead letters) and each device's latest status."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, PublicIdMixin, UTCDateTime, utc_now
from devices.vitals import DEVICE_ID_LENGTH

TOPIC_LENGTH = 512
# A dead letter keeps enough of the payload to diagnose it; an oversize message is not kept whole.
DEAD_LETTER_PAYLOAD_BYTES = 64 * 1024


class IngestDeadLetter(PublicIdMixin, Base):
    """A message the ingest workers refused, kept with its raw payload and the reason."""

    __tablename__ = "ingest_dead_letters"
    __table_args__ = (
        # Operators review the unresolved ones, newest first.
        Index("ix_ingest_dead_letters_resolved_received_at", "resolved", "received_at"),
        Index("ix_ingest_dead_letters_device_id_received_at", "device_id", "received_at"),
    )

    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    topic: Mapped[str] = mapped_column(String(TOPIC_LENGTH))
    # Set when the topic named a device, registered or not.
    device_id: Mapped[str | None] = mapped_column(String(DEVICE_ID_LENGTH))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    payload_size: Mapped[int] = mapped_column(Integer)
    # A stable short code for metrics (e.g. "invalid", "unknown-device") and the readable reason.
    reason_code: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    resolved: Mapped[bool] = mapped_column(default=False)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeviceLastStatus(Base):
    """The latest status a device reported (online, battery, sensor), one row per device."""

    __tablename__ = "device_status"

    device_id: Mapped[str] = mapped_column(String(DEVICE_ID_LENGTH), primary_key=True)
    online: Mapped[bool] = mapped_column()
    battery_pct: Mapped[int | None] = mapped_column()
    sensor_off: Mapped[bool] = mapped_column(default=False)
    firmware: Mapped[str | None] = mapped_column(String(64))
    # The device's own time for the status, and when the platform stored it.
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
