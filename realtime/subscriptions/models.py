"""Subscription tables: the subscriptions, the events recorded for each, rest-hook deliveries, the outbox cursor."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, PublicIdMixin, TimestampMixin, UTCDateTime, utc_now


class FhirSubscription(PublicIdMixin, TimestampMixin, Base):
    """One client's interest in one topic, with its filters, channel and owner (whose scope it reads with)."""

    __tablename__ = "fhir_subscriptions"

    topic: Mapped[str] = mapped_column(String(200))
    # requested (rest-hook before its handshake), active, error, off
    status: Mapped[str] = mapped_column(String(16))
    # The filter's target: a patient, or a ward (vital signs and alarms only).
    patient_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    ward_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("wards.id", ondelete="CASCADE"))
    criteria: Mapped[str] = mapped_column(String(500))
    # The FHIR base the client used, for the fullUrls of notifications sent long after the request.
    base_url: Mapped[str] = mapped_column(String(500))
    channel_type: Mapped[str] = mapped_column(String(16))  # rest-hook, websocket
    endpoint: Mapped[str | None] = mapped_column(String(2000))
    # Extra headers the client asked to receive on each rest-hook POST ("Name: value").
    headers: Mapped[list[str]] = mapped_column(JSON, default=list)
    content: Mapped[str] = mapped_column(String(16))  # empty, id-only, full-resource
    heartbeat_period_s: Mapped[int | None] = mapped_column(Integer)
    # Kept in clear: the worker signs rest-hook notifications with it; shown to the client once.
    secret: Mapped[str] = mapped_column(String(128))
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(Text)
    # The owner's principal at creation: every event is checked against what they may read.
    # A user, or a SMART app acting as itself (backend services): no foreign key to users.
    owner_user_id: Mapped[uuid.UUID] = mapped_column(index=True)
    owner_role: Mapped[str] = mapped_column(String(16))
    owner_patient_id: Mapped[uuid.UUID | None] = mapped_column()
    # Set when a SMART app created it: the app's grant as its token carried it (the grant's id, the
    # token's family, is a backend service's app id). Events are filtered by these scopes, and the
    # subscription ends when the grant does (`record.still_authorised`).
    grant_id: Mapped[uuid.UUID | None] = mapped_column()
    grant_client_id: Mapped[str | None] = mapped_column(String(64))
    grant_scope: Mapped[str | None] = mapped_column(Text)
    grant_patient_id: Mapped[uuid.UUID | None] = mapped_column()
    events_since_start: Mapped[int] = mapped_column(Integer, default=0)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FhirSubscriptionEvent(Base):
    """One event of a subscription, numbered from 1, kept for `$events` until retention lets it go."""

    __tablename__ = "fhir_subscription_events"
    __table_args__ = (
        # The same happening is recorded once per subscription, however many api instances saw it.
        UniqueConstraint("subscription_id", "event_key"),
        Index("ix_fhir_subscription_events_subscription_id_number", "subscription_id", "number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("fhir_subscriptions.id", ondelete="CASCADE")
    )
    event_key: Mapped[str] = mapped_column(String(200))
    number: Mapped[int] = mapped_column(Integer, default=0)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    focus: Mapped[str] = mapped_column(String(200))
    # The focus as rendered when the event happened (for full-resource content), else None.
    resource: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class FhirHookDelivery(PublicIdMixin, Base):
    """One notification Bundle to POST to a rest-hook, retried with backoff until sent or dead."""

    __tablename__ = "fhir_hook_deliveries"
    __table_args__ = (Index("ix_fhir_hook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),)

    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("fhir_subscriptions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(24))  # handshake, heartbeat, event-notification
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # pending, sending, sent, dead
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FhirSubscriptionCursor(Base):
    """How far the subscription feed has read the outbox (appointments, lab results): one row."""

    __tablename__ = "fhir_subscription_cursor"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    event_id: Mapped[uuid.UUID] = mapped_column()
