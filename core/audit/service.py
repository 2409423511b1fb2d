"""Recording audit entries and chaining them into the log.

Services call `record()` inside their unit of work. Entries wait on the session and are chained
and inserted just before it commits, so a change and its audit entry land together. When the
transaction fails instead, `core.sessions.transaction` writes them afterwards with outcome
"failure" (or "denied"), so refused and failed attempts are on the record too.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from core.audit.chain import entry_hash
from core.audit.context import client_address_var
from core.audit.models import GENESIS_HASH, AuditEvent
from core.db import utc_now
from core.identity.principal import Principal
from core.logging import request_id_var

PENDING_KEY = "ownat.audit.pending"
# Any constant works; it only has to be the same in every process appending to the chain.
CHAIN_LOCK_KEY = 0x0A0D17


def record(
    session: AsyncSession | Session,
    *,
    actor: Principal | None,
    action: str,
    resource_type: str,
    resource_id: object | None = None,
    patient_id: uuid.UUID | None = None,
    outcome: str = "success",
    detail: dict[str, Any] | None = None,
) -> None:
    """Queues an audit entry on the session; it is written when the session's transaction ends."""
    entry = {
        "id": uuid.uuid4(),
        "occurred_at": utc_now(),
        "actor_id": actor.user_id if actor else None,
        "actor_role": actor.role.value if actor else None,
        "action": action,
        "resource_type": resource_type,
        "resource_id": None if resource_id is None else str(resource_id),
        "patient_id": patient_id,
        "client_address": client_address_var.get(),
        "request_id": request_id_var.get(),
        "outcome": outcome,
        "detail": detail or {},
    }
    session.info.setdefault(PENDING_KEY, []).append(entry)


def take_pending(session: AsyncSession | Session) -> list[dict[str, Any]]:
    """Removes and returns the entries not yet written."""
    return list(session.info.pop(PENDING_KEY, []))


def append_entries(session: Session, entries: list[dict[str, Any]]) -> None:
    """Chains `entries` after the current head and inserts them (sync: runs inside commit)."""
    if not entries:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # One appender at a time keeps the chain linear; held only until this commit ends.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    head = connection.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    rows = []
    for entry in entries:
        seq += 1
        row = {**entry, "seq": seq, "prev_hash": prev_hash}
        row["hash"] = prev_hash = entry_hash(row)
        rows.append(row)
    connection.execute(insert(AuditEvent), rows)


def mark_failed(entries: list[dict[str, Any]], error: BaseException) -> list[dict[str, Any]]:
    """The entries of a transaction that did not commit, with the outcome and the error's code."""
    code = getattr(error, "code", type(error).__name__)
    return [
        {
            **entry,
            "outcome": "denied" if entry["outcome"] == "denied" else "failure",
            "detail": {**entry["detail"], "error": code},
        }
        for entry in entries
    ]
