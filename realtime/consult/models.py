"""Consult tables: one session per video appointment, its timeline, its chat, and guest invitations."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, PublicIdMixin, TimestampMixin, UTCDateTime, value_set_column

TOKEN_HASH_LENGTH = 64  # hex SHA-256


class ConsultEventKind(enum.StrEnum):
    JOIN = "join"
    ADMIT = "admit"
    LEAVE = "leave"
    REMOVE = "remove"
    END = "end"


class ConsultRole(enum.StrEnum):
    CLINICIAN = "clinician"
    PATIENT = "patient"
    GUEST = "guest"
    RECORDER = "recorder"


class ConsultSession(PublicIdMixin, TimestampMixin, Base):
    """The consultation of one video appointment: from the first admission to its end."""

    __tablename__ = "consult_sessions"
    __table_args__ = (
        CheckConstraint("ended_at IS NULL OR opened_at <= ended_at", name="ended_after_opened"),
    )

    appointment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("appointments.id", ondelete="RESTRICT"), unique=True
    )
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"), index=True)
    # Set when the clinician first admits someone: the encounter of the appointment, created or linked.
    encounter_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("encounters.id", ondelete="RESTRICT"), unique=True
    )
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # First admission to end: the billable duration of the consultation.
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ConsultEvent(PublicIdMixin, Base):
    """One step of the timeline: who joined, was admitted, left, was removed; when it ended."""

    __tablename__ = "consult_events"
    __table_args__ = (
        Index("ix_consult_events_consult_session_id_occurred_at", "consult_session_id", "occurred_at"),
    )

    consult_session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("consult_sessions.id", ondelete="CASCADE")
    )
    kind: Mapped[ConsultEventKind] = mapped_column(
        value_set_column(ConsultEventKind, "consult_event_kind", 16)
    )
    participant_id: Mapped[uuid.UUID] = mapped_column()  # the connection id in the room
    role: Mapped[ConsultRole] = mapped_column(value_set_column(ConsultRole, "consult_role", 16))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    invitation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("consult_invitations.id", ondelete="SET NULL")
    )
    display_name: Mapped[str] = mapped_column(String(80))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConsultChatMessage(PublicIdMixin, Base):
    """A chat line of the consultation, kept with its encounter."""

    __tablename__ = "consult_chat_messages"
    __table_args__ = (
        Index("ix_consult_chat_messages_consult_session_id_sent_at", "consult_session_id", "sent_at"),
    )

    consult_session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("consult_sessions.id", ondelete="CASCADE")
    )
    encounter_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("encounters.id", ondelete="RESTRICT"), index=True
    )
    participant_id: Mapped[uuid.UUID] = mapped_column()
    role: Mapped[ConsultRole] = mapped_column(value_set_column(ConsultRole, "consult_role", 16))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    invitation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("consult_invitations.id", ondelete="SET NULL")
    )
    display_name: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConsultInvitation(PublicIdMixin, TimestampMixin, Base):
    """A single-use link for a guest; only the SHA-256 of its token is kept."""

    __tablename__ = "consult_invitations"
    __table_args__ = (Index("ix_consult_invitations_appointment_id", "appointment_id"),)

    appointment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(TOKEN_HASH_LENGTH), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Revoked by the clinician, or spent when the guest is removed from the room.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
