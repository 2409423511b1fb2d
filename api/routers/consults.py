"""Video consultations over REST: the caller's video visits, guest invitations, the consultation's
record and chat, ICE servers.

Signalling itself is on the WebSocket `/ws/consult` (see `api.ws_consult`). Redeeming an invitation
is public (the guest has no account); everything else requires a signed-in user, and the services
check the caller's relation to the appointment, audited.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response
from pydantic import AwareDatetime

from api.deps import CurrentPrincipal, SessionDep, SettingsDep
from realtime import consult
from realtime.consult import (
    ChatLineRead,
    ConsultSessionRead,
    GuestTicketRead,
    IceServersRead,
    InvitationCreate,
    InvitationIssued,
    InvitationRead,
    InvitationRedeem,
    VideoVisitList,
)

router = APIRouter(prefix="/consults", tags=["consults"])
public_router = APIRouter(prefix="/consults", tags=["consults"])


@router.post(
    "/{appointment_id}/invitations",
    status_code=201,
    response_model=InvitationIssued,
    summary="Invite a guest (single-use link)",
)
async def create_invitation(
    appointment_id: uuid.UUID,
    body: InvitationCreate,
    actor: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> InvitationIssued:
    return await consult.create_invitation(
        session=session, actor=actor, appointment_id=appointment_id, new=body, settings=settings
    )


@router.get(
    "/{appointment_id}/invitations", response_model=list[InvitationRead], summary="The guest invitations"
)
async def list_invitations(
    appointment_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep
) -> list[InvitationRead]:
    rows = await consult.list_invitations(session=session, actor=actor, appointment_id=appointment_id)
    return [InvitationRead.model_validate(row) for row in rows]


@router.delete(
    "/{appointment_id}/invitations/{invitation_id}", status_code=204, summary="Withdraw an invitation"
)
async def revoke_invitation(
    appointment_id: uuid.UUID, invitation_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep
) -> Response:
    await consult.revoke_invitation(
        session=session, actor=actor, appointment_id=appointment_id, invitation_id=invitation_id
    )
    return Response(status_code=204)


@public_router.post(
    "/invitations/redeem", response_model=GuestTicketRead, summary="Redeem a guest link for a room ticket"
)
async def redeem_invitation(
    body: InvitationRedeem, session: SessionDep, settings: SettingsDep
) -> GuestTicketRead:
    return await consult.redeem_invitation(session=session, token=body.token, settings=settings)


@router.get("/visits", response_model=VideoVisitList, summary="Your video visits and when their rooms open")
async def list_video_visits(
    actor: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    start_from: AwareDatetime,
    start_to: AwareDatetime,
) -> VideoVisitList:
    # Before "/{appointment_id}", which would otherwise take "visits" for an id.
    return await consult.list_video_visits(
        session=session, actor=actor, settings=settings, start_from=start_from, start_to=start_to
    )


@router.get("/{appointment_id}", response_model=ConsultSessionRead, summary="The consultation's record")
async def get_consult(
    appointment_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep
) -> ConsultSessionRead:
    return await consult.get_consult_session(session=session, actor=actor, appointment_id=appointment_id)


@router.get("/{appointment_id}/chat", response_model=list[ChatLineRead], summary="The consultation's chat")
async def list_chat(
    appointment_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep
) -> list[ChatLineRead]:
    return await consult.list_chat(session=session, actor=actor, appointment_id=appointment_id)


@router.get("/{appointment_id}/ice-servers", response_model=IceServersRead, summary="Fresh ICE servers")
async def get_ice_servers(
    appointment_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep, settings: SettingsDep
) -> IceServersRead:
    return await consult.ice_servers_for(
        session=session, actor=actor, appointment_id=appointment_id, settings=settings
    )
