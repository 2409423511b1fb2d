"""Recording with consent: refused until both parties consent, then a playable WebM on the record."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import av
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from core.audit.models import AuditEvent
from core.identity.principal import Role
from realtime.consult.peers.recorder import Recording, recording_id
from tests.builders import http_client, login, signed_in
from tests.clinical.builders import create_patient_user, create_practitioner
from tests.realtime.test_consult_peers import MEDIA_TIMEOUT_S, MediaClient, SmallCamera

API = "/api/v1"


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(app) as http:
        yield http


@dataclass
class Consultation:
    encounter_id: str
    patient_id: uuid.UUID
    patient: dict[str, str]
    clinician: dict[str, str]

    @property
    def recording(self) -> str:
        return f"{API}/encounters/{self.encounter_id}/recording"


@pytest.fixture
async def consultation(client, sessions) -> Consultation:
    _, clinician_user, clinician_password = await create_practitioner(sessions)
    patient_user, patient, patient_password = await create_patient_user(sessions)
    clinician = await login(client, clinician_user.email, clinician_password)
    opened = await client.post(
        f"{API}/encounters",
        json={"patient_id": str(patient.id), "encounter_class": "virtual", "reason": "Video follow-up"},
        headers=clinician,
    )
    assert opened.status_code == 201, opened.text
    return Consultation(
        encounter_id=opened.json()["id"],
        patient_id=patient.id,
        patient=await login(client, patient_user.email, patient_password),
        clinician=clinician,
    )


async def consent(client, consultation: Consultation, headers, *, given: bool = True) -> dict:
    response = await client.put(f"{consultation.recording}/consent", json={"consent": given}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_both_parties_consent_and_the_recording_becomes_a_playable_document(
    client, consultation, app, tmp_path
) -> None:
    state = await consent(client, consultation, consultation.patient)
    assert (state["patient_consent"], state["clinician_consent"]) == (True, False)
    state = await consent(client, consultation, consultation.clinician)
    assert (state["patient_consent"], state["clinician_consent"]) == (True, True)

    patient_media, clinician_media = MediaClient(SmallCamera), MediaClient(SmallCamera)
    try:
        for media, headers in (
            (patient_media, consultation.patient),
            (clinician_media, consultation.clinician),
        ):
            answered = await client.post(
                f"{consultation.recording}/media", json=await media.offer(), headers=headers
            )
            assert answered.status_code == 201, answered.text
            await media.accept(answered.json())
        recording = app.state.peer_registry.get(recording_id(uuid.UUID(consultation.encounter_id)))
        assert isinstance(recording, Recording)
        # About a second of both parties: 30 video and 50 audio frames a second each.
        await asyncio.wait_for(recording.recorded(video=60, audio=100), MEDIA_TIMEOUT_S)
        state = (await client.get(consultation.recording, headers=consultation.patient)).json()
        assert state["recording"] is True
        assert sorted(state["participants"]) == ["clinician", "patient"]

        stopped = await client.post(f"{consultation.recording}/stop", headers=consultation.clinician)
        assert stopped.status_code == 200, stopped.text
    finally:
        await patient_media.close()
        await clinician_media.close()
    document = stopped.json()
    assert document["content_type"] == "video/webm"
    assert consultation.encounter_id in document["title"]

    # The patient downloads it like any document of their record, and it plays.
    content = await client.get(f"{API}/documents/{document['id']}/content", headers=consultation.patient)
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
    assert app.state.peer_registry.get(recording_id(uuid.UUID(consultation.encounter_id))) is None


async def test_without_both_consents_the_recorder_refuses_and_says_who_is_missing(
    client, consultation, app, sessions
) -> None:
    media = MediaClient()
    try:
        offer = await media.offer()
        refused = await client.post(
            f"{consultation.recording}/media", json=offer, headers=consultation.patient
        )
        assert refused.status_code == 403
        assert "the patient's and the clinician's" in refused.json()["detail"]
        await consent(client, consultation, consultation.patient)
        refused = await client.post(
            f"{consultation.recording}/media", json=offer, headers=consultation.patient
        )
        assert refused.status_code == 403
        assert "the clinician" in refused.json()["detail"]
        # Consent given then withdrawn is no consent.
        await consent(client, consultation, consultation.clinician)
        await consent(client, consultation, consultation.clinician, given=False)
        refused = await client.post(
            f"{consultation.recording}/media", json=offer, headers=consultation.clinician
        )
        assert refused.status_code == 403
    finally:
        await media.close()
    assert app.state.peer_registry.get(recording_id(uuid.UUID(consultation.encounter_id))) is None
    async with sessions() as session:
        trail = (
            await session.execute(
                select(AuditEvent.action, AuditEvent.outcome, AuditEvent.detail)
                .where(AuditEvent.resource_id == consultation.encounter_id)
                .where(AuditEvent.resource_type == "consult_recording")
                .order_by(AuditEvent.seq)
            )
        ).all()
    assert [(action, outcome) for action, outcome, _ in trail] == [
        ("record", "denied"),
        ("give_consent", "success"),
        ("record", "denied"),
        ("give_consent", "success"),
        ("withdraw_consent", "success"),
        ("record", "denied"),
    ]
    assert [detail.get("party") for action, _, detail in trail if "consent" in action] == [
        "patient",
        "clinician",
        "clinician",
    ]


async def test_withdrawing_consent_stops_a_running_recording_and_keeps_what_was_recorded(
    client, consultation, app, sessions
) -> None:
    await consent(client, consultation, consultation.patient)
    await consent(client, consultation, consultation.clinician)
    patient_media, clinician_media = MediaClient(SmallCamera), MediaClient(SmallCamera)
    try:
        for media, headers in (
            (patient_media, consultation.patient),
            (clinician_media, consultation.clinician),
        ):
            answered = await client.post(
                f"{consultation.recording}/media", json=await media.offer(), headers=headers
            )
            await media.accept(answered.json())
        recording = app.state.peer_registry.get(recording_id(uuid.UUID(consultation.encounter_id)))
        await asyncio.wait_for(recording.recorded(video=10, audio=10), MEDIA_TIMEOUT_S)
        state = await consent(client, consultation, consultation.patient, given=False)
    finally:
        await patient_media.close()
        await clinician_media.close()
    assert (state["patient_consent"], state["recording"]) == (False, False)
    assert recording.document_id is not None
    listed = await client.get(
        f"{API}/patients/{consultation.patient_id}/documents", headers=consultation.clinician
    )
    assert str(recording.document_id) in [item["id"] for item in listed.json()["items"]]


async def test_only_the_encounters_own_parties_take_part(client, sessions, consultation) -> None:
    url = consultation.recording
    calls = (
        ("PUT", f"{url}/consent", {"consent": True}),
        ("GET", url, None),
        ("POST", f"{url}/media", {"type": "offer", "sdp": "v=0"}),
        ("POST", f"{url}/stop", None),
    )
    # Another patient, and staff who are not this encounter's clinician (another clinician included).
    for role in (Role.PATIENT, Role.CLINICIAN, Role.NURSE, Role.ADMIN):
        _, outsider = await signed_in(client, sessions, role)
        for method, path, body in calls:
            response = await client.request(method, path, json=body, headers=outsider)
            assert response.status_code == 403, (role, method, path, response.text)
    for method, path, body in calls:
        assert (await client.request(method, path, json=body)).status_code == 401
