"""The consultation's record: its session row, timeline, encounter and chat, each change audited.

Called by the signalling server inside its own unit of work per message (`core.sessions.transaction`);
these functions only flush.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clinical import encounters
from clinical.encounters import Encounter, EncounterCreate, EncounterFinish, EncounterStart, EncounterStatus
from core import audit
from core.db import utc_now
from core.principal import SYSTEM, Principal
from realtime.consult.models import ConsultChatMessage, ConsultEvent, ConsultEventKind, ConsultSession
from realtime.consult.state import Member

RESOURCE = "consult_session"
_audit = audit.RowAudit(RESOURCE)


async def open_session(*, session: AsyncSession, room: uuid.UUID, patient_id: uuid.UUID) -> ConsultSession:
    """The consult session of the room, created on the first join."""
    existing = await session.scalar(select(ConsultSession).where(ConsultSession.appointment_id == room))
    if existing is not None:
        return existing
    consult = ConsultSession(id=uuid.uuid4(), appointment_id=room, patient_id=patient_id, opened_at=utc_now())
    try:
        async with session.begin_nested():
            session.add(consult)
    except IntegrityError:
        # Both parties joined at once on two instances: the other one created it.
        found = await session.scalar(select(ConsultSession).where(ConsultSession.appointment_id == room))
        assert found is not None
        return found
    return consult


async def record_event(
    *,
    session: AsyncSession,
    consult: ConsultSession,
    kind: ConsultEventKind,
    member: Member,
    actor: Principal | None,
    at: datetime | None = None,
) -> None:
    """Appends a step to the timeline and audits it against the patient's record."""
    session.add(
        ConsultEvent(
            id=uuid.uuid4(),
            consult_session_id=consult.id,
            kind=kind,
            participant_id=member.id,
            role=member.role,
            user_id=member.user_id,
            invitation_id=member.invitation_id,
            display_name=member.display_name,
            actor_id=actor.user_id if actor else None,
            occurred_at=at or utc_now(),
        )
    )
    await session.flush()
    _audit(session, actor, kind.value, consult, participant=member.id, role=str(member.role))


async def admitted_before(
    *,
    session: AsyncSession,
    consult: ConsultSession,
    user_id: uuid.UUID | None,
    invitation_id: uuid.UUID | None,
) -> bool:
    """Whether this person was let in earlier in this consultation and not removed since.

    Such a person coming back (a dropped connection, a reloaded page) skips the waiting room: the
    clinician already admitted them, and making them wait again would cut the call for nothing.
    """
    if consult.ended_at is not None or (user_id is None and invitation_id is None):
        return False
    who = (
        ConsultEvent.user_id == user_id
        if user_id is not None
        else ConsultEvent.invitation_id == invitation_id
    )
    last = await session.scalar(
        select(ConsultEvent.kind)
        .where(
            ConsultEvent.consult_session_id == consult.id,
            who,
            ConsultEvent.kind.in_((ConsultEventKind.ADMIT, ConsultEventKind.REMOVE)),
        )
        .order_by(ConsultEvent.occurred_at.desc())
        .limit(1)
    )
    return last is ConsultEventKind.ADMIT


async def start_consultation(*, session: AsyncSession, consult: ConsultSession, clinician: Principal) -> None:
    """On the first admission: starts the clock and opens (or links and starts) the encounter."""
    if consult.started_at is not None:
        return
    consult.started_at = utc_now()
    encounter = await session.scalar(
        select(Encounter).where(Encounter.appointment_id == consult.appointment_id)
    )
    if encounter is None:
        encounter = await encounters.create_encounter(
            session=session, actor=clinician, new=EncounterCreate(appointment_id=consult.appointment_id)
        )
    elif encounter.status is EncounterStatus.PLANNED:
        await encounters.start_encounter(
            session=session, actor=clinician, encounter_id=encounter.id, start=EncounterStart()
        )
    consult.encounter_id = encounter.id
    await session.flush()


async def end_consultation(*, session: AsyncSession, consult: ConsultSession, clinician: Principal) -> None:
    """Ends the consultation and finishes its encounter (completing the appointment)."""
    await _finish(session, consult, clinician, ended_at=None)
    consult.ended_by = clinician.user_id
    await session.flush()


async def close_consultation(
    *, session: AsyncSession, consult: ConsultSession, ended_at: datetime, reason: str
) -> None:
    """Ends, as SYSTEM, a consultation nobody ended; `ended_by` stays empty and the audit keeps `reason`."""
    await _finish(session, consult, SYSTEM, ended_at=ended_at)
    await session.flush()
    _audit(session, SYSTEM, "close", consult, encounter_id=consult.encounter_id, reason=reason)


async def _finish(
    session: AsyncSession, consult: ConsultSession, actor: Principal, *, ended_at: datetime | None
) -> None:
    # What ending means, whoever ends it: the encounter in progress is finished (which completes the
    # appointment) and the session takes the same end time.
    end = ended_at or utc_now()
    if consult.encounter_id is not None:
        encounter = await session.get(Encounter, consult.encounter_id)
        if encounter is not None and encounter.status is EncounterStatus.IN_PROGRESS:
            finished = await encounters.finish_encounter(
                session=session,
                actor=actor,
                encounter_id=encounter.id,
                finish=EncounterFinish(ended_at=ended_at),
            )
            # One end time for both records, so the encounter's and the session's durations agree.
            end = finished.ended_at or end
    consult.ended_at = end


async def store_chat(
    *, session: AsyncSession, consult: ConsultSession, member: Member, actor: Principal | None, text: str
) -> ConsultChatMessage:
    """Keeps a chat line with the consultation's encounter."""
    line = ConsultChatMessage(
        id=uuid.uuid4(),
        consult_session_id=consult.id,
        encounter_id=consult.encounter_id,
        participant_id=member.id,
        role=member.role,
        user_id=member.user_id,
        invitation_id=member.invitation_id,
        display_name=member.display_name,
        text=text,
        sent_at=utc_now(),
    )
    session.add(line)
    await session.flush()
    _audit(session, actor, "chat", consult, participant=member.id, chat_id=line.id)
    return line
