"""The staff day list (every appointment of a period with names and its encounter) and the ICD-10 search."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.scheduling.models import AppointmentMode
from clinical.scheduling.state_machine import AppointmentStatus
from core.audit.models import AuditEvent
from core.principal import Role
from core.settings import Settings
from tests.clinical.scheduling_builders import (
    API,
    account,
    appointment_row,
    appointment_type,
    at,
    future_day,
    patient_record,
    staff_practitioner,
)


async def test_the_day_list_names_patients_and_practitioners_and_links_encounters(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    doctor, headers = await staff_practitioner(sessions, settings)
    in_person = await appointment_type(sessions, duration_minutes=20)
    video = await appointment_type(sessions, duration_minutes=15, mode=AppointmentMode.VIDEO)
    first, second = await patient_record(sessions, 2)
    day = future_day(3)
    early = await appointment_row(
        sessions, patient_id=first, practitioner_id=doctor.id, kind=in_person, start_at=at(day, 9)
    )
    late = await appointment_row(
        sessions,
        patient_id=second,
        practitioner_id=doctor.id,
        kind=video,
        start_at=at(day, 11),
        status=AppointmentStatus.CANCELLED,
    )
    await appointment_row(
        sessions, patient_id=first, practitioner_id=doctor.id, kind=in_person, start_at=at(day, 23)
    )
    opened = await client.post(f"{API}/encounters", json={"appointment_id": str(early.id)}, headers=headers)
    assert opened.status_code == 201, opened.text

    params = {
        "start": at(day, 0).isoformat(),
        "end": at(day, 12).isoformat(),
        "practitioner_id": str(doctor.id),
    }
    response = await client.get(f"{API}/appointments/day-list", params=params, headers=headers)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    # Every status (a cancelled visit stays on the list), in start order, within the period only.
    assert [i["appointment"]["id"] for i in items] == [str(early.id), str(late.id)]
    assert [i["appointment"]["status"] for i in items] == ["in_progress", "cancelled"]
    assert items[0]["patient"]["name"].startswith("Pat Test-") and items[0]["patient"]["mrn"].startswith(
        "MRN-"
    )
    assert items[0]["patient"]["birth_date"] == "1980-05-17"
    assert items[0]["practitioner_name"] == f"Ada {doctor.family_name}"
    assert [i["appointment"]["mode"] for i in items] == ["in_person", "video"]
    assert items[0]["encounter"] == {"id": opened.json()["id"], "status": "in_progress"}
    assert items[1]["encounter"] is None
    async with sessions() as session:
        listed = set(
            await session.scalars(
                select(AuditEvent.patient_id).where(
                    AuditEvent.action == "list", AuditEvent.resource_type == "appointment"
                )
            )
        )
    assert {first, second} <= listed


async def test_the_day_list_is_for_staff_and_a_week_at_most(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    _, headers = await staff_practitioner(sessions, settings)
    day = future_day(2)
    week = {"start": at(day, 0).isoformat(), "end": (at(day, 0) + timedelta(days=8)).isoformat()}
    too_long = await client.get(f"{API}/appointments/day-list", params=week, headers=headers)
    assert too_long.status_code == 422 and "at most 7 days" in too_long.json()["detail"]
    patient, patient_headers = await account(sessions, settings, Role.PATIENT)
    one_day = {"start": at(day, 0).isoformat(), "end": at(day, 23).isoformat()}
    refused = await client.get(f"{API}/appointments/day-list", params=one_day, headers=patient_headers)
    assert refused.status_code == 403
    async with sessions() as session:
        outcome = await session.scalar(select(AuditEvent.outcome).where(AuditEvent.actor_id == patient.id))
    assert outcome == "denied"


async def test_icd10_search_by_code_or_words(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    _, headers = await staff_practitioner(sessions, settings)

    async def search(query: str) -> list[dict[str, object]]:
        response = await client.get(f"{API}/codes/icd10", params={"q": query, "limit": 5}, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    assert (await search("e119")) == [
        {"code": "E11.9", "display": "Type 2 diabetes mellitus without complications", "is_leaf": True}
    ]
    assert [e["code"] for e in await search("E11")][:2] == ["E11", "E11.0"]
    assert (await search("asthma"))[0]["code"] == "J45.9"
    assert "E11.9" in [e["code"] for e in await search("type 2 diab without")]
    assert await search("xyzzy") == []
    assert (await client.get(f"{API}/codes/icd10", params={"q": "asthma"})).status_code == 401
    assert (await client.get(f"{API}/codes/icd10", params={"q": ""}, headers=headers)).status_code == 422
