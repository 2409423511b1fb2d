"""The pre-call check: an aiortc peer that sends the caller's own camera and microphone back."""

from __future__ import annotations

import uuid
from datetime import datetime

from aiortc import MediaStreamTrack, RTCPeerConnection

from realtime.consult.peers import connection as peer_connection


class EchoPeer:
    """One browser's loopback: every track it sends is returned on the same connection."""

    weight = 1

    def __init__(self, *, owner_id: uuid.UUID, expires_at: datetime, ice_urls: list[str]) -> None:
        self.id = uuid.uuid4()
        self.owner_id = owner_id
        self.expires_at = expires_at
        self.connection: RTCPeerConnection = peer_connection.new_peer_connection(ice_urls)
        self.connection.on("track", self._send_back)

    def _send_back(self, track: MediaStreamTrack) -> None:
        # Called while the offer is applied, so the answer already carries the returned tracks.
        self.connection.addTrack(track)

    async def answer(self, offer_sdp: str) -> str:
        """The SDP answer to the browser's offer."""
        await peer_connection.accept_offer(self.connection, offer_sdp)
        return await peer_connection.answer(self.connection)

    @property
    def state(self) -> str:
        return self.connection.connectionState

    async def close(self) -> None:
        await self.connection.close()
