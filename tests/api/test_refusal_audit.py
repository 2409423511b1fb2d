"""Every refusal is on the record with its request id: role checks that run before any service,
refusals a service records itself (once, not twice), and unauthenticated calls to routes that
need a user, which are rate-limited per address and route so that a flood cannot fill the log."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.refusal_audit import UNAUTHENTICATED_ENTRIES
from core.audit.models import AuditEvent
from tests.builders import http_client, login
from tests.clinical.builders import create_patient, create_patient_user, create_ward_with_beds


async def entries_of(
    sessions: async_sessionmaker[AsyncSession], response: httpx.Response
) -> list[AuditEvent]:
    async with sessions() as session:
        query = select(AuditEvent).where(AuditEvent.request_id == response.headers["x-request-id"])
        return list(await session.scalars(query))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/users"),
        ("GET", "/api/v1/audit/events"),
        ("GET", "/api/v1/wards/{ward}/census"),
        ("POST", "/api/v1/patients"),
    ],
)
async def test_a_patient_refused_by_a_role_check_is_audited_with_the_request_id(
    method: str, path: str, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, _, password = await create_patient_user(sessions)
    headers = await login(client, user.email, password)
    ward, _ = await create_ward_with_beds(sessions, beds=1)
    body = {"given_name": "Ada", "family_name": "Lovelace", "birth_date": "1990-01-01"}
    response = await client.request(
        method, path.format(ward=ward.id), headers=headers, json=body if method == "POST" else None
    )
    assert response.status_code == 403, response.text

    [entry] = await entries_of(sessions, response)
    assert (entry.outcome, entry.actor_id, entry.actor_role) == ("denied", user.id, "patient")
    assert entry.resource_id == f"{method} {path.replace('{ward}', '{ward_id}')}"
    assert entry.client_address is not None


async def test_a_refusal_the_service_recorded_is_not_recorded_twice(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, _, password = await create_patient_user(sessions)
    stranger = await create_patient(sessions)
    response = await client.get(
        f"/api/v1/patients/{stranger.id}", headers=await login(client, user.email, password)
    )
    assert response.status_code == 403
    [entry] = await entries_of(sessions, response)
    assert (entry.outcome, entry.patient_id) == ("denied", stranger.id)


async def test_unauthenticated_calls_to_patient_data_are_audited_but_a_flood_is_not(
    app: object, sessions: async_sessionmaker[AsyncSession]
) -> None:
    patient = await create_patient(sessions)
    recorded = []
    async with http_client(app) as client:  # type: ignore[arg-type]
        for _ in range(UNAUTHENTICATED_ENTRIES + 5):
            response = await client.get(
                f"/api/v1/patients/{patient.id}", headers={"Authorization": "Bearer forged"}
            )
            assert response.status_code == 401
            recorded.extend(await entries_of(sessions, response))
        fhir = await client.get(f"/fhir/R4/Patient/{patient.id}")
        assert fhir.status_code == 401
        [fhir_entry] = await entries_of(sessions, fhir)
    assert len(recorded) == UNAUTHENTICATED_ENTRIES
    assert {(e.outcome, e.actor_id, e.patient_id) for e in recorded} == {("denied", None, patient.id)}
    assert recorded[0].detail["status"] == 401
    assert fhir_entry.resource_id == "GET /fhir/R4/{resource_type}/{resource_id}"


async def test_failed_sign_ins_are_left_to_the_sign_in_audit(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    email = f"nobody-{uuid.uuid4().hex[:8]}@example.org"
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": "wrong password!"})
    assert response.status_code == 401
    [entry] = await entries_of(sessions, response)
    assert (entry.action, entry.outcome) == ("login", "failure")


async def test_a_refusal_at_sign_in_is_recorded_once_by_the_sign_in(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """An unconfirmed address is refused (403) with the sign-in's own entry, and no second one."""
    email, password = f"unconfirmed-{uuid.uuid4().hex[:8]}@example.org", "Lantern-Harbour-Quiet-93"
    body = {"email": email, "password": password, "full_name": "Sam Unconfirmed"}
    assert (await client.post("/api/v1/auth/register", json=body)).status_code == 202
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 403
    [entry] = await entries_of(sessions, response)
    assert (entry.action, entry.detail["reason"]) == ("login", "unverified email")
