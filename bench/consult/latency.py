"""Admission to connected media: the clinician admits, the patient offers, both receive frames."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, MediaStreamTrack, VideoStreamTrack
from websockets.asyncio.client import ClientConnection, connect

from bench.consult.visits import Visit

GUARD_S = 60.0


class Side:
    """One party: its signalling socket and an aiortc peer with test sources."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.pc = RTCPeerConnection()
        self.pc.addTrack(AudioStreamTrack())
        self.pc.addTrack(VideoStreamTrack())
        self.media = asyncio.Event()
        self._kinds: set[str] = set()
        self._readers: list[asyncio.Task[None]] = []
        self.pc.on("track", lambda track: self._readers.append(asyncio.create_task(self._read(track))))

    async def _read(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                await track.recv()
                self._kinds.add(track.kind)
                if self._kinds == {"audio", "video"}:
                    self.media.set()

    async def send(self, **message: Any) -> None:
        await self.ws.send(json.dumps(message, default=str))

    async def expect(self, kind: str) -> dict[str, Any]:
        while True:
            message = json.loads(await self.ws.recv())
            if message["type"] == kind:
                return message

    async def close(self) -> None:
        for reader in self._readers:
            reader.cancel()
        await self.pc.close()


async def _signed_in(url: str, token: str) -> ClientConnection:
    ws = await connect(url, max_size=2**20)
    await ws.send(json.dumps({"type": "auth", "token": token}))
    return ws


async def admission_to_media_s(url: str, visit: Visit) -> float:
    """Seconds from the clinician's `admit` to audio and video frames received on both sides."""
    patient = Side(await _signed_in(url, visit.patient_token))
    clinician = Side(await _signed_in(url, visit.clinician_token))
    try:
        async with asyncio.timeout(GUARD_S):
            await patient.send(type="join", room=visit.room)
            patient_id = (await patient.expect("joined"))["participant"]["id"]
            await clinician.send(type="join", room=visit.room)
            clinician_id = (await clinician.expect("joined"))["participant"]["id"]
            await clinician.expect("waiting")
            started = time.perf_counter()
            await clinician.send(type="admit", participant=patient_id)
            await patient.expect("admitted")
            # aiortc gathers its candidates before the offer is out: no trickling needed here.
            await patient.pc.setLocalDescription(await patient.pc.createOffer())
            await patient.send(type="offer", to=clinician_id, sdp=patient.pc.localDescription.sdp)
            offer = await clinician.expect("offer")
            await clinician.pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type="offer"))
            await clinician.pc.setLocalDescription(await clinician.pc.createAnswer())
            await clinician.send(type="answer", to=patient_id, sdp=clinician.pc.localDescription.sdp)
            answer = await patient.expect("answer")
            await patient.pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
            await asyncio.gather(patient.media.wait(), clinician.media.wait())
            elapsed = time.perf_counter() - started
            await clinician.send(type="end")
            return elapsed
    finally:
        for side in (patient, clinician):
            await side.close()
            await side.ws.close()
