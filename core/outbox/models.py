"""The outbox table: events written in the transaction of the change that caused them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, PublicIdMixin, UTCDateTime, utc_now

EVENT_TYPE_MAX_LENGTH = 64


class OutboxEvent(PublicIdMixin, Base):
    """One domain event; `dispatched_at` is set once the worker has turned it into notifications."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        # The worker only ever looks for what is still waiting, oldest first.
        Index(
            "ix_outbox_events_waiting",
            "occurred_at",
            postgresql_where=text("dispatched_at IS NULL"),
            sqlite_where=text("dispatched_at IS NULL"),
        ),
    )

    event_type: Mapped[str] = mapped_column(String(EVENT_TYPE_MAX_LENGTH))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Set for events that must exist once only (a reminder): a second insert is ignored.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
