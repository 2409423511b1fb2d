"""Builders of the messaging tests: a care team (a department with a nurse who signs in), a conversation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.organisation.models import Department, Practitioner
from core.identity.models import User
from core.principal import Role
from core.sessions import transaction
from core.settings import Settings
from tests.clinical.builders import unique_name
from tests.clinical.scheduling_builders import account

THREADS = "/api/v1/message-threads"


@dataclass
class CareTeam:
    department_id: uuid.UUID
    nurse: User
    nurse_headers: dict[str, str]


async def care_team(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> CareTeam:
    """A department with one nurse who signs in."""
    nurse, headers = await account(sessions, settings, Role.NURSE)
    async with transaction(sessions) as session:
        department = Department(code=unique_name("M").upper(), name=unique_name("Team "))
        session.add(department)
        await session.flush()
        session.add(
            Practitioner(user_id=nurse.id, given_name="Noor", family_name="Team", department_id=department.id)
        )
    return CareTeam(department.id, nurse, headers)


async def start(
    client: httpx.AsyncClient, headers: dict[str, str], department_id: uuid.UUID, **files: bytes
) -> httpx.Response:
    form = {"department_id": str(department_id), "subject": "My inhaler", "body": "It runs out on Friday."}
    attached = [("files", (name, content, "application/octet-stream")) for name, content in files.items()]
    return await client.post(THREADS, data=form, files=attached or None, headers=headers)
