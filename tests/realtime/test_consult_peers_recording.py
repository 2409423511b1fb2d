"""Recording with consent, refused: who may take part, which consents are missing, and the audit trail."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from core.audit.models import AuditEvent
from core.principal import Role
from realtime.consult.peers.recorder import recording_id
from tests.builders import http_client, login, signed_in
from tests.clinical.builders import create_patient_user, create_practitioner

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


async def test_without_both_consents_the_recorder_refuses_and_says_who_is_missing(
    client, consultation, app, sessions
) -> None:
    start = f"{consultation.recording}/recorder"
    refused = await client.post(start, headers=consultation.clinician)
    assert refused.status_code == 403
    assert "the patient's and the clinician's" in refused.json()["detail"]
    await consent(client, consultation, consultation.patient)
    refused = await client.post(start, headers=consultation.clinician)
    assert refused.status_code == 403
    assert "the clinician's" in refused.json()["detail"]
    # Consent given then withdrawn is no consent.
    await consent(client, consultation, consultation.clinician)
    await consent(client, consultation, consultation.clinician, given=False)
    refused = await client.post(start, headers=consultation.clinician)
    assert refused.status_code == 403
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


async def test_a_walk_in_encounter_has_no_room_to_record(client, consultation) -> None:
    await consent(client, consultation, consultation.patient)
    await consent(client, consultation, consultation.clinician)
    response = await client.post(f"{consultation.recording}/recorder", headers=consultation.clinician)
    assert response.status_code == 409
    assert "no video consultation room" in response.json()["detail"]


async def test_only_the_encounters_own_parties_take_part(client, sessions, consultation) -> None:
    url = consultation.recording
    calls = (
        ("PUT", f"{url}/consent", {"consent": True}),
        ("GET", url, None),
        ("POST", f"{url}/recorder", None),
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
