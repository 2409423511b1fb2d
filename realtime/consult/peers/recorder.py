"""The recorder: an aiortc peer per consenting party, their tracks written to one WebM file.

Each party's page sends its camera and microphone to the recorder on a connection of its own. aiortc's
MediaRecorder needs every track before it starts, so recording begins once both parties are
connected; it stops when asked, when either party withdraws consent, at its time limit or at
shutdown, and in every case `on_finished` receives the file.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

from aiortc import MediaStreamTrack, RTCPeerConnection
from aiortc.contrib.media import MediaRecorder
from av.frame import Frame

from core.db import utc_now
from core.errors import Conflict
from realtime.consult.peers import connection as peer_connection
from realtime.consult.peers.consent import Party

log = logging.getLogger(__name__)
PARTIES: tuple[Party, ...] = ("patient", "clinician")
# The recording of an encounter has a fixed id, so every request finds it in the registry.
_RECORDING_NAMESPACE = uuid.UUID("6f1d3c1e-8f55-4f0e-9a53-2c0f6e0b7a11")
OnFinished = Callable[["Recording"], Awaitable[None]]


def recording_id(encounter_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(_RECORDING_NAMESPACE, str(encounter_id))


class _Tap(MediaStreamTrack):
    """Passes a track's frames on and counts them: the recording's progress, for its state and waiters."""

    def __init__(self, source: MediaStreamTrack, progress: asyncio.Condition, counts: dict[str, int]) -> None:
        super().__init__()
        self.kind = source.kind
        self._source, self._progress, self._counts = source, progress, counts

    async def recv(self) -> Frame:
        frame = await self._source.recv()
        async with self._progress:
            self._counts[self.kind] += 1
            self._progress.notify_all()
        return frame


class Recording:
    """The recording of one encounter on this api instance."""

    weight = len(PARTIES)

    def __init__(
        self, *, encounter_id: uuid.UUID, path: Path, ice_urls: list[str], on_finished: OnFinished
    ) -> None:
        self.id = recording_id(encounter_id)
        self.encounter_id = encounter_id
        self.path = path
        self.started_at: datetime | None = None
        self.ended_at: datetime | None = None
        self.document_id: uuid.UUID | None = None
        self._ice_urls = ice_urls
        self._on_finished = on_finished
        self._connections: dict[Party, RTCPeerConnection] = {}
        self._tracks: dict[Party, list[MediaStreamTrack]] = {}
        self._recorder: MediaRecorder | None = None
        self._finished = False
        self._progress = asyncio.Condition()
        self.frames: dict[str, int] = {"audio": 0, "video": 0}

    @property
    def parties(self) -> list[Party]:
        return [party for party in PARTIES if party in self._connections]

    @property
    def recording(self) -> bool:
        return self._recorder is not None

    async def connect(self, party: Party, offer_sdp: str) -> str:
        """Answers a party's send-only offer; the second party's arrival starts the recording."""
        if self._finished:
            raise Conflict("This recording has already stopped; start a new one.")
        if self._recorder is not None:
            raise Conflict("The recording is running; its tracks cannot change until it stops.")
        previous = self._connections.pop(party, None)
        if previous is not None:
            # A reload of the page: its new connection replaces the old one.
            await previous.close()
        connection = peer_connection.new_peer_connection(self._ice_urls)
        tracks: list[MediaStreamTrack] = []
        connection.on("track", tracks.append)
        self._connections[party], self._tracks[party] = connection, tracks
        await peer_connection.accept_offer(connection, offer_sdp)
        sdp = await peer_connection.answer(connection)
        if all(party in self._connections for party in PARTIES):
            await self._start()
        return sdp

    async def _start(self) -> None:
        recorder = MediaRecorder(str(self.path), format="webm")
        for party in PARTIES:
            for track in self._tracks[party]:
                recorder.addTrack(_Tap(track, self._progress, self.frames))
        await recorder.start()
        self._recorder, self.started_at = recorder, utc_now()

    async def recorded(self, *, video: int, audio: int) -> None:
        """Returns once at least this many frames of each kind have been written."""
        async with self._progress:
            await self._progress.wait_for(
                lambda: self.frames["video"] >= video and self.frames["audio"] >= audio
            )

    async def close(self) -> None:
        """Stops recording, hangs up both parties and hands the file (if any) to `on_finished`."""
        if self._finished:
            return
        self._finished = True
        recorder, self._recorder = self._recorder, None
        try:
            if recorder is not None:
                await recorder.stop()
                self.ended_at = utc_now()
        finally:
            for connection in self._connections.values():
                await connection.close()
        if self.ended_at is not None:
            await self._on_finished(self)
