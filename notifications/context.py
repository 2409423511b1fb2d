"""The values an event's templates need, looked up once per event (not per recipient)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from clinical.organisation import Bed, Department, Ward
from core.outbox import EventType

# ISO 4217 currencies without minor units; every other one we serve has two.
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "XAF", "XOF", "CLP", "ISK", "VND", "UGX", "RWF"})


@dataclass(frozen=True, slots=True)
class EventContext:
    values: dict[str, str]
    # Shown in each recipient's own time zone.
    at: datetime | None


def format_amount(amount_minor: int, currency: str) -> str:
    """ "EUR 12.34" from 1234 minor units, without passing through a float."""
    if currency.upper() in ZERO_DECIMAL_CURRENCIES:
        return f"{currency.upper()} {amount_minor}"
    sign = "-" if amount_minor < 0 else ""
    units, cents = divmod(abs(amount_minor), 100)
    return f"{currency.upper()} {sign}{units}.{cents:02d}"


def local_time(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


async def _location(session: AsyncSession, payload: dict[str, Any]) -> str:
    parts = []
    if payload.get("ward_id") and (ward := await session.get(Ward, uuid.UUID(payload["ward_id"]))):
        parts.append(ward.name)
    if payload.get("bed_id") and (bed := await session.get(Bed, uuid.UUID(payload["bed_id"]))):
        parts.append(f"bed {bed.label}")
    return ", ".join(parts) or "an unassigned bed"


async def event_context(session: AsyncSession, *, event_type: str, payload: dict[str, Any]) -> EventContext:
    """Template values of the event; times stay datetimes until a recipient's zone is known."""
    values: dict[str, str] = {}
    at: datetime | None = None
    if payload.get("start_at"):
        at = datetime.fromisoformat(payload["start_at"])
    if event_type == EventType.ALARM_ESCALATED:
        values |= {
            "location": await _location(session, payload),
            "code": str(payload.get("code", "")),
            "priority": str(payload.get("priority", "high")),
        }
        at = datetime.fromisoformat(payload["raised_at"]) if payload.get("raised_at") else None
    if payload.get("department_id") and (
        department := await session.get(Department, uuid.UUID(payload["department_id"]))
    ):
        values["department"] = department.name
    if payload.get("amount_minor") is not None and payload.get("currency"):
        values["amount"] = format_amount(int(payload["amount_minor"]), str(payload["currency"]))
    return EventContext(values=values, at=at)
