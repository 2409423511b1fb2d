"""The recorder as a room participant: it joins through the consult signalling like any guest.

The clinician starts it once both parties have consented: it enters the room with a single-use
invitation of its own, named "Recording", and waits to be admitted like any guest. Once admitted it
offers a receive-only connection to the patient and to the clinician (never to other guests, who did
not consent) and hands their tracks to the `Recording`. Ending the consultation, or removing the
recorder from the room, stops the recording.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from typing import Any

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp

from realtime.consult.peers import connection as peer_connection
from realtime.consult.peers.consent import Party
from realtime.consult.peers.loopback import LoopbackSocket
from realtime.consult.peers.recorder import PARTIES, Recording
from realtime.consult.server import ConsultServer
from realtime.consult.signalling import serve_connection

log = logging.getLogger(__name__)
RECORDER_NAME = "Recording"
JOIN_TIMEOUT_S = 15.0


class RoomRecorder:
    """Drives one recording's signalling: join, offer to both parties, relay candidates, leave."""

    def __init__(
        self, *, recording: Recording, room: uuid.UUID, ice_urls: list[str], on_gone: Callable[[], None]
    ) -> None:
        self.recording = recording
        self.room = room
        self.participant_id: uuid.UUID | None = None
        self._ice_urls = ice_urls
        self._on_gone = on_gone
        self._socket = LoopbackSocket()
        self._pending: dict[str, tuple[Party, RTCPeerConnection, list[MediaStreamTrack]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._serving: asyncio.Task[None] | None = None
        recording.closers.append(self.leave)

    async def join(self, server: ConsultServer, ticket: str) -> uuid.UUID:
        """Authenticates with the guest ticket and enters the waiting room; the recorder's participant id."""
        self._serving = asyncio.create_task(serve_connection(server, self._socket.transport))
        await self._socket.send({"type": "auth", "token": ticket})
        async with asyncio.timeout(JOIN_TIMEOUT_S):
            await self._expect("ready")
            await self._socket.send({"type": "join", "room": str(self.room)})
            joined = await self._expect("joined")
        self.participant_id = uuid.UUID(joined["participant"]["id"])
        self._reader = asyncio.create_task(self._follow())
        return self.participant_id

    async def _expect(self, kind: str) -> dict[str, Any]:
        while True:
            message = await self._socket.receive()
            if message is None:
                raise ConnectionError(f"The consult server closed the recorder's socket before `{kind}`.")
            if message["type"] == "error":
                raise ConnectionError(f"The consult server refused the recorder: {message['detail']}")
            if message["type"] == kind:
                return message

    async def _follow(self) -> None:
        try:
            while (message := await self._socket.receive()) is not None:
                if message["type"] in ("ended", "removed"):
                    break
                await self._handle(message)
        except Exception:
            # A broken negotiation ends this recording; what was recorded is still attached.
            log.exception("the recorder of room %s failed", self.room)
        finally:
            self._on_gone()

    async def _handle(self, message: dict[str, Any]) -> None:
        match message["type"]:
            case "admitted":
                for participant in message["peers"]:
                    if participant["role"] in PARTIES:
                        await self._offer_to(participant["id"], participant["role"])
            case "answer" if message["from"] in self._pending:
                party, connection, tracks = self._pending[message["from"]]
                await connection.setRemoteDescription(
                    RTCSessionDescription(sdp=message["sdp"], type="answer")
                )
                await self.recording.add_connection(party, connection, tracks)
            case "ice" if message["from"] in self._pending and message["candidate"]:
                await self._add_candidate(self._pending[message["from"]][1], message["candidate"])

    async def _offer_to(self, participant_id: str, party: Party) -> None:
        connection = peer_connection.new_peer_connection(self._ice_urls)
        tracks: list[MediaStreamTrack] = []
        connection.on("track", tracks.append)
        connection.addTransceiver("audio", direction="recvonly")
        connection.addTransceiver("video", direction="recvonly")
        self._pending[participant_id] = (party, connection, tracks)
        # aiortc gathers every candidate before this returns: the offer carries them all.
        await connection.setLocalDescription(await connection.createOffer())
        offer = {"type": "offer", "to": participant_id, "sdp": connection.localDescription.sdp}
        await self._socket.send(offer)
        await self._socket.send({"type": "ice", "to": participant_id, "candidate": None})

    @staticmethod
    async def _add_candidate(connection: RTCPeerConnection, init: dict[str, Any]) -> None:
        candidate = candidate_from_sdp(init["candidate"].removeprefix("candidate:"))
        candidate.sdpMid, candidate.sdpMLineIndex = init.get("sdpMid"), init.get("sdpMLineIndex")
        await connection.addIceCandidate(candidate)

    async def leave(self) -> None:
        """Leaves the room and hangs up the connections not yet handed to the recording."""
        with contextlib.suppress(Exception):
            await self._socket.send({"type": "leave"})
        await self._socket.close()
        if self._reader is not None and self._reader is not asyncio.current_task():
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        for _, connection, _ in self._pending.values():
            await connection.close()
        if self._serving is not None:
            # The server sees the end of the stream, announces the departure and finishes by itself.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._serving), JOIN_TIMEOUT_S)
