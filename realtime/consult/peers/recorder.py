"""The recording: the patient's and the clinician's tracks, received by aiortc, in one WebM file.

`RoomRecorder` negotiates a receive-only connection with each party and hands it over. The file's
streams are fixed when it starts, so recording begins once both parties are connected; it stops
when asked, when either party withdraws consent, at its time limit or at shutdown, and in every case
`on_finished` receives the file. (`webm_writer` says why this is not aiortc's MediaRecorder.)
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

from aiortc import MediaStreamTrack, RTCPeerConnection

from core.db import utc_now
from core.errors import Conflict
from realtime.consult.peers.consent import Party
from realtime.consult.peers.webm_writer import WebmWriter

log = logging.getLogger(__name__)
PARTIES: tuple[Party, ...] = ("patient", "clinician")
# The recording of an encounter has a fixed id, so every request finds it in the registry.
_RECORDING_NAMESPACE = uuid.UUID("6f1d3c1e-8f55-4f0e-9a53-2c0f6e0b7a11")
OnFinished = Callable[["Recording"], Awaitable[None]]
VIDEO_BIT_RATE = 600_000  # per party: faces stay sharp, an hour stays under a gigabyte


def recording_id(encounter_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(_RECORDING_NAMESPACE, str(encounter_id))


class Recording:
    """The recording of one encounter on this api instance."""

    weight = len(PARTIES)

    def __init__(
        self,
        *,
        encounter_id: uuid.UUID,
        path: Path,
        on_finished: OnFinished,
        size: tuple[int, int] = (640, 480),
    ) -> None:
        self.size = size
        self.id = recording_id(encounter_id)
        self.encounter_id = encounter_id
        self.path = path
        self.started_at: datetime | None = None
        self.ended_at: datetime | None = None
        self.document_id: uuid.UUID | None = None
        self._on_finished = on_finished
        self._connections: dict[Party, RTCPeerConnection] = {}
        self._tracks: dict[Party, list[MediaStreamTrack]] = {}
        self._writer: WebmWriter | None = None
        self._started = asyncio.Event()
        self._finished = False
        # Run when the recording closes, before the file is handed over (e.g. leaving the room).
        self.closers: list[Callable[[], Awaitable[None]]] = []

    @property
    def parties(self) -> list[Party]:
        return [party for party in PARTIES if party in self._connections]

    @property
    def recording(self) -> bool:
        return self._writer is not None

    @property
    def frames(self) -> dict[str, int]:
        """Frames written so far, by kind (both parties together)."""
        return dict(self._writer.frames) if self._writer else {"audio": 0, "video": 0}

    def _require_open(self) -> None:
        if self._finished:
            raise Conflict("This recording has already stopped; start a new one.")
        if self._writer is not None:
            raise Conflict("The recording is running; its tracks cannot change until it stops.")

    async def add_connection(
        self, party: Party, connection: RTCPeerConnection, tracks: list[MediaStreamTrack]
    ) -> None:
        """Takes a negotiated connection carrying `party`'s tracks; with both parties, recording starts."""
        self._require_open()
        previous = self._connections.pop(party, None)
        if previous is not None and previous is not connection:
            # A reload of the page: its new connection replaces the old one.
            await previous.close()
        self._connections[party], self._tracks[party] = connection, tracks
        if all(party in self._connections for party in PARTIES):
            await self._start()

    async def _start(self) -> None:
        width, height = self.size
        writer = WebmWriter(self.path, width=width, height=height, video_bit_rate=VIDEO_BIT_RATE)
        for party in PARTIES:
            for track in self._tracks[party]:
                writer.add_track(track)
        writer.start()
        self._writer, self.started_at = writer, utc_now()
        self._started.set()

    async def recorded(self, *, video: int, audio: int) -> None:
        """Returns once recording has started and written at least this many frames of each kind."""
        await self._started.wait()
        writer = self._writer
        assert writer is not None, "the recording stopped before writing that much"
        async with writer.progress:
            await writer.progress.wait_for(
                lambda: writer.frames["video"] >= video and writer.frames["audio"] >= audio
            )

    async def close(self) -> None:
        """Stops recording, hangs up both parties and hands the file (if any) to `on_finished`."""
        if self._finished:
            return
        self._finished = True
        writer, self._writer = self._writer, None
        try:
            if writer is not None:
                await writer.stop()
                self.ended_at = utc_now()
        finally:
            for connection in self._connections.values():
                await connection.close()
            for closer in self.closers:
                await closer()
        if self.ended_at is None:
            return
        if not self.path.exists():
            # Stopped before the first frame was written: there is nothing to attach.
            log.info("recording of encounter %s stopped before any media was written", self.encounter_id)
            return
        await self._on_finished(self)
