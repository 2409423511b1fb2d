"""Names for ids: who an audit entry's actor or patient is, so administrators read people, not UUIDs.

Administrators only. A patient named here is a read of that patient's identity, so each is audited.
"""

from __future__ import annotations

import uuid

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.patients import Patient
from core import audit
from core.access import require_role
from core.identity import User
from core.principal import SYSTEM_USER_ID, Principal, Role

MAX_IDS = 200
SYSTEM_NAME = "System (background job or host command)"


class NamedUser(BaseModel):
    name: str
    role: str


class NamedPatient(BaseModel):
    name: str
    mrn: str


class Names(BaseModel):
    users: dict[uuid.UUID, NamedUser]
    patients: dict[uuid.UUID, NamedPatient]


async def names(
    *, session: AsyncSession, actor: Principal, user_ids: list[uuid.UUID], patient_ids: list[uuid.UUID]
) -> Names:
    """The names of the users and patients asked for (unknown ids are left out)."""
    require_role(session, actor, [Role.ADMIN], action="read", resource_type="directory")
    users: dict[uuid.UUID, NamedUser] = {}
    if SYSTEM_USER_ID in user_ids:
        users[SYSTEM_USER_ID] = NamedUser(name=SYSTEM_NAME, role="system")
    wanted_users = set(user_ids[:MAX_IDS]) - {SYSTEM_USER_ID}
    if wanted_users:
        for user in await session.scalars(select(User).where(User.id.in_(wanted_users))):
            users[user.id] = NamedUser(name=user.full_name, role=user.role.value)
    patients: dict[uuid.UUID, NamedPatient] = {}
    wanted_patients = set(patient_ids[:MAX_IDS])
    if wanted_patients:
        for patient in await session.scalars(select(Patient).where(Patient.id.in_(wanted_patients))):
            patients[patient.id] = NamedPatient(name=patient.display_name, mrn=patient.mrn)
            audit.record(
                session,
                actor=actor,
                action="read",
                resource_type="patient",
                resource_id=patient.id,
                patient_id=patient.id,
                detail={"via": "names"},
            )
    return Names(users=users, patients=patients)
