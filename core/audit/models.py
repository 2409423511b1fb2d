"""The audit tables. Rows are only ever inserted; PostgreSQL also refuses UPDATE and DELETE by trigger.

`audit_events` holds the entries, each signed by the process that recorded it. `audit_seals` is the
chain: the sequencer seals committed entries in batches, each seal covering the entries after the
previous seal up to its own last (txid, seq), and carrying an HMAC over its content and the
previous seal's HMAC.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Identity, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utc_now

GENESIS_MAC = "0" * 64
_BIG_INTEGER = BigInteger().with_variant(Integer, "sqlite")


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_patient_id_seq", "patient_id", "seq"),
        Index("ix_audit_events_actor_id_seq", "actor_id", "seq"),
        Index("ix_audit_events_txid_seq", "txid", "seq"),
    )

    # From a database sequence at insert, without any lock; a gap is a transaction that rolled back.
    seq: Mapped[int] = mapped_column(_BIG_INTEGER, Identity(), primary_key=True)
    # The inserting transaction's id (PostgreSQL); 0 on SQLite, whose writers take turns. The
    # sequencer seals in (txid, seq) order, below the oldest transaction still running.
    txid: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    id: Mapped[uuid.UUID] = mapped_column(unique=True, default=uuid.uuid4)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    actor_id: Mapped[uuid.UUID | None]
    actor_role: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    resource_type: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[str | None] = mapped_column(String(128))
    patient_id: Mapped[uuid.UUID | None]
    client_address: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The signing key's id and the entry's HMAC (core.audit.entries); empty on legacy entries only.
    key_id: Mapped[str | None] = mapped_column(String(32))
    mac: Mapped[str | None] = mapped_column(String(64))
    # The SHA-256 chain of entries written before 0018_audit_chain (core.audit.legacy); empty since.
    legacy_prev_hash: Mapped[str | None] = mapped_column(String(64))
    legacy_hash: Mapped[str | None] = mapped_column(String(64))


class AuditSeal(Base):
    __tablename__ = "audit_seals"

    number: Mapped[int] = mapped_column(_BIG_INTEGER, primary_key=True, autoincrement=False)
    # The last entry sealed, in (txid, seq) order; the seal covers everything after the previous one.
    last_txid: Mapped[int] = mapped_column(BigInteger)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    entries: Mapped[int] = mapped_column(Integer)
    # Entries sealed from the first seal up to and including this one.
    size: Mapped[int] = mapped_column(BigInteger)
    # SHA-256 over the sealed entries' leaf hashes, in order.
    digest: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    key_id: Mapped[str] = mapped_column(String(32))
    prev_mac: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64), unique=True)
