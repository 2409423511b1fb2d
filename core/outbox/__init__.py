"""The transactional outbox: a domain records an event in the same transaction as its change.

The event exists if and only if the change commits; `ownat worker` later turns it into
notifications (the `notifications` package). Payloads carry identifiers and times, not clinical content.
Account emails also carry the address and, for a link, its token: fan-out removes the token from the
payload once the email is written.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.bus import encode_message
from core.db import utc_now
from core.outbox.events import EventType
from core.outbox.models import OutboxEvent

__all__ = ["EventType", "OutboxEvent", "record", "record_once"]


def _plain(payload: dict[str, Any]) -> dict[str, Any]:
    # UUIDs, datetimes and enums become strings, as they do on the bus.
    plain: dict[str, Any] = json.loads(encode_message(payload))
    return plain


def record(session: AsyncSession, *, event_type: EventType, **payload: Any) -> OutboxEvent:
    """Adds the event to the session; it is written with the caller's transaction (flush or commit)."""
    event = OutboxEvent(id=uuid.uuid4(), event_type=event_type.value, payload=_plain(payload))
    event.occurred_at = utc_now()
    session.add(event)
    return event


async def record_once(
    session: AsyncSession,
    *,
    event_type: EventType,
    dedupe_key: str,
    occurred_at: datetime | None = None,
    **payload: Any,
) -> bool:
    """Inserts the event unless one with `dedupe_key` exists (even one being written concurrently)."""
    values = {
        "id": uuid.uuid4(),
        "event_type": event_type.value,
        "payload": _plain(payload),
        "dedupe_key": dedupe_key,
        "occurred_at": occurred_at or utc_now(),
    }
    dialect = session.get_bind().dialect.name
    # The only dialect-specific statement of the outbox: both dialects spell "ignore a duplicate".
    statement: Insert
    if dialect == "postgresql":
        statement = postgresql_insert(OutboxEvent).values(values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite_insert(OutboxEvent).values(values).on_conflict_do_nothing()
    else:
        statement = insert(OutboxEvent).values(values)
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]
