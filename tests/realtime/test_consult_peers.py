"""The pre-call echo peer over the API, driven by an aiortc client: media returns, limits hold."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from aiortc import (
    AudioStreamTrack,
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
    VideoStreamTrack,
)
from av import VideoFrame
from fastapi import FastAPI
from sqlalchemy import select

from core.audit.models import AuditEvent
from core.principal import Role
from tests.builders import http_client, signed_in
from tests.clinical.builders import signed_in_patient

API = "/api/v1"
PRECALL = f"{API}/consult/precall"
# Generous for a loaded machine: ICE, DTLS and the first decoded frame on loopback.
MEDIA_TIMEOUT_S = 30


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(app) as http:
        yield http


class SmallCamera(VideoStreamTrack):
    """A 160x120 camera: enough to prove frames flow, cheap to encode on a loaded 2-core machine."""

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame(width=160, height=120)
        for plane in frame.planes:
            plane.update(bytes([pts // 3000 % 200 + 20]) * plane.buffer_size)
        frame.pts, frame.time_base = pts, time_base
        return frame


class MediaClient:
    """An aiortc browser stand-in: a synthetic camera and microphone, and the first frame of each kind back."""

    def __init__(self, camera: type[VideoStreamTrack] = VideoStreamTrack) -> None:
        self._camera = camera
        # No STUN server: loopback host candidates suffice, and a public server would only add a timeout.
        self.connection = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        loop = asyncio.get_running_loop()
        self.received: dict[str, asyncio.Future[object]] = {
            k: loop.create_future() for k in ("video", "audio")
        }
        self._readers: list[asyncio.Task[None]] = []
        self.connection.on(
            "track", lambda track: self._readers.append(asyncio.ensure_future(self._read(track)))
        )

    async def _read(self, track: MediaStreamTrack) -> None:
        frame = await track.recv()
        self.received[track.kind].set_result(frame)

    async def offer(self) -> dict[str, str]:
        self.connection.addTrack(self._camera())
        self.connection.addTrack(AudioStreamTrack())
        await self.connection.setLocalDescription(await self.connection.createOffer())
        return {"type": "offer", "sdp": self.connection.localDescription.sdp}

    async def accept(self, body: dict[str, str]) -> None:
        await self.connection.setRemoteDescription(RTCSessionDescription(sdp=body["sdp"], type=body["type"]))

    async def close(self) -> None:
        for reader in self._readers:
            reader.cancel()
        await self.connection.close()


@pytest.fixture
async def media() -> AsyncIterator[MediaClient]:
    created = MediaClient()
    try:
        yield created
    finally:
        await created.close()


async def test_a_patient_sees_their_own_camera_and_microphone_come_back(client, sessions, app, media) -> None:
    patient, headers = await signed_in_patient(client, sessions)
    response = await client.post(PRECALL, json=await media.offer(), headers=headers)
    assert response.status_code == 201, response.text
    body = response.json()
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert (
        timedelta(0)
        < expires_at - datetime.now(UTC)
        <= timedelta(seconds=app.state.peer_settings.precall_duration_s)
    )
    await media.accept(body)
    video, audio = await asyncio.wait_for(
        asyncio.gather(media.received["video"], media.received["audio"]), MEDIA_TIMEOUT_S
    )
    # VideoStreamTrack sends 640x480 frames; the echo returns them, decoded and re-encoded.
    assert (video.width, video.height) == (640, 480)
    assert audio.sample_rate == 48000
    peer_id = uuid.UUID(body["peer_id"])
    assert app.state.peer_registry.get(peer_id) is not None
    async with sessions() as session:
        started = await session.scalar(
            select(AuditEvent).where(
                AuditEvent.resource_type == "precall_check", AuditEvent.resource_id == str(peer_id)
            )
        )
    assert (started.action, started.patient_id, started.outcome) == ("start", patient.id, "success")

    stopped = await client.delete(f"{PRECALL}/{peer_id}", headers=headers)
    assert stopped.status_code == 204
    assert app.state.peer_registry.get(peer_id) is None


async def test_a_clinician_may_run_the_check_and_nobody_may_stop_anothers(
    client, sessions, app, media
) -> None:
    _, clinician = await signed_in(client, sessions, Role.CLINICIAN)
    response = await client.post(PRECALL, json=await media.offer(), headers=clinician)
    assert response.status_code == 201, response.text
    peer_id = response.json()["peer_id"]
    _, someone_else = await signed_in_patient(client, sessions)
    refused = await client.delete(f"{PRECALL}/{peer_id}", headers=someone_else)
    assert refused.status_code == 404
    assert app.state.peer_registry.get(uuid.UUID(peer_id)) is not None
    assert (await client.delete(f"{PRECALL}/{peer_id}", headers=clinician)).status_code == 204
    assert (await client.delete(f"{PRECALL}/{peer_id}", headers=clinician)).status_code == 404


async def test_without_a_token_it_is_401(client, media) -> None:
    response = await client.post(PRECALL, json=await media.offer())
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (await client.delete(f"{PRECALL}/{uuid.uuid4()}")).status_code == 401


@pytest.mark.parametrize("role", [Role.NURSE, Role.ADMIN])
async def test_other_staff_roles_are_refused_and_the_refusal_is_audited(
    client, sessions, app, media, role
) -> None:
    user, headers = await signed_in(client, sessions, role)
    before = len(app.state.peer_registry)
    response = await client.post(PRECALL, json=await media.offer(), headers=headers)
    assert response.status_code == 403
    assert "clinician" in response.json()["detail"]
    assert len(app.state.peer_registry) == before
    async with sessions() as session:
        denied = await session.scalar(
            select(AuditEvent).where(
                AuditEvent.actor_id == user.id, AuditEvent.resource_type == "precall_check"
            )
        )
    assert (denied.action, denied.outcome) == ("start", "denied")


async def test_an_unusable_offer_is_422_and_takes_no_place(client, sessions, app) -> None:
    _, headers = await signed_in_patient(client, sessions)
    before = app.state.peer_registry.connections
    response = await client.post(
        PRECALL, json={"type": "offer", "sdp": "v=0\r\nnot an offer\r\n"}, headers=headers
    )
    assert response.status_code == 422, response.text
    assert "SDP" in response.json()["detail"]
    wrong_type = await client.post(PRECALL, json={"type": "answer", "sdp": "v=0"}, headers=headers)
    assert wrong_type.status_code == 422
    assert app.state.peer_registry.connections == before


async def test_checks_are_rate_limited_per_user(app_with, sessions, monkeypatch) -> None:
    monkeypatch.setenv("OWNAT_PRECALL_PER_WINDOW", "2")
    async with app_with() as limited, http_client(limited) as http:
        _, headers = await signed_in_patient(http, sessions)
        for _ in range(2):
            media = MediaClient()
            try:
                assert (
                    await http.post(PRECALL, json=await media.offer(), headers=headers)
                ).status_code == 201
            finally:
                await media.close()
        media = MediaClient()
        try:
            refused = await http.post(PRECALL, json=await media.offer(), headers=headers)
        finally:
            await media.close()
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        # Another user is not affected by the first one's checks.
        _, other = await signed_in_patient(http, sessions)
        media = MediaClient()
        try:
            assert (await http.post(PRECALL, json=await media.offer(), headers=other)).status_code == 201
        finally:
            await media.close()


async def test_past_the_cap_the_server_says_503_and_shutdown_closes_every_peer(
    app_with, sessions, monkeypatch
) -> None:
    monkeypatch.setenv("OWNAT_CONSULT_PEERS_MAX", "1")
    async with app_with() as capped, http_client(capped) as http:
        _, headers = await signed_in_patient(http, sessions)
        first, second = MediaClient(), MediaClient()
        try:
            taken = await http.post(PRECALL, json=await first.offer(), headers=headers)
            assert taken.status_code == 201
            full = await http.post(PRECALL, json=await second.offer(), headers=headers)
            assert full.status_code == 503
            assert "try again" in full.json()["detail"]
            peer = capped.state.peer_registry.get(uuid.UUID(taken.json()["peer_id"]))
        finally:
            await first.close()
            await second.close()
    # The app has stopped: its lifespan hung up the peer.
    assert peer.state == "closed"
    assert len(capped.state.peer_registry) == 0
