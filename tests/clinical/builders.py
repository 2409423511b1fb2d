"""Builders for clinical test data: patients, practitioners, wards with beds, admissions.

Each builder runs the real service in a transaction of its own and returns the committed row, so a
test can then use it through the API. Names are random unless given, so tests never collide.
Stable API: other packages' tests use these; add keyword arguments rather than change them.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import date, datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.organisation import admissions, practitioners
from clinical.organisation import service as organisation
from clinical.organisation.admission_schemas import AdmissionCreate
from clinical.organisation.models import Admission, Bed, Department, Practitioner, Ward
from clinical.organisation.schemas import BedCreate, DepartmentCreate, PractitionerCreate, WardCreate
from clinical.patients import service as patients
from clinical.patients.models import Patient
from clinical.patients.schemas import PatientCreate
from clinical.patients.terms import AdministrativeGender
from core.audit.models import AuditEvent
from core.identity.models import User
from core.principal import SYSTEM, SYSTEM_USER_ID, Principal, Role
from core.sessions import transaction
from tests.builders import create_user, login

# Admissions need a clinician or nurse; builders act as a nurse without an account.
BUILDER_NURSE = Principal(user_id=SYSTEM_USER_ID, role=Role.NURSE)


def unique_name(label: str = "Name") -> str:
    """A name no other test uses, e.g. "Fam3fa9c2d1"."""
    return f"{label}{secrets.token_hex(4)}"


async def create_patient(
    sessions: async_sessionmaker[AsyncSession],
    *,
    given_name: str | None = None,
    family_name: str | None = None,
    birth_date: date = date(1980, 5, 17),
    gender: AdministrativeGender = AdministrativeGender.FEMALE,
    **contact: Any,
) -> Patient:
    """A patient registered by staff (no account), with a generated MRN."""
    data = PatientCreate(
        given_name=given_name if given_name is not None else unique_name("Given"),
        family_name=family_name or unique_name("Fam"),
        birth_date=birth_date,
        gender=gender,
        **contact,
    )
    async with transaction(sessions) as session:
        return await patients.create_patient(session=session, actor=SYSTEM, data=data)


async def create_patient_user(
    sessions: async_sessionmaker[AsyncSession], *, birth_date: date | None = date(1975, 3, 2)
) -> tuple[User, Patient, str]:
    """A patient account with its clinical record, as online registration makes them; returns the password too."""
    user, password = await create_user(
        sessions, role=Role.PATIENT, full_name=f"{unique_name('Pat')} {unique_name('Fam')}"
    )
    assert user.patient_id is not None
    async with transaction(sessions) as session:
        patient = await patients.register_online_patient(
            session=session,
            actor=user.as_principal(),
            user_id=user.id,
            patient_id=user.patient_id,
            full_name=user.full_name,
            email=user.email,
            birth_date=birth_date,
        )
    return user, patient, password


async def signed_in_patient(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> tuple[Patient, dict[str, str]]:
    """A patient with an account and record, and the headers of their session."""
    user, patient, password = await create_patient_user(sessions)
    return patient, await login(client, user.email, password)


async def create_department(
    sessions: async_sessionmaker[AsyncSession], *, name: str | None = None
) -> Department:
    """A department with a random code and name."""
    data = DepartmentCreate(code=unique_name("D").upper(), name=name or unique_name("Department "))
    async with transaction(sessions) as session:
        return await organisation.create_department(session=session, actor=SYSTEM, data=data)


async def create_practitioner(
    sessions: async_sessionmaker[AsyncSession],
    *,
    specialties: tuple[str, ...] = ("general-practice",),
    department_id: uuid.UUID | None = None,
    role: Role = Role.CLINICIAN,
    **fields: Any,
) -> tuple[Practitioner, User, str]:
    """A practitioner linked to a new clinician (or nurse) account; returns the account and its password too."""
    user, password = await create_user(sessions, role=role)
    data = PractitionerCreate(
        user_id=user.id,
        given_name=fields.pop("given_name", unique_name("Doc")),
        family_name=fields.pop("family_name", unique_name("Fam")),
        specialties=list(specialties),
        department_id=department_id,
        **fields,
    )
    async with transaction(sessions) as session:
        practitioner = await practitioners.create_practitioner(session=session, actor=SYSTEM, data=data)
    return practitioner, user, password


async def create_ward_with_beds(
    sessions: async_sessionmaker[AsyncSession], *, beds: int = 2, department_id: uuid.UUID | None = None
) -> tuple[Ward, list[Bed]]:
    """A ward (in a new department unless given) with beds labelled B1, B2, ..."""
    if department_id is None:
        department_id = (await create_department(sessions)).id
    async with transaction(sessions) as session:
        ward = await organisation.create_ward(
            session=session,
            actor=SYSTEM,
            data=WardCreate(
                department_id=department_id, code=unique_name("W").upper(), name=unique_name("Ward ")
            ),
        )
        made = [
            await organisation.create_bed(
                session=session, actor=SYSTEM, ward_id=ward.id, data=BedCreate(label=f"B{n}")
            )
            for n in range(1, beds + 1)
        ]
    return ward, made


async def admit(
    sessions: async_sessionmaker[AsyncSession],
    *,
    patient_id: uuid.UUID,
    bed_id: uuid.UUID,
    start_at: datetime | None = None,
    reason: str | None = None,
) -> Admission:
    """Places the patient in the bed from `start_at` (now), as a nurse would."""
    data = AdmissionCreate(patient_id=patient_id, bed_id=bed_id, start_at=start_at, reason=reason)
    async with transaction(sessions) as session:
        return await admissions.admit(session=session, actor=BUILDER_NURSE, data=data)


async def audit_trail(
    sessions: async_sessionmaker[AsyncSession], *, patient_id: uuid.UUID
) -> list[tuple[str, str, str]]:
    """(action, resource_type, outcome) of every audit entry about the patient, oldest first."""
    async with sessions() as session:
        rows = await session.execute(
            select(AuditEvent.action, AuditEvent.resource_type, AuditEvent.outcome)
            .where(AuditEvent.patient_id == patient_id)
            .order_by(AuditEvent.seq)
        )
        return [(row.action, row.resource_type, row.outcome) for row in rows]
