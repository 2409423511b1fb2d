"""Reading a consultation: its record (timeline, duration), its chat, and ICE servers for a participant.

Staff read any patient's consultation; a patient reads their own. Every read is audited.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import refuse, require_patient_scope
from core.db import utc_now
from core.errors import NotFound
from core.principal import Principal
from core.settings import Settings
from realtime.consult import rooms
from realtime.consult.ice import ice_servers
from realtime.consult.identity import Caller
from realtime.consult.models import ConsultChatMessage, ConsultEvent, ConsultSession
from realtime.consult.schemas import ChatLineRead, ConsultEventRead, ConsultSessionRead, IceServersRead

RESOURCE = "consult_session"


async def _load(
    session: AsyncSession, actor: Principal, appointment_id: uuid.UUID, action: str
) -> ConsultSession:
    appointment = await rooms.load_video_appointment(session, appointment_id)
    require_patient_scope(
        session,
        actor,
        appointment.patient_id,
        action=action,
        resource_type=RESOURCE,
        resource_id=appointment_id,
    )
    consult = await session.scalar(
        select(ConsultSession).where(ConsultSession.appointment_id == appointment_id)
    )
    if consult is None:
        raise NotFound("This consultation has not taken place yet.")
    audit.record(
        session,
        actor=actor,
        action=action,
        resource_type=RESOURCE,
        resource_id=consult.id,
        patient_id=consult.patient_id,
    )
    return consult


async def get_consult_session(
    *, session: AsyncSession, actor: Principal, appointment_id: uuid.UUID
) -> ConsultSessionRead:
    """The consultation's record: times, encounter, billable duration and timeline."""
    consult = await _load(session, actor, appointment_id, "read")
    events = await session.scalars(
        select(ConsultEvent)
        .where(ConsultEvent.consult_session_id == consult.id)
        .order_by(ConsultEvent.occurred_at)
    )
    read = ConsultSessionRead.model_validate(consult)
    read.events = [ConsultEventRead.model_validate(event) for event in events]
    return read


async def list_chat(
    *, session: AsyncSession, actor: Principal, appointment_id: uuid.UUID
) -> list[ChatLineRead]:
    """The consultation's chat, oldest first."""
    consult = await _load(session, actor, appointment_id, "read_chat")
    lines = await session.scalars(
        select(ConsultChatMessage)
        .where(ConsultChatMessage.consult_session_id == consult.id)
        .order_by(ConsultChatMessage.sent_at, ConsultChatMessage.id)
    )
    return [ChatLineRead.model_validate(line) for line in lines]


async def ice_servers_for(
    *, session: AsyncSession, actor: Principal, appointment_id: uuid.UUID, settings: Settings
) -> IceServersRead:
    """Fresh ICE servers (for an ICE restart late in a long consultation), for its patient or clinician."""
    appointment = await rooms.load_video_appointment(session, appointment_id)
    caller = Caller(principal=actor)
    is_patient = actor.patient_id is not None and actor.patient_id == appointment.patient_id
    if not is_patient and not await rooms.is_appointment_clinician(session, caller, appointment):
        refuse(
            session,
            actor,
            action="ice",
            resource_type="consult_room",
            resource_id=appointment_id,
            patient_id=appointment.patient_id,
            message="Only the appointment's patient and clinician receive its ICE servers.",
        )
    servers, expires_at = ice_servers(settings=settings, user_key=caller.key, now=utc_now())
    return IceServersRead(ice_servers=servers, expires_at=expires_at)
