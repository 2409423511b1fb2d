"""Finishing consultations nobody ended: the room closed (`OWNAT_CONSULT_CLOSES_AFTER_S` after the
scheduled end) while the encounter was still in progress, because the clinician closed the tab
instead of sending "end". Left alone, the encounter would run forever and the appointment would
never complete, so neither billing nor the records would see the visit.

`ownat worker` runs `close_abandoned_consultations` once a minute. Each one is finished as
`records.end_consultation` finishes it, by SYSTEM, and audited with the reason. Its end time is the
last step of its timeline (typically everyone's socket dropping), not the moment the job runs, so a
consultation is not billed for the hour its room stayed open, nor for the job's delay.

Claimed by locking the encounter with SKIP LOCKED, the order in which "end" locks too (encounter,
then session): a second worker skips what the first holds, and what it finds afterwards no longer
matches. Each batch is one transaction, each consultation a savepoint within it, so one that fails
does not undo or hold up the others.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.encounters import Encounter, EncounterStatus
from clinical.scheduling import Appointment
from core.errors import DomainError
from core.resources import Resources
from core.sessions import transaction
from core.settings import Settings
from realtime.consult import records
from realtime.consult.models import ConsultEvent, ConsultSession
from realtime.consult.rooms import room_hours

log = logging.getLogger(__name__)
REASON = "The consult room closed without the clinician ending the consultation."


async def run_room_closing(resources: Resources, *, now: datetime) -> int:
    """One pass with the process's database and settings; how many consultations were finished."""
    return await close_abandoned_consultations(
        sessions=resources.sessions, settings=resources.settings, now=now
    )


async def close_abandoned_consultations(
    *, sessions: async_sessionmaker[AsyncSession], settings: Settings, now: datetime, batch: int = 20
) -> int:
    """Finishes, batch by batch, every consultation whose room closed before `now` without "end"."""
    finished = 0
    # Refused ones wait for a person, and the pass must not claim them again and again.
    tried: list[uuid.UUID] = []
    while True:
        async with transaction(sessions) as session:
            claimed = await _claim(session, settings=settings, now=now, skip=tried, limit=batch)
            for consult, appointment in claimed:
                tried.append(consult.id)
                if await _close_one(session, consult, appointment, settings=settings, now=now):
                    finished += 1
        if len(claimed) < batch:
            return finished


async def _claim(
    session: AsyncSession, *, settings: Settings, now: datetime, skip: list[uuid.UUID], limit: int
) -> list[tuple[ConsultSession, Appointment]]:
    # The SQL form of "room_hours(...)[1] < now"; _close_one checks it again with room_hours itself.
    ended_before = now - timedelta(seconds=settings.consult_closes_after_s)
    rows = await session.execute(
        select(ConsultSession, Appointment)
        .join(Encounter, Encounter.id == ConsultSession.encounter_id)
        .join(Appointment, Appointment.id == ConsultSession.appointment_id)
        .where(
            ConsultSession.ended_at.is_(None),
            Encounter.status == EncounterStatus.IN_PROGRESS,
            Appointment.end_at < ended_before,
            ConsultSession.id.not_in(skip),
        )
        .order_by(Appointment.end_at)
        .limit(limit)
        .with_for_update(of=Encounter, skip_locked=True)
    )
    return [(consult, appointment) for consult, appointment in rows]


async def _close_one(
    session: AsyncSession,
    consult: ConsultSession,
    appointment: Appointment,
    *,
    settings: Settings,
    now: datetime,
) -> bool:
    """Whether this consultation was finished now (False: ended meanwhile, still open, or refused)."""
    closes_at = room_hours(appointment, settings)[1]
    if consult.ended_at is not None or closes_at >= now:
        return False
    try:
        async with session.begin_nested():
            await records.close_consultation(
                session=session,
                consult=consult,
                ended_at=await _last_seen(session, consult, closes_at),
                reason=REASON,
            )
    except DomainError:
        log.exception("could not finish consultation %s after its room closed; left for a person", consult.id)
        return False
    except Exception:
        # Anything unexpected must not hold up the rest of the batch (or every later pass): only its
        # savepoint is rolled back, and the next pass tries it again.
        log.exception("finishing consultation %s failed; tried again on the next pass", consult.id)
        return False
    return True


async def _last_seen(session: AsyncSession, consult: ConsultSession, closes_at: datetime) -> datetime:
    """The last step of the timeline, within the encounter's run and the room's hours."""
    last = await session.scalar(
        select(func.max(ConsultEvent.occurred_at)).where(ConsultEvent.consult_session_id == consult.id)
    )
    started_at = await session.scalar(
        select(Encounter.started_at).where(Encounter.id == consult.encounter_id)
    )
    end = min(last or closes_at, closes_at)
    return max(end, started_at) if started_at is not None else end
