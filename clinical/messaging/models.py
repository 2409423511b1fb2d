"""Message tables: threads (one patient, one care team), messages, their attachments, read markers."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, PublicIdMixin, TimestampMixin, UTCDateTime, utc_now, value_set_column

SUBJECT_MAX_LENGTH = 200
BODY_MAX_LENGTH = 5000


class ThreadStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class MessageThread(PublicIdMixin, TimestampMixin, Base):
    """A conversation between a patient and the care team of one department."""

    __tablename__ = "message_threads"
    __table_args__ = (
        # The triage inbox: a department's threads, those waiting for the team first, newest first.
        Index("ix_message_threads_department_triage", "department_id", "status", "last_message_at"),
        Index("ix_message_threads_patient_id_last_message_at", "patient_id", "last_message_at"),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
    department_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"))
    subject: Mapped[str] = mapped_column(String(SUBJECT_MAX_LENGTH))
    status: Mapped[ThreadStatus] = mapped_column(value_set_column(ThreadStatus, "thread_status", 16))
    started_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    # True while the patient's last message has no answer from the team: what triage looks at.
    awaiting_team: Mapped[bool] = mapped_column(default=False)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))


class Message(PublicIdMixin, Base):
    """One message of a thread. Messages are part of the medical record: never edited or deleted."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_thread_id_created_at", "thread_id", "created_at"),)

    thread_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("message_threads.id", ondelete="RESTRICT"))
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # The author's role when writing ("patient", "clinician", ...), kept as it was then.
    author_role: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class MessageAttachment(Base):
    """A document of the patient's record sent with a message (uploaded through the documents service)."""

    __tablename__ = "message_attachments"

    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("messages.id", ondelete="RESTRICT"), primary_key=True
    )
    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id", ondelete="RESTRICT"), primary_key=True, unique=True
    )


class ThreadReadMarker(Base):
    """How far one user has read one thread; messages after `read_up_to` are unread for them."""

    __tablename__ = "message_read_markers"

    thread_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("message_threads.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    read_up_to: Mapped[datetime] = mapped_column(UTCDateTime)
