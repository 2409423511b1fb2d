"""The recorder joins the consult room through the signalling: admitted like a guest, it receives the
patient's and the clinician's media (aiortc clients here) and leaves a playable WebM on the record."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import av
from aiortc import AudioStreamTrack, RTCConfiguration, RTCPeerConnection

from core.settings import Settings
from realtime.consult.peers.recorder import Recording, recording_id
from tests.builders import http_client, login
from tests.realtime.consult_helpers import ConsultClient, Peer, VideoVisit, consult_client, video_visit
from tests.realtime.hub_helpers import serve_app, token_for
from tests.realtime.test_consult_peers import MEDIA_TIMEOUT_S, SmallCamera

API = "/api/v1"


@dataclass
class SmallPeer(Peer):
    """The signalling tests' peer with a small camera, so that encoding keeps up on a loaded machine."""

    pc: RTCPeerConnection = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pc.addTrack(AudioStreamTrack())
        self.pc.addTrack(SmallCamera())
        self.pc.on("track", self._on_track)


@dataclass
class Room:
    visit: VideoVisit
    http: Any
    app: Any
    patient_ws: ConsultClient
    clinician_ws: ConsultClient
    patient: dict[str, str]
    clinician: dict[str, str]
    encounter_id: str

    @property
    def recording(self) -> str:
        return f"{API}/encounters/{self.encounter_id}/recording"


@asynccontextmanager
async def consultation_in_progress(settings: Settings, sessions, monkeypatch) -> AsyncIterator[Room]:
    """A video visit whose patient the clinician has admitted (which opens the encounter)."""
    # Small video, as the test cameras send: encoding stays quick on a loaded test machine.
    monkeypatch.setenv("OWNAT_RECORDING_WIDTH", "160")
    monkeypatch.setenv("OWNAT_RECORDING_HEIGHT", "120")
    visit = await video_visit(sessions)
    async with serve_app(settings) as running, http_client(running.app) as http:
        url = running.url.replace("/ws", "/ws/consult")
        async with (
            consult_client(url, token_for(visit.patient, settings)) as patient_ws,
            consult_client(url, token_for(visit.clinician, settings)) as clinician_ws,
        ):
            patient_id = (await patient_ws.join(visit.room))["participant"]["id"]
            await clinician_ws.join(visit.room)
            await clinician_ws.send(type="admit", participant=patient_id)
            await patient_ws.expect("admitted")
            clinician = await login(http, visit.clinician.email, visit.clinician_password)
            consult = await http.get(f"{API}/consults/{visit.room}", headers=clinician)
            assert consult.status_code == 200, consult.text
            yield Room(
                visit=visit,
                http=http,
                app=running.app,
                patient_ws=patient_ws,
                clinician_ws=clinician_ws,
                patient=await login(http, visit.patient.email, visit.patient_password),
                clinician=clinician,
                encounter_id=consult.json()["encounter_id"],
            )


async def admit_recorder(room: Room) -> str:
    """Both consent, the clinician starts the recorder and admits it from the waiting room."""
    for headers in (room.patient, room.clinician):
        given = await room.http.put(f"{room.recording}/consent", json={"consent": True}, headers=headers)
        assert given.status_code == 200, given.text
    refused = await room.http.post(f"{room.recording}/recorder", headers=room.patient)
    assert refused.status_code == 403
    started = await room.http.post(f"{room.recording}/recorder", headers=room.clinician)
    assert started.status_code == 201, started.text
    recorder_id = started.json()["participant_id"]
    waiting = await room.clinician_ws.expect("waiting")
    while recorder_id not in [p["id"] for p in waiting["waiting"]]:
        waiting = await room.clinician_ws.expect("waiting")
    assert [p["display_name"] for p in waiting["waiting"]] == ["Recording"]
    again = await room.http.post(f"{room.recording}/recorder", headers=room.clinician)
    assert again.status_code == 409
    await room.clinician_ws.send(type="admit", participant=recorder_id)
    return recorder_id


async def test_the_recorder_joins_the_room_and_its_file_is_attached_to_the_encounter(
    settings: Settings, sessions, tmp_path, monkeypatch
) -> None:
    async with consultation_in_progress(settings, sessions, monkeypatch) as room:
        recorder_id = await admit_recorder(room)
        patient, clinician = SmallPeer(room.patient_ws), SmallPeer(room.clinician_ws)
        try:
            for peer in (patient, clinician):
                offer = await peer.answer_offer()
                assert offer["from"] == recorder_id
            recording = room.app.state.peer_registry.get(recording_id(uuid.UUID(room.encounter_id)))
            assert isinstance(recording, Recording)
            # About a second of both parties: 30 video and 50 audio frames a second each.
            await asyncio.wait_for(recording.recorded(video=60, audio=100), MEDIA_TIMEOUT_S)
            state = (await room.http.get(room.recording, headers=room.patient)).json()
            assert (state["recording"], sorted(state["participants"])) == (True, ["clinician", "patient"])

            stopped = await room.http.post(f"{room.recording}/stop", headers=room.clinician)
            assert stopped.status_code == 200, stopped.text
            left = await room.patient_ws.expect("peer-left", participant=recorder_id)
            assert left["reason"] == "left"
        finally:
            await patient.close()
            await clinician.close()
        document = stopped.json()
        assert (document["content_type"], document["patient_id"]) == (
            "video/webm",
            str(room.visit.appointment.patient_id),
        )
        assert room.encounter_id in document["title"]
        content = await room.http.get(f"{API}/documents/{document['id']}/content", headers=room.patient)
        assert content.status_code == 200
    path = tmp_path / "consultation.webm"
    path.write_bytes(content.content)
    with av.open(str(path)) as container:
        kinds = sorted(stream.type for stream in container.streams)
        duration_s = container.duration / av.time_base
        decoded = sum(1 for _ in container.decode(video=0))
    assert kinds == ["audio", "audio", "video", "video"]
    assert duration_s >= 0.8
    assert decoded >= 20


async def test_withdrawing_consent_stops_the_recording_and_keeps_what_was_recorded(
    settings: Settings, sessions, monkeypatch
) -> None:
    async with consultation_in_progress(settings, sessions, monkeypatch) as room:
        recorder_id = await admit_recorder(room)
        patient, clinician = SmallPeer(room.patient_ws), SmallPeer(room.clinician_ws)
        try:
            for peer in (patient, clinician):
                await peer.answer_offer()
            recording = room.app.state.peer_registry.get(recording_id(uuid.UUID(room.encounter_id)))
            await asyncio.wait_for(recording.recorded(video=10, audio=10), MEDIA_TIMEOUT_S)
            withdrawn = await room.http.put(
                f"{room.recording}/consent", json={"consent": False}, headers=room.patient
            )
            assert withdrawn.status_code == 200
            assert (withdrawn.json()["patient_consent"], withdrawn.json()["recording"]) == (False, False)
            await room.clinician_ws.expect("peer-left", participant=recorder_id)
        finally:
            await patient.close()
            await clinician.close()
        assert recording.document_id is not None
        listed = await room.http.get(
            f"{API}/patients/{room.visit.appointment.patient_id}/documents", headers=room.clinician
        )
        assert str(recording.document_id) in [item["id"] for item in listed.json()["items"]]
