"""A video visit whose room is open, made at every start of `ownat dev` and again a minute after the
last one is over: the demo patient and Dr Morgan can try a call in the first minute, whatever the
hour (the demo's booked video calls follow the clinic's hours and may be tomorrow), and again later.

Written as the demo's history is (`visits.py`): straight into the appointments and audited as a demo
import, because a visit starting in a few minutes is usually off the slot grid and may be outside
working hours, which the booking service rightly refuses. Nothing but the demo does this.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.encounters import OPENABLE
from clinical.organisation import Practitioner
from clinical.scheduling import RELEASING_STATUSES, Appointment, AppointmentType
from core import audit
from core.db import create_engine, utc_now
from core.identity import User
from core.principal import SYSTEM, Role
from core.sessions import create_sessionmaker, transaction
from core.settings import Settings
from ownat.demo.accounts import account
from ownat.demo.specs import VIDEO
from realtime.consult import ConsultSession, room_hours

log = logging.getLogger(__name__)
REASON = "Try a video call (demo)"
# The visit starts a few minutes ahead, inside the time its room is open before the start; if that
# time is taken, starts on either side are tried in steps. It is booked short: every ended try holds
# its scheduled minutes, and short ones leave room for many more tries before the hour is full.
LEAD = timedelta(minutes=5)
STEP = timedelta(minutes=5)
CALL_LENGTH = timedelta(minutes=5)
# However early it "started", its room stays open this much longer, time enough to try a call.
STAYS_OPEN = timedelta(minutes=30)


async def ensure_open_video_visit(settings: Settings) -> uuid.UUID | None:
    """The id of a demo video visit whose room is open now, made if there is none; None without the demo."""
    engine = create_engine(settings.effective_database_url)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            return await ensure_in(session, settings, now=utc_now())
    finally:
        await engine.dispose()


async def keep_a_video_visit_open(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, *, every_s: float = 60.0
) -> None:
    """Makes a new demo visit each time the last one is over (ended, or its room closed), until cancelled."""
    while True:
        await asyncio.sleep(every_s)
        try:
            async with transaction(sessions) as session:
                await ensure_in(session, settings, now=utc_now())
        except Exception:
            # The demo carries on without it; the next minute tries again.
            log.exception("the demo's open video visit could not be made")


async def ensure_in(session: AsyncSession, settings: Settings, *, now: datetime) -> uuid.UUID | None:
    """In `session`: the demo's video visit whose room is open at `now`, made if none is."""
    patient_id = await session.scalar(
        select(User.patient_id).where(User.email == account(Role.PATIENT).email)
    )
    practitioner_id = await session.scalar(
        select(Practitioner.id)
        .join(User, User.id == Practitioner.user_id)
        .where(User.email == account(Role.CLINICIAN).email)
    )
    kind = await session.scalar(select(AppointmentType).where(AppointmentType.code == VIDEO))
    if patient_id is None or practitioner_id is None or kind is None:
        return None  # the demo hospital is not loaded
    for appointment in await _video_visits_around(session, patient_id, practitioner_id, now=now):
        opens_at, closes_at = room_hours(appointment, settings)
        if opens_at <= now < closes_at:
            return appointment.id
    length = CALL_LENGTH
    start = await _free_start(session, settings, (patient_id, practitioner_id), length, now=now)
    if start is None:
        log.warning("no time free for the demo's open video visit; none was made")
        return None
    appointment = Appointment(
        id=uuid.uuid4(),
        patient_id=patient_id,
        practitioner_id=practitioner_id,
        appointment_type=kind,
        start_at=start,
        end_at=start + length,
        reason=REASON,
    )
    session.add(appointment)
    await session.flush()
    audit.record(
        session,
        actor=SYSTEM,
        action="import",
        resource_type="appointment",
        resource_id=appointment.id,
        patient_id=patient_id,
        detail={"source": "demo-open-video-visit", "start_at": start.isoformat()},
    )
    return appointment.id


async def _video_visits_around(
    session: AsyncSession, patient_id: uuid.UUID, practitioner_id: uuid.UUID, *, now: datetime
) -> list[Appointment]:
    """Their video visits near now that could still be joined (not ended, not cancelled)."""
    ended = select(ConsultSession.appointment_id).where(ConsultSession.ended_at.is_not(None))
    rows = await session.scalars(
        select(Appointment)
        .join(AppointmentType, AppointmentType.id == Appointment.appointment_type_id)
        .where(
            AppointmentType.code == VIDEO,
            Appointment.patient_id == patient_id,
            Appointment.practitioner_id == practitioner_id,
            Appointment.status.in_(OPENABLE),
            Appointment.start_at > now - timedelta(days=1),
            Appointment.start_at < now + timedelta(days=1),
            Appointment.id.not_in(ended),
        )
    )
    return list(rows.unique())


async def _free_start(
    session: AsyncSession,
    settings: Settings,
    people: tuple[uuid.UUID, uuid.UUID],
    length: timedelta,
    *,
    now: datetime,
) -> datetime | None:
    """A start whose room is open now (and for a while yet) and which neither of them has taken,
    nearest to a few minutes ahead.

    Calls tried earlier hold their scheduled minutes even once ended, so the visit may also start a
    little later, or have "started" a little while ago, as long as its room is open now.
    """
    opens_before = timedelta(seconds=settings.consult_opens_before_s)
    target = now.replace(second=0, microsecond=0) + min(LEAD, opens_before)
    latest = now + opens_before
    earliest = now - timedelta(seconds=settings.consult_closes_after_s) - length + STAYS_OPEN
    steps = int((latest - earliest) / STEP) + 1
    candidates = (target + STEP * (n // 2 + 1) * (1 if n % 2 else -1) for n in range(2 * steps))
    for start in (target, *candidates):
        if earliest <= start <= latest and not await _taken(session, people, start, start + length):
            return start
    return None


async def _taken(
    session: AsyncSession, people: tuple[uuid.UUID, uuid.UUID], start: datetime, end: datetime
) -> bool:
    patient_id, practitioner_id = people
    clash = await session.scalar(
        select(Appointment.id)
        .where(
            or_(Appointment.patient_id == patient_id, Appointment.practitioner_id == practitioner_id),
            Appointment.status.not_in(RELEASING_STATUSES),
            and_(Appointment.start_at < end, Appointment.end_at > start),
        )
        .limit(1)
    )
    return clash is not None
