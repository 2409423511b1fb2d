"""What the database knows about ingestion's health: ingest rate, live devices, dead letters.

Read by the administrators' system page. Every figure is one indexed aggregate; nothing here scans a
whole table. Readings are counted by their measurement time, the only time the vitals table keeps.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utc_now
from devices.ingest.models import DeviceLastStatus, IngestDeadLetter
from devices.vitals import VitalReading

CONNECTED_WINDOW = timedelta(minutes=5)
NEWEST_DEAD_LETTERS = 10


class IngestRate(BaseModel):
    last_minute: int = Field(description="readings measured in the last minute")
    last_hour: int = Field(description="readings measured in the last hour")
    per_second_last_minute: float


class ReasonCount(BaseModel):
    reason_code: str
    count: int


class DeadLetterRead(BaseModel):
    id: uuid.UUID
    received_at: datetime
    topic: str
    device_id: str | None
    reason_code: str
    reason: str
    payload_size: int


class DeadLetters(BaseModel):
    unresolved: int
    total: int
    by_reason: list[ReasonCount] = Field(description="unresolved ones, most frequent first")
    newest: list[DeadLetterRead]


class IngestStatus(BaseModel):
    checked_at: datetime
    ingest: IngestRate
    connected_devices: int = Field(
        description="devices that sent a reading or a status in the last 5 minutes"
    )
    dead_letters: DeadLetters


async def ingest_status(*, session: AsyncSession) -> IngestStatus:
    """Ingestion's health as the database sees it now."""
    now = utc_now()
    minute = await _readings_since(session, now - timedelta(minutes=1))
    return IngestStatus(
        checked_at=now,
        ingest=IngestRate(
            last_minute=minute,
            last_hour=await _readings_since(session, now - timedelta(hours=1)),
            per_second_last_minute=round(minute / 60, 2),
        ),
        connected_devices=await _connected_devices(session, now - CONNECTED_WINDOW),
        dead_letters=await _dead_letters(session),
    )


async def _readings_since(session: AsyncSession, since: datetime) -> int:
    query = select(func.count()).select_from(VitalReading).where(VitalReading.time >= since)
    return int(await session.scalar(query) or 0)


async def _connected_devices(session: AsyncSession, since: datetime) -> int:
    recent = union(
        select(VitalReading.device_id).where(VitalReading.time >= since),
        select(DeviceLastStatus.device_id).where(DeviceLastStatus.received_at >= since),
    ).subquery()
    return int(await session.scalar(select(func.count()).select_from(recent)) or 0)


async def _dead_letters(session: AsyncSession) -> DeadLetters:
    letter = IngestDeadLetter
    total = await session.scalar(select(func.count()).select_from(letter))
    unresolved = await session.scalar(select(func.count()).select_from(letter).where(~letter.resolved))
    count = func.count().label("count")
    reasons = await session.execute(
        select(letter.reason_code, count)
        .where(~letter.resolved)
        .group_by(letter.reason_code)
        .order_by(count.desc(), letter.reason_code)
    )
    newest = await session.scalars(
        select(letter).order_by(letter.received_at.desc()).limit(NEWEST_DEAD_LETTERS)
    )
    return DeadLetters(
        unresolved=int(unresolved or 0),
        total=int(total or 0),
        by_reason=[ReasonCount(reason_code=code, count=n) for code, n in reasons.all()],
        newest=[
            DeadLetterRead(
                id=row.id,
                received_at=row.received_at,
                topic=row.topic,
                device_id=row.device_id,
                reason_code=row.reason_code,
                reason=row.reason,
                payload_size=row.payload_size,
            )
            for row in newest
        ],
    )
