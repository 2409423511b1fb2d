"""Reading what the account flows emailed, before any worker sends it: the outbox holds the link."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.outbox import EventType, OutboxEvent


async def account_emails(sessions: async_sessionmaker[AsyncSession], email: str) -> list[OutboxEvent]:
    """The account events addressed to `email`, oldest first."""
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.payload["email"].as_string() == email.lower())
            .order_by(OutboxEvent.occurred_at)
        )
        return [row for row in rows if row.event_type.startswith("account.")]


async def emailed_token(sessions: async_sessionmaker[AsyncSession], email: str, event_type: EventType) -> str:
    """The token of the newest link of `event_type` sent to `email`."""
    events = [event for event in await account_emails(sessions, email) if event.event_type == event_type]
    assert events, f"no {event_type} email to {email}"
    token: str = events[-1].payload["token"]
    return token
