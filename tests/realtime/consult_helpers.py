"""Test support for consultations: video appointments, a signalling client, and an aiortc peer."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, MediaStreamTrack, VideoStreamTrack
from aiortc.sdp import candidate_from_sdp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from clinical.organisation import practitioners
from clinical.organisation.models import Practitioner
from clinical.organisation.schemas import PractitionerCreate
from clinical.patients.models import Patient
from clinical.scheduling.models import Appointment, AppointmentMode
from core.db import utc_now
from core.identity.models import User
from core.principal import SYSTEM, Role
from core.sessions import transaction
from tests.builders import unique_email
from tests.clinical.builders import create_patient, create_patient_user, create_practitioner, unique_name
from tests.clinical.scheduling_builders import appointment_row, appointment_type

RECEIVE_TIMEOUT_S = 20.0
# Frames each way before the media counts as flowing (a fraction of a second of audio and video).
FRAMES_WANTED = 10


@dataclass
class VideoVisit:
    appointment: Appointment
    patient: User
    clinician: User
    practitioner: Practitioner
    patient_password: str
    clinician_password: str

    @property
    def room(self) -> uuid.UUID:
        return self.appointment.id


async def video_visit(
    sessions: async_sessionmaker[AsyncSession],
    *,
    starts_in: timedelta = timedelta(minutes=5),
    mode: AppointmentMode = AppointmentMode.VIDEO,
    passwords: bool = True,
) -> VideoVisit:
    """A booked video appointment of a new patient (with an account) and a new clinician.

    `passwords=False` skips password hashing (seconds on a busy machine) for tests that sign in with
    `token_for`; their passwords are then empty.
    """
    if passwords:
        patient, record, patient_password = await create_patient_user(sessions)
        practitioner, clinician, clinician_password = await create_practitioner(sessions)
    else:
        patient, record, clinician, practitioner = await _people_without_passwords(sessions)
        patient_password = clinician_password = ""
    kind = await appointment_type(sessions, mode=mode, duration_minutes=20)
    start = (utc_now() + starts_in).replace(microsecond=0)
    appointment = await appointment_row(
        sessions, patient_id=record.id, practitioner_id=practitioner.id, kind=kind, start_at=start
    )
    return VideoVisit(
        appointment=appointment,
        patient=patient,
        clinician=clinician,
        practitioner=practitioner,
        patient_password=patient_password,
        clinician_password=clinician_password,
    )


async def _people_without_passwords(
    sessions: async_sessionmaker[AsyncSession],
) -> tuple[User, Patient, User, Practitioner]:
    record = await create_patient(sessions)
    # "!" is no hash of anything: these accounts can never sign in with a password.
    patient = User(email=unique_email("patient"), full_name="Test Patient", role=Role.PATIENT,
                   patient_id=record.id, password_hash="!")  # fmt: skip
    clinician = User(email=unique_email("clinician"), full_name="Test Clinician", role=Role.CLINICIAN,
                     password_hash="!")  # fmt: skip
    async with transaction(sessions) as session:
        session.add_all([patient, clinician])
        await session.flush()
        practitioner = await practitioners.create_practitioner(
            session=session,
            actor=SYSTEM,
            data=PractitionerCreate(user_id=clinician.id, given_name="Test", family_name=unique_name("Doc")),
        )
    return patient, record, clinician, practitioner


class ConsultClient:
    """A signalling client: messages not yet asked for wait in an inbox, in order."""

    def __init__(self, connection: ClientConnection) -> None:
        self.ws = connection
        self.inbox: list[dict[str, Any]] = []

    async def send(self, **message: Any) -> None:
        await self.ws.send(json.dumps(message, default=str))

    async def expect(self, *types: str, **matching: Any) -> dict[str, Any]:
        """The first message (inbox first) of one of `types` whose fields equal `matching`."""
        for n, message in enumerate(self.inbox):
            if _matches(message, types, matching):
                return self.inbox.pop(n)
        async with asyncio.timeout(RECEIVE_TIMEOUT_S):
            while True:
                message = json.loads(await self.ws.recv())
                if _matches(message, types, matching):
                    return message
                self.inbox.append(message)

    async def error_for(self, ref: str) -> dict[str, Any]:
        """The `error` answering a message of type `ref`."""
        return await self.expect("error", ref=ref)

    async def join(self, room: uuid.UUID) -> dict[str, Any]:
        await self.send(type="join", room=room)
        return await self.expect("joined", "error")

    async def closed_with(self) -> int:
        """Waits until the server closes the socket; its close code."""
        async with asyncio.timeout(RECEIVE_TIMEOUT_S):
            with contextlib.suppress(ConnectionClosed):
                while True:
                    self.inbox.append(json.loads(await self.ws.recv()))
        assert self.ws.close_code is not None
        return self.ws.close_code


def _matches(message: dict[str, Any], types: tuple[str, ...], matching: dict[str, Any]) -> bool:
    return message.get("type") in types and all(message.get(k) == v for k, v in matching.items())


@asynccontextmanager
async def consult_client(url: str, token: str | None, **options: Any) -> AsyncIterator[ConsultClient]:
    """A connected client, signed in with `token` (its `ready` received) unless token is None."""
    async with connect(url, open_timeout=RECEIVE_TIMEOUT_S, max_size=2**20, **options) as connection:
        client = ConsultClient(connection)
        if token is not None:
            await client.send(type="auth", token=token)
            ready = await client.expect("ready")
            assert ready["type"] == "ready"
        yield client


def split_candidates(sdp: str) -> tuple[str, list[dict[str, Any]]]:
    """The SDP without its candidates, and those as trickled RTCIceCandidateInit, per m-line."""
    lines, candidates, mid, index = [], [], None, -1
    for line in sdp.splitlines():
        if line.startswith("m="):
            index += 1
        if line.startswith("a=mid:"):
            mid = line.removeprefix("a=mid:")
        if line.startswith("a=candidate:"):
            candidates.append({"candidate": line.removeprefix("a="), "sdpMid": mid, "sdpMLineIndex": index})
            continue
        if line.startswith("a=end-of-candidates"):
            continue
        lines.append(line)
    return "\r\n".join(lines) + "\r\n", candidates


@dataclass
class Peer:
    """An aiortc endpoint with test sources (silence, green frames) that counts frames it receives."""

    client: ConsultClient
    pc: RTCPeerConnection = field(default_factory=RTCPeerConnection)
    frames: dict[str, int] = field(default_factory=lambda: {"audio": 0, "video": 0})
    tracks_received: int = 0
    enough: asyncio.Event = field(default_factory=asyncio.Event)
    _readers: list[asyncio.Task[None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.pc.addTrack(AudioStreamTrack())
        self.pc.addTrack(VideoStreamTrack())
        self.pc.on("track", self._on_track)

    def _on_track(self, track: MediaStreamTrack) -> None:
        self.tracks_received += 1
        self._readers.append(asyncio.create_task(self._read(track)))

    async def _read(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                await track.recv()
                self.frames[track.kind] += 1
                if min(self.frames.values()) >= FRAMES_WANTED:
                    self.enough.set()

    async def offer_to(self, peer_id: str, purpose: str = "initial") -> None:
        """Offers, with its candidates trickled as separate `ice` messages and then end-of-candidates."""
        await self.pc.setLocalDescription(await self.pc.createOffer())
        sdp, candidates = split_candidates(self.pc.localDescription.sdp)
        await self.client.send(type="offer", to=peer_id, sdp=sdp, purpose=purpose)
        await self._trickle(peer_id, candidates)

    async def answer_offer(self) -> dict[str, Any]:
        """Answers the next offer (and its trickled candidates); returns the relayed offer."""
        offer = await self.client.expect("offer")
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type="offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        sdp, candidates = split_candidates(self.pc.localDescription.sdp)
        await self.client.send(type="answer", to=offer["from"], sdp=sdp)
        await self._trickle(offer["from"], candidates)
        await self.take_candidates(offer["from"])
        return offer

    async def take_answer(self, peer_id: str) -> None:
        answer = await self.client.expect("answer", **{"from": peer_id})
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
        await self.take_candidates(peer_id)

    async def take_candidates(self, peer_id: str) -> None:
        """Adds the trickled candidates from `peer_id` up to its end-of-candidates."""
        while True:
            message = await self.client.expect("ice", **{"from": peer_id})
            init = message["candidate"]
            if init is None:
                await self.pc.addIceCandidate(None)
                return
            candidate = candidate_from_sdp(init["candidate"].removeprefix("candidate:"))
            candidate.sdpMid, candidate.sdpMLineIndex = init["sdpMid"], init["sdpMLineIndex"]
            await self.pc.addIceCandidate(candidate)

    async def _trickle(self, peer_id: str, candidates: list[dict[str, Any]]) -> None:
        for candidate in candidates:
            await self.client.send(type="ice", to=peer_id, candidate=candidate)
        await self.client.send(type="ice", to=peer_id, candidate=None)

    async def media_flowing(self) -> None:
        async with asyncio.timeout(RECEIVE_TIMEOUT_S):
            await self.enough.wait()

    async def close(self) -> None:
        for reader in self._readers:
            reader.cancel()
        await self.pc.close()


def ends_after(closes_at: str, start: datetime) -> bool:
    return datetime.fromisoformat(closes_at) > start
