"""Names for ids (the audit log's actors and patients): administrators only, each patient named audited."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.audit.models import AuditEvent
from core.principal import SYSTEM_USER_ID, Role
from core.settings import Settings
from tests.clinical.encounter_builders import API, People


async def test_administrators_read_names_for_ids(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    people = People(sessions, settings)
    admin = await people.staff(Role.ADMIN)
    nurse = await people.staff(Role.NURSE)
    patient_id = await people.patient_record()
    unknown = uuid.uuid4()
    params = {
        "user_id": [str(nurse.user.id), str(SYSTEM_USER_ID), str(unknown)],
        "patient_id": [str(patient_id)],
    }
    response = await client.get(f"{API}/directory/names", params=params, headers=admin.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["users"][str(nurse.user.id)] == {"name": "Test Nurse", "role": "nurse"}
    assert body["users"][str(SYSTEM_USER_ID)]["role"] == "system"
    assert str(unknown) not in body["users"]
    named = body["patients"][str(patient_id)]
    assert named["name"].startswith("Pat Test-") and named["mrn"].startswith("MRN-")
    async with sessions() as session:
        read = await session.scalar(
            select(AuditEvent).where(
                AuditEvent.actor_id == admin.user.id, AuditEvent.patient_id == patient_id
            )
        )
    assert read is not None and read.detail == {"via": "names"}

    refused = await client.get(f"{API}/directory/names", params=params, headers=nurse.headers)
    assert refused.status_code == 403
