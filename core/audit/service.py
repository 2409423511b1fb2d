"""Recording audit entries.

Services call `record()` inside their unit of work. Entries wait on the session and are signed and
inserted just before it commits, so a change and its audit entry land together. When the
transaction fails instead, `core.sessions.transaction` writes them afterwards with outcome
"failure" (or "denied"), so refused and failed attempts are on the record too.

Appending takes no lock: the database numbers entries from a sequence, and the sequencer
(`core.audit.sequencer`) chains committed entries into seals later, in batches.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from core.audit.context import client_address_var
from core.audit.entries import sign_entry
from core.audit.horizon import current_txid
from core.audit.keys import AuditKeyring
from core.audit.models import AuditEvent
from core.db import RUNS_ALONE, utc_now
from core.logging import request_id_var
from core.principal import Principal

PENDING_KEY = "ownat.audit.pending"
# Where a session finds the keys that sign its entries (set by core.sessions.create_sessionmaker).
KEYRING_KEY = "ownat.audit.keyring"


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
    """Signs `entries` and inserts them in one statement, without any lock (sync: runs inside commit)."""
    if not entries:
        return
    keyring: AuditKeyring = session.info[KEYRING_KEY]
    connection = session.connection()
    txid = current_txid(connection.dialect.name)
    rows = [{**sign_entry(keyring.active, entry), "txid": txid} for entry in entries]
    # One statement for all the entries: atomic on its own, so when the unit of work wrote nothing
    # else and no transaction is open, it needs none (core.db.RUNS_ALONE). inline(): nothing to
    # fetch back (no RETURNING of the numbers).
    statement = insert(AuditEvent).values(rows).inline().execution_options(**{RUNS_ALONE: True})
    connection.execute(statement)


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
