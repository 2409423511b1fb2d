"""The development mailbox of `ownat dev`: the emails it would have sent, for a newcomer to read.

Only `ownat dev` turns it on, only in the development environment and only without an SMTP server;
the page that shows it exists nowhere else (see `api.dev_mail`).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.models import Channel, DeliveryStatus, Notification

MAILBOX_SIZE = 50


class DevEmail(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    address: str | None
    title: str
    body: str
    status: DeliveryStatus
    created_at: datetime


async def recent_emails(*, session: AsyncSession, limit: int = MAILBOX_SIZE) -> list[DevEmail]:
    """The newest emails, sent or waiting."""
    rows = await session.scalars(
        select(Notification)
        .where(Notification.channel == Channel.EMAIL)
        .order_by(Notification.created_at.desc(), Notification.id)
        .limit(limit)
    )
    return [DevEmail.model_validate(row) for row in rows]
