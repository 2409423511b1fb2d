"""Encounters: walk-ins and appointments, the status life cycle, scoping, roles and the audit trail."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.scheduling.models import Appointment, AppointmentMode
from clinical.scheduling.state_machine import AppointmentStatus
from core.audit.models import AuditEvent
from core.principal import Role
from core.settings import Settings
from tests.clinical.encounter_builders import API, People, walk_in
from tests.clinical.scheduling_builders import appointment_row, appointment_type

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
def people(sessions: Sessions, settings: Settings) -> People:
    return People(sessions, settings)


async def _appointment(
    sessions: Sessions,
    patient_id: uuid.UUID,
    practitioner_id: uuid.UUID,
    *,
    mode: AppointmentMode = AppointmentMode.IN_PERSON,
    status: AppointmentStatus = AppointmentStatus.BOOKED,
) -> Appointment:
    """An appointment starting in five minutes (written directly, as booking is tested elsewhere)."""
    kind = await appointment_type(sessions, mode=mode)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    return await appointment_row(
        sessions,
        patient_id=patient_id,
        practitioner_id=practitioner_id,
        kind=kind,
        start_at=start,
        status=status,
    )


async def _appointment_status(sessions: Sessions, appointment_id: uuid.UUID) -> AppointmentStatus:
    async with sessions() as session:
        return (await session.get_one(Appointment, appointment_id)).status


async def test_a_clinician_opens_a_walk_in_encounter(
    client: httpx.AsyncClient, sessions: Sessions, people: People
) -> None:
    clinician = await people.staff()
    patient_id = await people.patient_record()
    encounter = await walk_in(client, clinician, patient_id, reason="Chest pain")
    assert encounter["status"] == "in_progress"
    assert encounter["encounter_class"] == "ambulatory"
    assert encounter["practitioner_id"] == str(clinician.practitioner_id)
    assert encounter["appointment_id"] is None
    assert datetime.fromisoformat(encounter["started_at"]).tzinfo is not None
    async with sessions() as session:
        entry = await session.scalar(
            select(AuditEvent).where(AuditEvent.resource_id == encounter["id"], AuditEvent.action == "create")
        )
    assert entry is not None and entry.patient_id == patient_id and entry.actor_id == clinician.user.id


async def test_an_encounter_from_an_appointment_starts_and_completes_it(
    client: httpx.AsyncClient, sessions: Sessions, people: People
) -> None:
    clinician = await people.staff()
    patient_id = await people.patient_record()
    assert clinician.practitioner_id is not None
    appointment = await _appointment(
        sessions, patient_id, clinician.practitioner_id, mode=AppointmentMode.VIDEO
    )
    response = await client.post(
        f"{API}/encounters", json={"appointment_id": str(appointment.id)}, headers=clinician.headers
    )
    assert response.status_code == 201, response.text
    encounter = response.json()
    assert encounter["patient_id"] == str(patient_id)
    assert encounter["encounter_class"] == "virtual"  # a video appointment
    assert await _appointment_status(sessions, appointment.id) is AppointmentStatus.IN_PROGRESS

    again = await client.post(
        f"{API}/encounters", json={"appointment_id": str(appointment.id)}, headers=clinician.headers
    )
    assert again.status_code == 409
    assert again.json()["encounter_id"] == encounter["id"]

    finished = await client.post(f"{API}/encounters/{encounter['id']}/finish", headers=clinician.headers)
    assert finished.status_code == 200, finished.text
    assert finished.json()["status"] == "finished"
    assert finished.json()["duration_s"] >= 0
    assert await _appointment_status(sessions, appointment.id) is AppointmentStatus.COMPLETED


async def test_no_encounter_for_a_cancelled_appointment(
    client: httpx.AsyncClient, sessions: Sessions, people: People
) -> None:
    clinician = await people.staff()
    patient_id = await people.patient_record()
    assert clinician.practitioner_id is not None
    appointment = await _appointment(
        sessions, patient_id, clinician.practitioner_id, status=AppointmentStatus.CANCELLED
    )
    response = await client.post(
        f"{API}/encounters", json={"appointment_id": str(appointment.id)}, headers=clinician.headers
    )
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    missing = await client.post(
        f"{API}/encounters", json={"appointment_id": str(uuid.uuid4())}, headers=clinician.headers
    )
    assert missing.status_code == 404


async def test_a_planned_encounter_starts_then_finishes_once(
    client: httpx.AsyncClient, sessions: Sessions, people: People
) -> None:
    clinician = await people.staff()
    encounter = await walk_in(client, clinician, await people.patient_record(), status="planned")
    assert encounter["status"] == "planned" and encounter["started_at"] is None
    url = f"{API}/encounters/{encounter['id']}"
    assert (await client.post(f"{url}/finish", headers=clinician.headers)).status_code == 409
    started_at = (datetime.now(UTC) - timedelta(minutes=20)).isoformat()
    started = await client.post(f"{url}/start", json={"started_at": started_at}, headers=clinician.headers)
    assert started.status_code == 200, started.text
    assert (await client.post(f"{url}/start", headers=clinician.headers)).status_code == 409

    too_early = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    refused = await client.post(f"{url}/finish", json={"ended_at": too_early}, headers=clinician.headers)
    assert refused.status_code == 422
    finished = await client.post(f"{url}/finish", headers=clinician.headers)
    assert finished.json()["duration_s"] >= 20 * 60
    assert (await client.post(f"{url}/finish", headers=clinician.headers)).status_code == 409
    cancel = await client.post(f"{url}/cancel", json={"reason": "opened in error"}, headers=clinician.headers)
    assert cancel.status_code == 409


async def test_cancelling_needs_a_reason(
    client: httpx.AsyncClient, sessions: Sessions, people: People
) -> None:
    clinician = await people.staff()
    encounter = await walk_in(client, clinician, await people.patient_record())
    url = f"{API}/encounters/{encounter['id']}/cancel"
    assert (await client.post(url, json={}, headers=clinician.headers)).status_code == 422
    response = await client.post(url, json={"reason": "Patient left"}, headers=clinician.headers)
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancel_reason"] == "Patient left"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"patient_id": "not-a-uuid"},
        {"patient_id": str(uuid.uuid4()), "started_at": "2026-01-01T10:00:00"},
        {"patient_id": str(uuid.uuid4()), "started_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()},
        {"patient_id": str(uuid.uuid4()), "encounter_class": "teleportation"},
        {"patient_id": str(uuid.uuid4()), "unexpected": True},
    ],
)
async def test_bad_input_is_a_422_problem(
    client: httpx.AsyncClient, sessions: Sessions, people: People, body: dict[str, object]
) -> None:
    clinician = await people.staff()
    response = await client.post(f"{API}/encounters", json=body, headers=clinician.headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_unknown_patient_is_404_and_nothing_is_written(
    client: httpx.AsyncClient, sessions: Sessions, people: People
) -> None:
    clinician = await people.staff()
    response = await client.post(
        f"{API}/encounters", json={"patient_id": str(uuid.uuid4())}, headers=clinician.headers
    )
    assert response.status_code == 404
    listing = await client.get(
        f"{API}/encounters",
        params={"practitioner_id": str(clinician.practitioner_id)},
        headers=clinician.headers,
    )
    assert listing.json()["items"] == []


async def test_a_patient_lists_and_reads_only_their_own(
    client: httpx.AsyncClient, sessions: Sessions, people: People
) -> None:
    clinician = await people.staff()
    me, other = await people.patient(), await people.patient()
    mine = await walk_in(client, clinician, me.patient_id)
    theirs = await walk_in(client, clinician, other.patient_id)

    listed = await client.get(f"{API}/encounters", headers=me.headers)
    assert [e["id"] for e in listed.json()["items"]] == [mine["id"]]
    assert (await client.get(f"{API}/encounters/{mine['id']}", headers=me.headers)).status_code == 200

    forbidden = await client.get(f"{API}/encounters/{theirs['id']}", headers=me.headers)
    assert forbidden.status_code == 403
    assert forbidden.headers["content-type"].startswith("application/problem+json")
    other_list = await client.get(
        f"{API}/encounters", params={"patient_id": str(other.patient_id)}, headers=me.headers
    )
    assert other_list.status_code == 403
    async with sessions() as session:
        denied = await session.scalar(
            select(AuditEvent).where(
                AuditEvent.actor_id == me.user.id,
                AuditEvent.outcome == "denied",
                AuditEvent.resource_id == theirs["id"],
            )
        )
    assert denied is not None and denied.patient_id == other.patient_id


async def test_staff_page_through_a_patients_encounters(
    client: httpx.AsyncClient, sessions: Sessions, people: People
) -> None:
    clinician = await people.staff()
    nurse = await people.staff(Role.NURSE)
    patient_id = await people.patient_record()
    created = [(await walk_in(client, clinician, patient_id))["id"] for _ in range(3)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"patient_id": str(patient_id), "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await client.get(f"{API}/encounters", params=params, headers=nurse.headers)).json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(created))
    bad = await client.get(f"{API}/encounters", params={"cursor": "nonsense"}, headers=nurse.headers)
    assert bad.status_code == 422


@pytest.mark.parametrize("role", [Role.NURSE, Role.ADMIN, Role.PATIENT])
async def test_only_clinicians_open_and_change_encounters(
    client: httpx.AsyncClient, sessions: Sessions, people: People, role: Role
) -> None:
    clinician = await people.staff()
    patient_id = await people.patient_record()
    encounter = await walk_in(client, clinician, patient_id)
    headers = await people.headers_of(role)
    url = f"{API}/encounters/{encounter['id']}"
    assert (
        await client.post(f"{API}/encounters", json={"patient_id": str(patient_id)}, headers=headers)
    ).status_code == 403
    assert (await client.post(f"{url}/start", headers=headers)).status_code == 403
    assert (await client.post(f"{url}/finish", headers=headers)).status_code == 403
    assert (await client.post(f"{url}/cancel", json={"reason": "x"}, headers=headers)).status_code == 403


async def test_staff_read_any_encounter(
    client: httpx.AsyncClient, sessions: Sessions, people: People
) -> None:
    clinician = await people.staff()
    encounter = await walk_in(client, clinician, await people.patient_record())
    for role in (Role.NURSE, Role.ADMIN):
        headers = (await people.staff(role)).headers
        assert (await client.get(f"{API}/encounters/{encounter['id']}", headers=headers)).status_code == 200


async def test_a_clinician_without_a_practitioner_record_is_refused(
    client: httpx.AsyncClient, sessions: Sessions, people: People
) -> None:
    clinician = await people.staff(with_practitioner=False)
    response = await client.post(
        f"{API}/encounters",
        json={"patient_id": str(await people.patient_record())},
        headers=clinician.headers,
    )
    assert response.status_code == 403
    assert "practitioner" in response.json()["detail"]


async def test_encounters_need_a_token(client: httpx.AsyncClient) -> None:
    some = uuid.uuid4()
    for method, url in [
        ("POST", f"{API}/encounters"),
        ("GET", f"{API}/encounters"),
        ("GET", f"{API}/encounters/{some}"),
        ("POST", f"{API}/encounters/{some}/start"),
        ("POST", f"{API}/encounters/{some}/finish"),
        ("POST", f"{API}/encounters/{some}/cancel"),
    ]:
        response = await client.request(method, url, json={})
        assert response.status_code == 401, url


async def test_diagnoses_are_validated_ranked_and_unique(client: httpx.AsyncClient, people: People) -> None:
    clinician = await people.staff()
    encounter = await walk_in(client, clinician, await people.patient_record())
    url = f"{API}/encounters/{encounter['id']}/diagnoses"
    primary = await client.post(url, json={"code": "e119"}, headers=clinician.headers)
    assert primary.status_code == 201, primary.text
    assert primary.json()["code"] == "E11.9" and primary.json()["rank"] == 1 and primary.json()["primary"]
    assert primary.json()["display"] == "Type 2 diabetes mellitus without complications"
    secondary = await client.post(url, json={"code": "I10"}, headers=clinician.headers)
    assert secondary.json()["rank"] == 2 and not secondary.json()["primary"]

    assert (await client.post(url, json={"code": "E11.9"}, headers=clinician.headers)).status_code == 409
    assert (
        await client.post(url, json={"code": "J06.9", "rank": 1}, headers=clinician.headers)
    ).status_code == 409
    unknown = await client.post(url, json={"code": "Q99.99"}, headers=clinician.headers)
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown-icd10-code"
    assert (await client.post(url, json={"code": "E11"}, headers=clinician.headers)).status_code == 422
    assert (
        await client.post(url, json={"code": "E11.9", "rank": 0}, headers=clinician.headers)
    ).status_code == 422

    removed = await client.delete(f"{url}/{secondary.json()['id']}", headers=clinician.headers)
    assert removed.status_code == 204
    listed = await client.get(url, headers=clinician.headers)
    assert [d["code"] for d in listed.json()] == ["E11.9"]
    assert (await client.delete(f"{url}/{uuid.uuid4()}", headers=clinician.headers)).status_code == 404


async def test_diagnoses_are_read_in_scope_and_written_by_clinicians(
    client: httpx.AsyncClient, people: People
) -> None:
    clinician = await people.staff()
    me, other = await people.patient(), await people.patient()
    encounter = await walk_in(client, clinician, me.patient_id)
    url = f"{API}/encounters/{encounter['id']}/diagnoses"
    created = (await client.post(url, json={"code": "J06.9"}, headers=clinician.headers)).json()
    assert [d["code"] for d in (await client.get(url, headers=me.headers)).json()] == ["J06.9"]
    assert (await client.get(url, headers=other.headers)).status_code == 403
    for headers in (me.headers, await people.headers_of(Role.NURSE), await people.headers_of(Role.ADMIN)):
        assert (await client.post(url, json={"code": "I10"}, headers=headers)).status_code == 403
        assert (await client.delete(f"{url}/{created['id']}", headers=headers)).status_code == 403
    await client.post(
        f"{API}/encounters/{encounter['id']}/cancel", json={"reason": "x"}, headers=clinician.headers
    )
    assert (await client.post(url, json={"code": "I10"}, headers=clinician.headers)).status_code == 409


async def test_diagnoses_need_a_token(client: httpx.AsyncClient) -> None:
    some = uuid.uuid4()
    assert (await client.get(f"{API}/encounters/{some}/diagnoses")).status_code == 401
    assert (await client.post(f"{API}/encounters/{some}/diagnoses", json={"code": "I10"})).status_code == 401
    assert (await client.delete(f"{API}/encounters/{some}/diagnoses/{some}")).status_code == 401
