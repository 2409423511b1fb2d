"""Request and response bodies of the server-side peers' HTTP endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from realtime.consult.protocol import MAX_SDP_CHARS


class SessionOffer(BaseModel):
    """The browser's RTCSessionDescription, after its ICE gathering completed (no trickle)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["offer"]
    sdp: str = Field(min_length=1, max_length=MAX_SDP_CHARS)


class PeerAnswer(BaseModel):
    """The server peer's answer: pass `type` and `sdp` to `setRemoteDescription`."""

    peer_id: uuid.UUID
    type: Literal["answer"] = "answer"
    sdp: str
    expires_at: datetime = Field(description="When the server hangs up by itself")


class ConsentChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    consent: bool = Field(description="True to consent to recording, false to withdraw consent")


class RecorderJoined(BaseModel):
    """The recorder is in the waiting room: admit `participant_id` to start recording."""

    participant_id: uuid.UUID
    display_name: str


class RecordingState(BaseModel):
    """Who has consented, and whether the recorder is running for this encounter on this server."""

    encounter_id: uuid.UUID
    patient_consent: bool
    clinician_consent: bool
    recording: bool
    participants: list[Literal["patient", "clinician"]] = Field(
        description="Whose media the recorder receives"
    )
    started_at: datetime | None = None
