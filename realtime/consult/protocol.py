"""The consult signalling protocol on `/ws/consult`: every message, as pydantic models.

Messages are JSON objects with a `type`. The first client message authenticates (`auth`, with a
staff/patient access token or a guest ticket from a redeemed invitation); then the client sends
`join` for one room (the appointment id). The socket lives as long as that token, unless `auth` comes
again with a fresh token of the same caller (answered `ready` with `renewed`; any other token closes
the socket, 4401). Patients and guests wait until the clinician admits them;
the clinician is admitted on joining. Admitted participants negotiate one RTCPeerConnection per
pair of participants: the newly admitted participant sends an `offer` to each participant listed
in its `admitted` message; either side may later renegotiate (screen sharing) or restart ICE by
sending a new `offer` with `purpose` set. Glare is resolved by "perfect negotiation": the peer
marked `polite` in `peer-joined` / `admitted` rolls back its own offer. A participant admitted
earlier who comes back (a dropped socket) is admitted again on joining, unless removed meanwhile.
`media` tells the others that a microphone or camera was turned off or on (`peer-media`). `offer`, `answer` and `ice`
name the recipient in `to`; the server fills in `from`, checks both are admitted in the same room,
and relays nothing else. Every refusal is an `error` message; the socket stays open unless the
server closes it with one of the close codes below.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from realtime.socket_wire import AuthMessage, WireMessage, parse_message

# An SDP with audio, video and screen-share sections and many codecs stays under ~20 kB.
MAX_CLIENT_MESSAGE_CHARS = 65_536
MAX_SDP_CHARS = 60_000
MAX_CANDIDATE_CHARS = 1_024
MAX_CHAT_CHARS = 2_000
MAX_DISPLAY_NAME_CHARS = 80

# Close codes of signalling's own, in the private range, modelled on the HTTP statuses they resemble.
# Those shared with the hub: signing in (4401, 4440) in `realtime.socket_signin`, the standard 1001
# and 1013 in `realtime.socket_wire`.
CLOSE_REMOVED = 4403
CLOSE_HEARTBEAT_TIMEOUT = 4408
CLOSE_ENDED = 4410
CLOSE_REPLACED = 4409

# "recorder" is a server-side aiortc peer (recording with consent), admitted like a guest.
ParticipantRole = Literal["clinician", "patient", "guest", "recorder"]
ParticipantStatus = Literal["waiting", "admitted"]
OfferPurpose = Literal["initial", "renegotiate", "ice-restart"]


# ---- client to server (`auth` is `realtime.socket_wire.AuthMessage`) --------------------------


class JoinMessage(WireMessage):
    """Enter the room of a video appointment (the clinician directly, others into the waiting room)."""

    type: Literal["join"]
    room: uuid.UUID = Field(description="The appointment id")


class IceCandidate(WireMessage):
    """RTCIceCandidateInit as browsers produce it."""

    candidate: str = Field(max_length=MAX_CANDIDATE_CHARS)
    sdpMid: str | None = Field(default=None, max_length=64)  # the browser's spelling
    sdpMLineIndex: int | None = Field(default=None, ge=0, le=64)
    usernameFragment: str | None = Field(default=None, max_length=256)


class OfferMessage(WireMessage):
    """An SDP offer to one admitted participant: first negotiation, renegotiation or ICE restart."""

    type: Literal["offer"]
    to: uuid.UUID
    sdp: str = Field(min_length=1, max_length=MAX_SDP_CHARS)
    purpose: OfferPurpose = "initial"


class AnswerMessage(WireMessage):
    """The SDP answer to the last offer received from `to`."""

    type: Literal["answer"]
    to: uuid.UUID
    sdp: str = Field(min_length=1, max_length=MAX_SDP_CHARS)


class IceMessage(WireMessage):
    """A trickled ICE candidate for the connection with `to`; null candidate = end of candidates."""

    type: Literal["ice"]
    to: uuid.UUID
    candidate: IceCandidate | None


class ChatMessage(WireMessage):
    """A chat line to the whole room (admitted participants only); kept with the encounter."""

    type: Literal["chat"]
    text: str = Field(min_length=1, max_length=MAX_CHAT_CHARS)
    client_id: str | None = Field(default=None, max_length=64, description="Echoed back, to match")


class AdmitMessage(WireMessage):
    """Clinician only: let a waiting participant in."""

    type: Literal["admit"]
    participant: uuid.UUID


class RemoveMessage(WireMessage):
    """Clinician only: remove a waiting or admitted participant (their invitation is spent)."""

    type: Literal["remove"]
    participant: uuid.UUID
    reason: str | None = Field(default=None, max_length=200)


class EndMessage(WireMessage):
    """Clinician only: end the consultation for everyone; the room closes."""

    type: Literal["end"]


class LeaveMessage(WireMessage):
    """Leave the room (the socket may stay open to join again)."""

    type: Literal["leave"]


class MediaMessage(WireMessage):
    """Admitted participants: my microphone and camera are on or off, for the others to show."""

    type: Literal["media"]
    audio: bool
    video: bool


class PingMessage(WireMessage):
    type: Literal["ping"]
    seq: int | None = None


class PongMessage(WireMessage):
    type: Literal["pong"]
    seq: int | None = None


ClientMessage = Annotated[
    AuthMessage
    | JoinMessage
    | OfferMessage
    | AnswerMessage
    | IceMessage
    | ChatMessage
    | AdmitMessage
    | RemoveMessage
    | EndMessage
    | LeaveMessage
    | MediaMessage
    | PingMessage
    | PongMessage,
    Field(discriminator="type"),
]
_CLIENT_MESSAGE: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)
CLIENT_TYPES = frozenset(
    {
        "auth",
        "join",
        "offer",
        "answer",
        "ice",
        "chat",
        "admit",
        "remove",
        "end",
        "leave",
        "media",
        "ping",
        "pong",
    }
)


# ---- server to client -------------------------------------------------------------------------


class IceServer(WireMessage):
    """RTCIceServer: pass the list as `iceServers` to `new RTCPeerConnection`."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None


class Participant(WireMessage):
    id: uuid.UUID = Field(description="This participant's connection id in the room")
    role: ParticipantRole
    display_name: str
    status: ParticipantStatus
    polite: bool = Field(default=False, description="In `admitted`/`peer-joined`: whether YOU are polite")


class ReadyEvent(WireMessage):
    """Authenticated; `join` may follow. Again, with `renewed`, after a fresh token on the open socket."""

    type: Literal["ready"] = "ready"
    role: str
    display_name: str
    expires_at: datetime = Field(description="When the token expires: send `auth` with a fresh one before")
    renewed: bool = False


class JoinedEvent(WireMessage):
    """Joined: you are `waiting` (wait for `admitted`) or already `admitted` (clinicians)."""

    type: Literal["joined"] = "joined"
    room: uuid.UUID
    participant: Participant
    ice_servers: list[IceServer]
    ice_expires_at: datetime = Field(description="When the TURN credential expires")
    closes_at: datetime


class AdmittedEvent(WireMessage):
    """You were admitted: send an `offer` to each of `peers` (all already admitted)."""

    type: Literal["admitted"] = "admitted"
    peers: list[Participant]


class PeerJoinedEvent(WireMessage):
    """Someone was admitted; they will send you an offer."""

    type: Literal["peer-joined"] = "peer-joined"
    participant: Participant


class PeerLeftEvent(WireMessage):
    """Someone left or was removed: close your RTCPeerConnection with them."""

    type: Literal["peer-left"] = "peer-left"
    participant: uuid.UUID
    reason: Literal["left", "removed", "disconnected"]


class PeerMediaEvent(WireMessage):
    """Another participant turned their microphone or camera on or off."""

    type: Literal["peer-media"] = "peer-media"
    sender: uuid.UUID = Field(serialization_alias="from")
    audio: bool
    video: bool


class WaitingEvent(WireMessage):
    """To the clinician: the waiting room changed (the full list, so it never drifts)."""

    type: Literal["waiting"] = "waiting"
    waiting: list[Participant]


class RelayedOffer(WireMessage):
    type: Literal["offer"] = "offer"
    sender: uuid.UUID = Field(serialization_alias="from")
    sdp: str
    purpose: OfferPurpose


class RelayedAnswer(WireMessage):
    type: Literal["answer"] = "answer"
    sender: uuid.UUID = Field(serialization_alias="from")
    sdp: str


class RelayedIce(WireMessage):
    type: Literal["ice"] = "ice"
    sender: uuid.UUID = Field(serialization_alias="from")
    candidate: IceCandidate | None


class ChatEvent(WireMessage):
    """A stored chat line, to every admitted participant (the sender included)."""

    type: Literal["chat"] = "chat"
    id: uuid.UUID
    sender: uuid.UUID = Field(serialization_alias="from")
    display_name: str
    text: str
    sent_at: datetime
    client_id: str | None = None


class RemovedEvent(WireMessage):
    """You were removed by the clinician; the server closes the socket with 4403."""

    type: Literal["removed"] = "removed"
    reason: str | None = None


class EndedEvent(WireMessage):
    """The consultation ended (by the clinician, or the room closed); the socket closes with 4410."""

    type: Literal["ended"] = "ended"
    reason: Literal["ended", "closed"]


class ErrorEvent(WireMessage):
    """A refused message. `ref` is the type of the message refused."""

    type: Literal["error"] = "error"
    code: str
    detail: str
    ref: str | None = None
    retry_at: datetime | None = Field(default=None, description="`room-not-open`: when the room opens")


ServerEvent = (
    ReadyEvent
    | JoinedEvent
    | AdmittedEvent
    | PeerJoinedEvent
    | PeerLeftEvent
    | PeerMediaEvent
    | WaitingEvent
    | RelayedOffer
    | RelayedAnswer
    | RelayedIce
    | ChatEvent
    | RemovedEvent
    | EndedEvent
    | ErrorEvent
)


def parse_client_message(text: str) -> ClientMessage:
    """Parses and validates one client message; ProtocolError says what is wrong."""
    return parse_message(
        text, messages=_CLIENT_MESSAGE, types=CLIENT_TYPES, max_chars=MAX_CLIENT_MESSAGE_CHARS
    )


def dump(event: ServerEvent) -> dict[str, Any]:
    """The JSON-ready form of a server event (`sender` goes out as `from`)."""
    return event.model_dump(mode="json", by_alias=True, exclude_none=False)
