"""Guest invitations: created by the appointment's clinician, redeemed once for a guest ticket.

Only the SHA-256 of the token is stored; redemption is a single conditional UPDATE, so two
simultaneous redemptions of one link cannot both succeed.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.scheduling import Appointment
from core import audit
from core.access import refuse
from core.db import utc_now
from core.errors import Conflict, NotAuthenticated, NotFound
from core.principal import Principal
from core.settings import Settings
from realtime.consult import rooms
from realtime.consult.identity import Caller, GuestTicket, issue_guest_ticket
from realtime.consult.models import ConsultInvitation
from realtime.consult.schemas import GuestTicketRead, InvitationCreate, InvitationIssued, InvitationRead

RESOURCE = "consult_invitation"
# An invitation names its patient through its appointment: callers pass the patient.
_audit = audit.RowAudit(
    RESOURCE, context=lambda row: {"appointment_id": str(row.appointment_id)}, patient_of=None
)
GUEST_PAGE = "/consult/guest"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _require_clinician(
    session: AsyncSession, actor: Principal, appointment_id: uuid.UUID, action: str
) -> Appointment:
    appointment = await rooms.load_video_appointment(session, appointment_id)
    if not await rooms.is_appointment_clinician(session, Caller(principal=actor), appointment):
        refuse(
            session,
            actor,
            action=action,
            resource_type=RESOURCE,
            resource_id=appointment_id,
            patient_id=appointment.patient_id,
            message="Only the appointment's clinician may manage its invitations.",
        )
    return appointment


async def create_invitation(
    *,
    session: AsyncSession,
    actor: Principal,
    appointment_id: uuid.UUID,
    new: InvitationCreate,
    settings: Settings,
) -> InvitationIssued:
    """A single-use guest link, expiring at the latest when the room closes."""
    appointment = await _require_clinician(session, actor, appointment_id, "create")
    _, closes_at = rooms.room_hours(appointment, settings)
    now = utc_now()
    if closes_at <= now:
        raise Conflict("This consultation's room has closed; invitations can no longer be sent.")
    ttl_s = min(new.expires_in_s or settings.consult_invitation_ttl_s, settings.consult_invitation_ttl_s)
    token = secrets.token_urlsafe(32)
    invitation = ConsultInvitation(
        id=uuid.uuid4(),
        appointment_id=appointment_id,
        token_hash=hash_token(token),
        display_name=new.display_name,
        expires_at=min(now + timedelta(seconds=ttl_s), closes_at),
        created_by=actor.user_id,
    )
    session.add(invitation)
    await session.flush()
    _audit(session, actor, "create", invitation, patient_id=appointment.patient_id)
    read = InvitationRead.model_validate(invitation)
    return InvitationIssued(**read.model_dump(), token=token, link_path=f"{GUEST_PAGE}#invite={token}")


async def list_invitations(
    *, session: AsyncSession, actor: Principal, appointment_id: uuid.UUID
) -> list[ConsultInvitation]:
    """The appointment's invitations, for its clinician."""
    appointment = await _require_clinician(session, actor, appointment_id, "read")
    rows = await session.scalars(
        select(ConsultInvitation)
        .where(ConsultInvitation.appointment_id == appointment_id)
        .order_by(ConsultInvitation.created_at)
    )
    audit.record(
        session,
        actor=actor,
        action="read",
        resource_type=RESOURCE,
        resource_id=appointment_id,
        patient_id=appointment.patient_id,
    )
    return list(rows)


async def revoke_invitation(
    *, session: AsyncSession, actor: Principal, appointment_id: uuid.UUID, invitation_id: uuid.UUID
) -> None:
    """Withdraws an invitation: unredeemed, it can no longer be used; redeemed, its guest cannot join."""
    appointment = await _require_clinician(session, actor, appointment_id, "revoke")
    invitation = await session.get(ConsultInvitation, invitation_id)
    if invitation is None or invitation.appointment_id != appointment_id:
        raise NotFound(f"There is no invitation {invitation_id} for this appointment.")
    invitation.revoked_at = invitation.revoked_at or utc_now()
    await session.flush()
    _audit(session, actor, "revoke", invitation, patient_id=appointment.patient_id)


async def redeem_invitation(*, session: AsyncSession, token: str, settings: Settings) -> GuestTicketRead:
    """Spends the link and returns the guest's ticket to the room; a second use is refused."""
    now = utc_now()
    invitation_id = await session.scalar(
        update(ConsultInvitation)
        .where(
            ConsultInvitation.token_hash == hash_token(token),
            ConsultInvitation.redeemed_at.is_(None),
            ConsultInvitation.revoked_at.is_(None),
            ConsultInvitation.expires_at > now,
        )
        .values(redeemed_at=now)
        .returning(ConsultInvitation.id)
    )
    if invitation_id is None:
        # One answer for unknown, used, withdrawn and expired links: none of them reveals the others.
        raise NotAuthenticated("This invitation link is invalid, expired or has already been used.")
    invitation = await session.get(ConsultInvitation, invitation_id)
    assert invitation is not None
    appointment = await rooms.load_video_appointment(session, invitation.appointment_id)
    _, closes_at = rooms.room_hours(appointment, settings)
    ticket = GuestTicket(
        invitation_id=invitation.id,
        room=invitation.appointment_id,
        display_name=invitation.display_name,
        expires_at=closes_at,
    )
    _audit(session, None, "redeem", invitation, patient_id=appointment.patient_id)
    return GuestTicketRead(
        ticket=issue_guest_ticket(ticket, settings=settings),
        room=ticket.room,
        display_name=ticket.display_name,
        expires_at=closes_at,
    )
