"""Admissions: admit, transfer, discharge, the ward census, overlaps refused (also under races), scope."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.organisation.exceptions import BedOccupied, PatientAlreadyAdmitted
from core.db import create_engine, utc_now
from core.principal import Role
from core.sessions import create_sessionmaker
from ownat import migrate
from tests.clinical.builders import (
    admit,
    audit_trail,
    create_patient,
    create_ward_with_beds,
    signed_in_patient,
)
from tests.clinical.conftest import HeadersFor

URL = "/api/v1/admissions"


async def test_a_nurse_admits_and_the_census_shows_the_patient(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor
) -> None:
    ward, beds = await create_ward_with_beds(sessions, beds=3)
    patient = await create_patient(sessions)
    nurse = await headers_for(Role.NURSE)
    response = await client.post(
        URL,
        json={"patient_id": str(patient.id), "bed_id": str(beds[1].id), "reason": "Observation"},
        headers=nurse,
    )
    assert response.status_code == 201, response.text
    census = (await client.get(f"/api/v1/wards/{ward.id}/census", headers=nurse)).json()
    assert census["occupied"] == 1
    occupants = {bed["label"]: (bed["patient"] or {}).get("mrn") for bed in census["beds"]}
    assert occupants == {"B1": None, "B2": patient.mrn, "B3": None}
    trail = await audit_trail(sessions, patient_id=patient.id)
    assert ("admit", "admission", "success") in trail
    assert ("read", "admission", "success") in trail


async def test_a_transfer_moves_the_patient_and_a_discharge_frees_the_bed(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor
) -> None:
    ward, beds = await create_ward_with_beds(sessions, beds=2)
    patient = await create_patient(sessions)
    stay = await admit(
        sessions, patient_id=patient.id, bed_id=beds[0].id, start_at=utc_now() - timedelta(hours=5)
    )
    clinician = await headers_for(Role.CLINICIAN)
    moved = await client.post(
        f"{URL}/{stay.id}/transfer", json={"bed_id": str(beds[1].id)}, headers=clinician
    )
    assert moved.status_code == 201, moved.text
    assert moved.json()["transferred_from_id"] == str(stay.id)
    old = (await client.get(f"{URL}/{stay.id}", headers=clinician)).json()
    assert old["end_at"] == moved.json()["start_at"]
    again = await client.post(f"{URL}/{stay.id}/discharge", json={}, headers=clinician)
    assert again.status_code == 409
    assert again.json()["code"] == "admission-closed"
    discharged = await client.post(f"{URL}/{moved.json()['id']}/discharge", json={}, headers=clinician)
    assert discharged.status_code == 200
    assert discharged.json()["end_at"] is not None
    census = (await client.get(f"/api/v1/wards/{ward.id}/census", headers=clinician)).json()
    assert census["occupied"] == 0
    actions = [action for action, _, _ in await audit_trail(sessions, patient_id=patient.id)]
    assert {"transfer", "discharge"} <= set(actions)


async def test_an_occupied_bed_and_an_admitted_patient_are_409(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor
) -> None:
    _, beds = await create_ward_with_beds(sessions, beds=2)
    first, second = await create_patient(sessions), await create_patient(sessions)
    await admit(sessions, patient_id=first.id, bed_id=beds[0].id)
    nurse = await headers_for(Role.NURSE)
    occupied = await client.post(
        URL, json={"patient_id": str(second.id), "bed_id": str(beds[0].id)}, headers=nurse
    )
    assert (occupied.status_code, occupied.json()["code"]) == (409, "bed-occupied")
    twice = await client.post(
        URL, json={"patient_id": str(first.id), "bed_id": str(beds[1].id)}, headers=nurse
    )
    assert (twice.status_code, twice.json()["code"]) == (409, "patient-already-admitted")


async def test_simultaneous_admissions_to_one_bed_let_exactly_one_win(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor
) -> None:
    ward, beds = await create_ward_with_beds(sessions, beds=1)
    patients = [await create_patient(sessions) for _ in range(2)]
    nurse = await headers_for(Role.NURSE)
    responses = await asyncio.gather(
        *(
            client.post(URL, json={"patient_id": str(p.id), "bed_id": str(beds[0].id)}, headers=nurse)
            for p in patients
        )
    )
    assert sorted(r.status_code for r in responses) == [201, 409]
    loser = next(r for r in responses if r.status_code == 409)
    assert loser.json()["code"] == "bed-occupied"
    census = (await client.get(f"/api/v1/wards/{ward.id}/census", headers=nurse)).json()
    assert census["occupied"] == 1


async def test_simultaneous_admissions_of_one_patient_let_exactly_one_win(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor
) -> None:
    _, beds = await create_ward_with_beds(sessions, beds=2)
    patient = await create_patient(sessions)
    nurse = await headers_for(Role.NURSE)
    responses = await asyncio.gather(
        *(
            client.post(URL, json={"patient_id": str(patient.id), "bed_id": str(b.id)}, headers=nurse)
            for b in beds
        )
    )
    assert sorted(r.status_code for r in responses) == [201, 409]


async def test_times_must_be_plausible(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor
) -> None:
    _, beds = await create_ward_with_beds(sessions, beds=1)
    patient = await create_patient(sessions)
    nurse = await headers_for(Role.NURSE)
    future = (utc_now() + timedelta(days=1)).isoformat()
    body = {"patient_id": str(patient.id), "bed_id": str(beds[0].id)}
    assert (await client.post(URL, json={**body, "start_at": future}, headers=nurse)).status_code == 422
    naive = await client.post(URL, json={**body, "start_at": "2024-01-01T10:00:00"}, headers=nurse)
    assert naive.status_code == 422
    impossible = await client.post(URL, json={**body, "start_at": "2025-02-30T10:00:00Z"}, headers=nurse)
    assert impossible.status_code == 422
    start = utc_now() - timedelta(hours=2)
    stay = (await client.post(URL, json={**body, "start_at": start.isoformat()}, headers=nurse)).json()
    before_start = (start - timedelta(hours=1)).isoformat()
    refused = await client.post(f"{URL}/{stay['id']}/discharge", json={"at": before_start}, headers=nurse)
    assert (refused.status_code, refused.json()["code"]) == (422, "implausible-time")
    assert (
        await client.post(URL, json={**body, "bed_id": "00000000-0000-4000-8000-00000000000b"}, headers=nurse)
    ).status_code == 422


@pytest.mark.parametrize("role", [Role.ADMIN, Role.PATIENT])
async def test_only_clinicians_and_nurses_admit_transfer_and_discharge(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor, role: Role
) -> None:
    _, beds = await create_ward_with_beds(sessions, beds=2)
    patient = await create_patient(sessions)
    stay = await admit(sessions, patient_id=patient.id, bed_id=beds[0].id)
    headers = (
        (await signed_in_patient(client, sessions))[1] if role is Role.PATIENT else await headers_for(role)
    )
    attempts = [
        (URL, {"patient_id": str(patient.id), "bed_id": str(beds[1].id)}),
        (f"{URL}/{stay.id}/transfer", {"bed_id": str(beds[1].id)}),
        (f"{URL}/{stay.id}/discharge", {}),
    ]
    for path, body in attempts:
        assert (await client.post(path, json=body, headers=headers)).status_code == 403, path
        assert (await client.post(path, json=body)).status_code == 401, path


async def test_a_patient_sees_only_their_own_admissions(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], headers_for: HeadersFor
) -> None:
    _, beds = await create_ward_with_beds(sessions, beds=2)
    patient, headers = await signed_in_patient(client, sessions)
    other = await create_patient(sessions)
    own = await admit(sessions, patient_id=patient.id, bed_id=beds[0].id)
    theirs = await admit(sessions, patient_id=other.id, bed_id=beds[1].id)
    listed = (await client.get(URL, headers=headers)).json()
    assert [a["id"] for a in listed] == [str(own.id)]
    assert (await client.get(URL, params={"patient_id": str(other.id)}, headers=headers)).status_code == 403
    assert (await client.get(f"{URL}/{theirs.id}", headers=headers)).status_code == 403
    assert (await client.get(f"{URL}/{own.id}", headers=headers)).status_code == 200
    assert (await client.get(URL)).status_code == 401
    nurse = await headers_for(Role.NURSE)
    current = (
        await client.get(URL, params={"patient_id": str(other.id), "current": True}, headers=nurse)
    ).json()
    assert [a["id"] for a in current] == [str(theirs.id)]


@pytest.fixture
async def sqlite_sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a fresh embedded-mode SQLite database, migrated to the head: the services write the
    audit log, whose tables a later revision (0018_audit_chain) changed."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'embedded.sqlite3'}"
    await migrate.upgrade_async(url)
    engine = create_engine(url)
    yield create_sessionmaker(engine)
    await engine.dispose()


@pytest.mark.embedded
async def test_on_sqlite_the_service_refuses_overlaps_and_allocates_mrns(
    sqlite_sessions: async_sessionmaker[AsyncSession],
) -> None:
    _, beds = await create_ward_with_beds(sqlite_sessions, beds=2)
    first, second, third = [await create_patient(sqlite_sessions) for _ in range(3)]
    assert [p.mrn for p in (first, second, third)] == ["MRN-0000000018", "MRN-0000000026", "MRN-0000000034"]
    stay = await admit(
        sqlite_sessions, patient_id=first.id, bed_id=beds[0].id, start_at=utc_now() - timedelta(hours=1)
    )
    with pytest.raises(BedOccupied):
        await admit(sqlite_sessions, patient_id=second.id, bed_id=beds[0].id)
    with pytest.raises(PatientAlreadyAdmitted):
        await admit(sqlite_sessions, patient_id=first.id, bed_id=beds[1].id)
    # Two admissions into the free bed at once: the serialised transactions let exactly one in.
    results = await asyncio.gather(
        *(admit(sqlite_sessions, patient_id=p.id, bed_id=beds[1].id) for p in (second, third)),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["Admission", "BedOccupied"]
    assert stay.end_at is None
