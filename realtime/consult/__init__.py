"""Video consultations: consult rooms of video appointments and their WebRTC signalling.

Signalling has its own endpoint, `/ws/consult`, rather than riding on the monitoring hub at `/ws`:
the hub is a one-way, coalescing, drop-when-slow fan-out of vitals to dashboards, while signalling
is a two-way, lossless, ordered exchange between a few named peers (an SDP or ICE candidate must
never be coalesced or dropped), with its own authorisation (appointment participants and invited
guests, not ward scopes), its own limits (SDP-sized messages) and its own life cycle (rooms).
Both authenticate the same way: the first message carries the token, never the URL.

The front door of `realtime.consult`: the services and schemas of the consult routers, the signalling
server the api runs, the server-side peers (pre-call check, recording with consent), and the room
closing job of `ownat worker`.
"""

from __future__ import annotations

# `ownat worker`: consultations whose room closed without "end".
from realtime.consult.closing import run_room_closing
from realtime.consult.invitations import (
    create_invitation,
    list_invitations,
    redeem_invitation,
    revoke_invitation,
)

# Exposed for the demo data (ownat.demo.video_visit), which finds the visits whose consultation ended.
from realtime.consult.models import ConsultSession
from realtime.consult.peers.precall import start_precall, stop_precall
from realtime.consult.peers.recordings import (
    RecordingPlace,
    change_consent,
    recording_state,
    start_in_room,
    stop_recording,
)
from realtime.consult.peers.registry import PeerRegistry
from realtime.consult.peers.schemas import (
    ConsentChange,
    PeerAnswer,
    RecorderJoined,
    RecordingState,
    SessionOffer,
)

# Server-side peers (aiortc): the pre-call echo check and recording with consent.
from realtime.consult.peers.settings import PeerSettings, load_peer_settings
from realtime.consult.rooms import room_hours

# Read and write schemas.
from realtime.consult.schemas import (
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
from realtime.consult.server import ConsultServer

# Services: consultations, guest invitations, the video visit list, room hours.
from realtime.consult.service import get_consult_session, ice_servers_for, list_chat
from realtime.consult.signalling import serve_connection

# Signalling on `/ws/consult`, run by the api.
from realtime.consult.state import create_room_store
from realtime.consult.visits import list_video_visits

__all__ = [
    "ChatLineRead",
    "ConsentChange",
    "ConsultServer",
    "ConsultSession",
    "ConsultSessionRead",
    "GuestTicketRead",
    "IceServersRead",
    "InvitationCreate",
    "InvitationIssued",
    "InvitationRead",
    "InvitationRedeem",
    "PeerAnswer",
    "PeerRegistry",
    "PeerSettings",
    "RecorderJoined",
    "RecordingPlace",
    "RecordingState",
    "SessionOffer",
    "VideoVisitList",
    "change_consent",
    "create_invitation",
    "create_room_store",
    "get_consult_session",
    "ice_servers_for",
    "list_chat",
    "list_invitations",
    "list_video_visits",
    "load_peer_settings",
    "recording_state",
    "redeem_invitation",
    "revoke_invitation",
    "room_hours",
    "run_room_closing",
    "serve_connection",
    "start_in_room",
    "start_precall",
    "stop_precall",
    "stop_recording",
]
