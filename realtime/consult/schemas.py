"""REST shapes of consultations: invitations, guest tickets, the session record, chat, ICE servers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from realtime.consult.models import ConsultEventKind, ConsultRole
from realtime.consult.protocol import MAX_DISPLAY_NAME_CHARS, IceServer

_STRICT = ConfigDict(extra="forbid")


class InvitationCreate(BaseModel):
    model_config = _STRICT

    display_name: str = Field(
        min_length=1, max_length=MAX_DISPLAY_NAME_CHARS, description="e.g. 'Interpreter'"
    )
    # Capped by OWNAT_CONSULT_INVITATION_TTL_S; by default the link lasts until the room closes.
    expires_in_s: int | None = Field(default=None, ge=60)


class InvitationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    appointment_id: uuid.UUID
    display_name: str
    expires_at: datetime
    redeemed_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime


class InvitationIssued(InvitationRead):
    """Returned once, at creation: the token is not stored and cannot be shown again."""

    token: str
    link_path: str = Field(description="Append to the site's address; the token stays in the fragment")


class InvitationRedeem(BaseModel):
    model_config = _STRICT

    token: str = Field(min_length=20, max_length=200)


class GuestTicketRead(BaseModel):
    """Send `ticket` as the `auth` token on /ws/consult, then `join` `room`."""

    ticket: str
    room: uuid.UUID
    display_name: str
    expires_at: datetime


class ConsultEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: ConsultEventKind
    participant_id: uuid.UUID
    role: ConsultRole
    display_name: str
    occurred_at: datetime


class ConsultSessionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    appointment_id: uuid.UUID
    patient_id: uuid.UUID
    encounter_id: uuid.UUID | None
    opened_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    events: list[ConsultEventRead] = []

    @computed_field  # type: ignore[prop-decorator]
    @property
    def duration_s(self) -> int | None:
        """Seconds from the first admission to the end: what billing charges by time use."""
        if self.started_at is None or self.ended_at is None:
            return None
        return int((self.ended_at - self.started_at).total_seconds())


class ChatLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    encounter_id: uuid.UUID | None
    participant_id: uuid.UUID
    role: ConsultRole
    display_name: str
    text: str
    sent_at: datetime


class IceServersRead(BaseModel):
    ice_servers: list[IceServer]
    expires_at: datetime


VisitState = Literal["upcoming", "open", "finished", "closed", "cancelled", "missed"]


class VideoVisitRead(BaseModel):
    """A video appointment as the consult pages show it: who, when, and whether its room is open."""

    appointment_id: uuid.UUID
    patient_id: uuid.UUID
    patient_name: str
    practitioner_id: uuid.UUID
    practitioner_name: str
    reason: str | None
    start_at: datetime
    end_at: datetime
    opens_at: datetime = Field(description="When the room opens (before the start)")
    closes_at: datetime = Field(description="When the room closes unless the clinician ends it first")
    appointment_status: str
    state: VisitState = Field(
        description="upcoming (room not open yet), open, finished (ended), closed (its time passed), "
        "cancelled or missed"
    )
    ended_at: datetime | None


class VideoVisitList(BaseModel):
    server_time: datetime = Field(description="The server's clock, to count down to `opens_at` with")
    visits: list[VideoVisitRead]
