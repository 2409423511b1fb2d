"""A video visit whose room is open, made at every start of `ownat dev`: the demo patient and Dr
Morgan can try a call in the first minute, whatever the hour (the demo's booked video calls follow
the clinic's hours and may be tomorrow).

Written as the demo's history is (`visits.py`): straight into the appointments and audited as a demo
import, because a visit starting in a few minutes is usually off the slot grid and may be outside
working hours, which the booking service rightly refuses. Nothing but the demo does this.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.encounters.appointments import OPENABLE
from clinical.organisation.models import Practitioner
from clinical.scheduling.models import Appointment, AppointmentType
from clinical.scheduling.state_machine import RELEASING_STATUSES
from core.audit import service as audit
from core.db import create_engine, utc_now
from core.identity.models import User
from core.identity.principal import SYSTEM, Role
from core.sessions import create_sessionmaker, transaction
from core.settings import Settings
from ownat.demo.accounts import account
from ownat.demo.specs import VIDEO
from realtime.consult.models import ConsultSession
from realtime.consult.rooms import room_hours

log = logging.getLogger(__name__)
REASON = "Try a video call (demo)"
# The visit starts a few minutes ahead, inside the time its room is open before the start.
LEAD = timedelta(minutes=5)


async def ensure_open_video_visit(settings: Settings) -> uuid.UUID | None:
    """The id of a demo video visit whose room is open now, made if there is none; None without the demo."""
    engine = create_engine(settings.effective_database_url)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            return await _ensure(session, settings, now=utc_now())
    finally:
        await engine.dispose()


async def _ensure(session: AsyncSession, settings: Settings, *, now: datetime) -> uuid.UUID | None:
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
    length = timedelta(minutes=kind.duration_minutes)
    lead = LEAD if settings.consult_opens_before_s >= LEAD.total_seconds() else timedelta(0)
    start = now.replace(second=0, microsecond=0) + lead
    # Step past anything either of them has booked, as long as the room would still be open now.
    while await _busy(session, (patient_id, practitioner_id), start, start + length):
        start += length
        if start - timedelta(seconds=settings.consult_opens_before_s) > now:
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


async def _busy(
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
