"""Practitioner, Schedule and free Slots (booked through FHIR ids), and `Patient/{id}/$everything`."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.audit.models import AuditEvent
from core.principal import Role
from tests.clinical import scheduling_builders as scheduling
from tests.fhir import builders
from tests.fhir.conftest import entry_ids, fhir_json, link, outcome

BASE = "/fhir/R4"


@pytest.mark.parametrize("role", [Role.PATIENT, Role.NURSE])
async def test_practitioners_by_name_and_identifier(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], role: Role
) -> None:
    practitioner = await scheduling.practitioner(sessions, specialties=["cardiology"])
    headers = (
        await builders.staff_headers(client, sessions, role)
        if role is not Role.PATIENT
        else (await builders.patient_user(client, sessions))[1]
    )
    by_name = fhir_json(
        await client.get(f"{BASE}/Practitioner", params={"name": practitioner.family_name}, headers=headers)
    )
    assert entry_ids(by_name) == [str(practitioner.id)]
    resource = by_name["entry"][0]["resource"]
    assert resource["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "cardiology"
    identifier = resource["identifier"][0]
    by_identifier = fhir_json(
        await client.get(
            f"{BASE}/Practitioner",
            params={"identifier": f"{identifier['system']}|{identifier['value']}"},
            headers=headers,
        )
    )
    assert entry_ids(by_identifier) == [str(practitioner.id)]
    schedules = fhir_json(
        await client.get(
            f"{BASE}/Schedule", params={"actor": f"Practitioner/{practitioner.id}"}, headers=headers
        )
    )
    assert entry_ids(schedules) == [str(practitioner.id)]


async def test_free_slots_search_read_and_disappear_once_booked(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    practitioner = await scheduling.practitioner(sessions, hours=(time(9), time(11)))
    kind = await scheduling.appointment_type(sessions, duration_minutes=30)
    _, headers = await builders.patient_user(client, sessions)
    day = scheduling.future_day(10)
    start, end = scheduling.at(day, 0), scheduling.at(day, 23)
    params = {
        "schedule": f"Schedule/{practitioner.id}",
        "service-type": kind.code,
        "start": [f"ge{start.isoformat()}", f"lt{end.isoformat()}"],
        "status": "free",
    }
    found = fhir_json(await client.get(f"{BASE}/Slot", params=params, headers=headers))
    assert found["total"] == 4  # 09:00, 09:30, 10:00 and 10:30 local time
    first = found["entry"][0]["resource"]
    assert first["status"] == "free" and first["schedule"]["reference"] == f"Schedule/{practitioner.id}"
    assert datetime.fromisoformat(first["start"]) == scheduling.at(day, 9)
    assert len(first["id"]) <= 64
    fhir_json(await client.get(f"{BASE}/Slot/{first['id']}", headers=headers))
    by_practitioner = {**params, "practitioner": str(practitioner.id)}
    del by_practitioner["schedule"]
    assert fhir_json(await client.get(f"{BASE}/Slot", params=by_practitioner, headers=headers))["total"] == 4
    busy = {**params, "status": "busy"}
    assert fhir_json(await client.get(f"{BASE}/Slot", params=busy, headers=headers))["total"] == 0

    booked = await scheduling.book(
        client, headers, practitioner_id=practitioner.id, kind=kind, start_at=scheduling.at(day, 9)
    )
    assert booked.status_code == 201, booked.text
    outcome(await client.get(f"{BASE}/Slot/{first['id']}", headers=headers), 404)
    assert fhir_json(await client.get(f"{BASE}/Slot", params=params, headers=headers))["total"] == 3
    mine = fhir_json(await client.get(f"{BASE}/Appointment", headers=headers))
    assert entry_ids(mine) == [booked.json()["id"]]


async def test_slot_search_refuses_a_window_over_31_days(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    kind = await scheduling.appointment_type(sessions)
    headers = await builders.staff_headers(client, sessions, Role.NURSE)
    now = datetime.now(UTC)
    params = {
        "service-type": kind.code,
        "start": [f"ge{now.date().isoformat()}", f"le{(now + timedelta(days=60)).date().isoformat()}"],
    }
    outcome(await client.get(f"{BASE}/Slot", params=params, headers=headers), 422)


async def test_everything_gathers_the_whole_record(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, headers = await builders.patient_user(client, sessions)
    assert user.patient_id is not None
    c = await builders.chart(sessions, user.patient_id)
    other = await builders.patient_record(sessions)
    await builders.chart(sessions, other)

    body = fhir_json(await client.get(f"{BASE}/Patient/{user.patient_id}/$everything", headers=headers))
    kinds = [e["resource"]["resourceType"] for e in body["entry"]]
    assert kinds[0] == "Patient"
    ids = {(e["resource"]["resourceType"], e["resource"]["id"]) for e in body["entry"]}
    assert {
        ("Appointment", str(c.appointment.id)),
        ("Encounter", str(c.encounter.id)),
        ("Condition", str(c.condition.id)),
        ("Condition", str(c.diagnosis.id)),
        ("AllergyIntolerance", str(c.allergy.id)),
        ("MedicationRequest", str(c.prescription.id)),
        ("ServiceRequest", str(c.order.id)),
        ("DiagnosticReport", str(c.order.id)),
        ("Observation", str(c.final_result.id)),
        ("Observation", str(c.vital.id)),
    } <= ids
    # Unreleased results stay out of the patient's own export; nobody else's data is in it.
    assert ("Observation", str(c.preliminary_result.id)) not in ids
    subjects = {
        ref["reference"]
        for e in body["entry"]
        for ref in [e["resource"].get("subject"), e["resource"].get("patient")]
        if ref
    }
    assert subjects == {f"Patient/{user.patient_id}"}
    assert body["total"] == len(body["entry"])

    outcome(await client.get(f"{BASE}/Patient/{other}/$everything", headers=headers), 403)
    async with sessions() as session:
        events = list(
            await session.scalars(
                select(AuditEvent).where(
                    AuditEvent.actor_id == user.id, AuditEvent.action == "fhir.everything"
                )
            )
        )
    assert {(e.patient_id, e.outcome) for e in events} == {(user.patient_id, "success"), (other, "denied")}


@pytest.mark.parametrize("role", [Role.NURSE, Role.CLINICIAN, Role.ADMIN])
async def test_staff_export_any_patient(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], role: Role
) -> None:
    patient_id = await builders.patient_record(sessions)
    headers = await builders.staff_headers(client, sessions, role)
    body = fhir_json(await client.get(f"{BASE}/Patient/{patient_id}/$everything", headers=headers))
    assert entry_ids(body) == [str(patient_id)]


async def test_everything_takes_its_standard_parameters(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    patient_id = await builders.patient_record(sessions)
    c = await builders.chart(sessions, patient_id)
    headers = await builders.staff_headers(client, sessions, Role.CLINICIAN)
    url = f"{BASE}/Patient/{patient_id}/$everything"
    whole = fhir_json(await client.get(url, headers=headers))
    kinds = {"Patient", "Observation"}
    only = fhir_json(await client.get(url, params={"_type": "Patient,Observation"}, headers=headers))
    assert {e["resource"]["resourceType"] for e in only["entry"]} == kinds
    # Paged with _count, following next links, the pages add up to the whole record.
    seen, page = [], fhir_json(await client.get(url, params={"_count": "4"}, headers=headers))
    while True:
        assert page["total"] == whole["total"] and len(page.get("entry", [])) <= 4
        seen += entry_ids(page)
        following = link(page, "next")
        if following is None:
            break
        page = fhir_json(await client.get(following, headers=headers))
    assert sorted(seen) == sorted(entry_ids(whole))
    # start/end keep care within the dates (the appointment was three days ago); _since keeps changes.
    day = c.appointment.start_at.date()
    window = {"start": (day + timedelta(days=1)).isoformat(), "end": datetime.now(UTC).date().isoformat()}
    dated = fhir_json(await client.get(url, params=window, headers=headers))
    assert str(c.appointment.id) not in entry_ids(dated) and str(patient_id) in entry_ids(dated)
    assert str(c.final_result.id) in entry_ids(dated)
    since = fhir_json(
        await client.get(
            url, params={"_since": datetime.now(UTC).isoformat(), "_type": "Condition"}, headers=headers
        )
    )
    assert since["total"] == 0
    issue = outcome(await client.get(url, params={"colour": "red"}, headers=headers), 400)
    assert "colour" in issue["diagnostics"]
    outcome(await client.get(url, params={"_type": "Spaceship"}, headers=headers), 400)


async def test_slots_show_their_specialty_and_last_update(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    specialty = f"sp{builders.token()[2:].lower()}"
    practitioner = await scheduling.practitioner(sessions, hours=(time(9), time(10)), specialties=[specialty])
    kind = await scheduling.appointment_type(sessions, duration_minutes=30)
    headers = await builders.staff_headers(client, sessions, Role.NURSE)
    day = scheduling.future_day(9)
    params = {
        "service-type": kind.code,
        "start": [f"ge{scheduling.at(day, 0).isoformat()}", f"lt{scheduling.at(day, 23).isoformat()}"],
    }
    found = fhir_json(
        await client.get(f"{BASE}/Slot", params={**params, "specialty": specialty}, headers=headers)
    )
    assert found["total"] == 2
    for entry in found["entry"]:
        slot = entry["resource"]
        assert slot["specialty"][0]["coding"][0]["code"] == specialty and slot["meta"]["lastUpdated"]
        assert slot["schedule"]["reference"] == f"Schedule/{practitioner.id}"
    other = {**params, "specialty": f"https://example.org/other|{specialty}"}
    assert fhir_json(await client.get(f"{BASE}/Slot", params=other, headers=headers))["total"] == 0
