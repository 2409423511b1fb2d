"""Patients through the API: create, read, update, who may do what, bad input, audit, registration."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.patients.models import Patient
from clinical.patients.names import is_well_formed_mrn
from core.db import utc_now
from core.identity.models import User
from core.outbox import EventType
from core.principal import Role
from tests.account_helpers import emailed_token
from tests.builders import login, strong_password, unique_email
from tests.clinical.builders import audit_trail, create_patient, signed_in_patient, unique_name
from tests.clinical.conftest import HeadersFor

STAFF = [Role.ADMIN, Role.CLINICIAN, Role.NURSE]


def new_patient_body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "given_name": "Ada",
        "family_name": unique_name("Lovelace"),
        "birth_date": "1985-12-10",
        "gender": "female",
        "phone": "+44 20 7946 0000",
        "country": "gb",
        "preferred_language": "en-GB",
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize("role", STAFF)
async def test_staff_register_a_patient_with_a_generated_mrn(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor, role: Role
) -> None:
    response = await client.post("/api/v1/patients", json=new_patient_body(), headers=await headers_for(role))
    assert response.status_code == 201, response.text
    body = response.json()
    assert is_well_formed_mrn(body["mrn"])
    assert body["country"] == "GB"
    assert body["birth_date"] == "1985-12-10"
    assert body["created_at"].endswith("Z") or "+00:00" in body["created_at"]
    assert ("create", "patient", "success") in await audit_trail(sessions, patient_id=body["id"])


async def test_concurrent_registrations_get_distinct_mrns(
    client: httpx.AsyncClient, headers_for: HeadersFor
) -> None:
    headers = await headers_for(Role.NURSE)
    responses = await asyncio.gather(
        *(client.post("/api/v1/patients", json=new_patient_body(), headers=headers) for _ in range(8))
    )
    assert [r.status_code for r in responses] == [201] * 8
    assert len({r.json()["mrn"] for r in responses}) == 8


async def test_unauthenticated_callers_get_401(client: httpx.AsyncClient) -> None:
    patient_id = "00000000-0000-4000-8000-000000000001"
    for method, path in [
        ("POST", "/api/v1/patients"),
        ("GET", "/api/v1/patients"),
        ("GET", f"/api/v1/patients/{patient_id}"),
        ("PATCH", f"/api/v1/patients/{patient_id}"),
    ]:
        response = await client.request(method, path, json={})
        assert response.status_code == 401, (method, path)
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_patient_may_not_register_patients(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, headers = await signed_in_patient(client, sessions)
    response = await client.post("/api/v1/patients", json=new_patient_body(), headers=headers)
    assert response.status_code == 403


async def test_a_patient_reads_their_own_record_and_not_anothers(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    patient, headers = await signed_in_patient(client, sessions)
    other = await create_patient(sessions)
    own = await client.get(f"/api/v1/patients/{patient.id}", headers=headers)
    assert own.status_code == 200
    assert own.json()["mrn"] == patient.mrn
    refused = await client.get(f"/api/v1/patients/{other.id}", headers=headers)
    assert refused.status_code == 403
    assert ("read", "patient", "success") in await audit_trail(sessions, patient_id=patient.id)
    assert ("access", "patient", "denied") in await audit_trail(sessions, patient_id=other.id)


@pytest.mark.parametrize("role", STAFF)
async def test_staff_read_any_patient_and_the_read_is_audited(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor, role: Role
) -> None:
    patient = await create_patient(sessions)
    response = await client.get(f"/api/v1/patients/{patient.id}", headers=await headers_for(role))
    assert response.status_code == 200
    assert response.json()["family_name"] == patient.family_name
    assert ("read", "patient", "success") in await audit_trail(sessions, patient_id=patient.id)


async def test_an_unknown_patient_is_404(client: httpx.AsyncClient, headers_for: HeadersFor) -> None:
    response = await client.get(
        "/api/v1/patients/00000000-0000-4000-8000-000000000002", headers=await headers_for(Role.CLINICIAN)
    )
    assert response.status_code == 404
    assert response.json()["code"] == "patient-not-found"


async def test_a_patient_updates_their_contact_details_but_not_their_name(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    patient, headers = await signed_in_patient(client, sessions)
    response = await client.patch(
        f"/api/v1/patients/{patient.id}", json={"phone": "+1 555 0100", "city": "Leeds"}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert (response.json()["phone"], response.json()["city"]) == ("+1 555 0100", "Leeds")
    refused = await client.patch(f"/api/v1/patients/{patient.id}", json={"family_name": "X"}, headers=headers)
    assert refused.status_code == 403
    assert "family_name" in refused.json()["detail"]
    other = await create_patient(sessions)
    assert (
        await client.patch(f"/api/v1/patients/{other.id}", json={"city": "X"}, headers=headers)
    ).status_code == 403


async def test_staff_update_demographics_and_search_follows(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor
) -> None:
    patient = await create_patient(sessions)
    headers = await headers_for(Role.NURSE)
    new_family = unique_name("Özdemir")
    response = await client.patch(
        f"/api/v1/patients/{patient.id}", json={"family_name": new_family, "gender": "male"}, headers=headers
    )
    assert response.status_code == 200, response.text
    found = await client.get(
        "/api/v1/patients", params={"name": new_family.lower().replace("ö", "o")}, headers=headers
    )
    assert [p["id"] for p in found.json()["items"]] == [str(patient.id)]
    assert ("update", "patient", "success") in await audit_trail(sessions, patient_id=patient.id)


@pytest.mark.parametrize(
    ("birth_date", "reason"),
    [
        ("2025-02-30", "day value is outside expected range"),
        ("1985-13-01", "month value is outside expected range"),
    ],
)
async def test_an_impossible_date_is_422_naming_the_field(
    client: httpx.AsyncClient, headers_for: HeadersFor, birth_date: str, reason: str
) -> None:
    response = await client.post(
        "/api/v1/patients",
        json=new_patient_body(birth_date=birth_date),
        headers=await headers_for(Role.CLINICIAN),
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert reason in response.text
    assert "birth_date" in response.text


async def test_a_birth_date_in_the_future_is_422_and_nothing_is_written(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor
) -> None:
    family = unique_name("Future")
    tomorrow_anywhere = (utc_now() + timedelta(days=2)).date().isoformat()
    response = await client.post(
        "/api/v1/patients",
        json=new_patient_body(family_name=family, birth_date=tomorrow_anywhere),
        headers=await headers_for(Role.CLINICIAN),
    )
    assert response.status_code == 422
    assert "in the future" in response.text
    async with sessions() as session:
        assert await session.scalar(select(func.count()).where(Patient.family_name == family)) == 0


async def test_a_birth_date_before_1880_is_422(client: httpx.AsyncClient, headers_for: HeadersFor) -> None:
    response = await client.post(
        "/api/v1/patients",
        json=new_patient_body(birth_date="1850-01-01"),
        headers=await headers_for(Role.NURSE),
    )
    assert response.status_code == 422
    assert "before 1880" in response.text


async def test_unknown_fields_and_bad_codes_are_refused(
    client: httpx.AsyncClient, headers_for: HeadersFor
) -> None:
    headers = await headers_for(Role.NURSE)
    for body in (
        new_patient_body(gender="f"),
        new_patient_body(colour="blue"),
        new_patient_body(country="GBR"),
    ):
        assert (await client.post("/api/v1/patients", json=body, headers=headers)).status_code == 422


async def test_death_cannot_precede_birth(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor
) -> None:
    patient = await create_patient(sessions, birth_date=date(1990, 1, 1))
    response = await client.patch(
        f"/api/v1/patients/{patient.id}",
        json={"deceased_at": "1989-06-01T10:00:00+02:00"},
        headers=await headers_for(Role.CLINICIAN),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "implausible-dates"


async def test_online_registration_creates_the_patient_record(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    email, password = unique_email("reg"), strong_password()
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "email": email,
            "password": password,
            "full_name": "Grace Brewster Hopper",
            "birth_date": "1906-12-09",
        },
    )
    assert response.status_code == 202, response.text
    token = await emailed_token(sessions, email, EventType.ACCOUNT_VERIFY_EMAIL)
    assert (await client.post("/api/v1/auth/verify-email", json={"token": token})).status_code == 200
    headers = await login(client, email, password)
    me = (await client.get("/api/v1/auth/me", headers=headers)).json()
    patient_id = me["patient_id"]
    record = (await client.get(f"/api/v1/patients/{patient_id}", headers=headers)).json()
    assert (record["given_name"], record["family_name"], record["birth_date"]) == (
        "Grace Brewster",
        "Hopper",
        "1906-12-09",
    )
    assert record["user_id"] == me["id"]
    assert record["email"] == email


async def test_online_registration_with_a_future_birth_date_writes_nothing(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    email = unique_email("reg")
    future = (utc_now() + timedelta(days=3)).date().isoformat()
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": strong_password(), "full_name": "Too Early", "birth_date": future},
    )
    assert response.status_code == 422
    assert "in the future" in response.json()["detail"]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).where(User.email == email)) == 0
