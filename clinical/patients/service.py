"""Creating, reading and updating patients. Every read and write is audited with the patient's id."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clinical.patients.access import load_patient
from clinical.patients.dates import check_birth_date
from clinical.patients.exceptions import ContactDetailsOnly, ImplausibleDates
from clinical.patients.models import Patient
from clinical.patients.mrn import next_mrn_number
from clinical.patients.names import format_mrn, name_key
from clinical.patients.schemas import CONTACT_FIELDS, PatientCreate, PatientUpdate
from core import audit
from core.db import utc_now
from core.errors import Forbidden
from core.principal import Principal

_NAME_FIELDS = {"given_name": "given_name_key", "family_name": "family_name_key"}


async def _new_patient(session: AsyncSession, *, patient_id: uuid.UUID | None, **fields: Any) -> Patient:
    number = await next_mrn_number(session)
    patient = Patient(id=patient_id or uuid.uuid4(), mrn=format_mrn(number), mrn_number=number, **fields)
    patient.given_name_key = name_key(patient.given_name)
    patient.family_name_key = name_key(patient.family_name)
    session.add(patient)
    await session.flush()
    return patient


async def create_patient(*, session: AsyncSession, actor: Principal, data: PatientCreate) -> Patient:
    """Registers a patient (staff only) with a newly allocated medical record number."""
    if not actor.is_staff:
        raise Forbidden("Only staff register patients.")
    patient = await _new_patient(session, patient_id=None, **data.model_dump())
    audit.record(
        session,
        actor=actor,
        action="create",
        resource_type="patient",
        resource_id=patient.id,
        patient_id=patient.id,
    )
    return patient


def split_full_name(full_name: str) -> tuple[str, str]:
    """(given, family) from a full name: the last word is taken as the family name."""
    given, _, family = full_name.strip().rpartition(" ")
    return given.strip(), family


def check_online_registration(*, birth_date: date | None) -> None:
    """ImplausibleDates for a birth date the record would refuse; sign-up checks it before anything else."""
    try:
        check_birth_date(birth_date)
    except ValueError as error:
        raise ImplausibleDates(f"{error}.", extra={"field": "birth_date"}) from error


async def register_online_patient(
    *,
    session: AsyncSession,
    actor: Principal,
    user_id: uuid.UUID,
    patient_id: uuid.UUID,
    full_name: str,
    email: str,
    given_name: str | None = None,
    family_name: str | None = None,
    birth_date: date | None = None,
) -> Patient:
    """Creates the record of a patient who signed up online; its id is the user's `patient_id`."""
    check_online_registration(birth_date=birth_date)
    derived_given, derived_family = split_full_name(full_name)
    patient = await _new_patient(
        session,
        patient_id=patient_id,
        user_id=user_id,
        given_name=given_name if given_name is not None else derived_given,
        family_name=family_name or derived_family,
        birth_date=birth_date,
        email=email,
    )
    audit.record(
        session,
        actor=actor,
        action="create",
        resource_type="patient",
        resource_id=patient.id,
        patient_id=patient.id,
        detail={"via": "online-registration"},
    )
    return patient


async def get_patient(*, session: AsyncSession, principal: Principal, patient_id: uuid.UUID) -> Patient:
    """One patient, in the caller's scope (a patient gets only their own record)."""
    patient = await load_patient(session=session, principal=principal, patient_id=patient_id)
    audit.record(
        session,
        actor=principal,
        action="read",
        resource_type="patient",
        resource_id=patient.id,
        patient_id=patient.id,
    )
    return patient


async def update_patient(
    *, session: AsyncSession, principal: Principal, patient_id: uuid.UUID, changes: PatientUpdate
) -> Patient:
    """Applies the fields set in `changes`; a patient may change only their own contact details."""
    fields = changes.model_dump(exclude_unset=True)
    if not principal.is_staff and (refused := sorted(set(fields) - CONTACT_FIELDS)):
        raise ContactDetailsOnly(
            f"Patients may change only their contact details, not: {', '.join(refused)}."
        )
    patient = await load_patient(session=session, principal=principal, patient_id=patient_id, for_update=True)
    for name in ("given_name", "family_name", "gender", "deceased", "active"):
        # These columns are NOT NULL: an explicit null means "leave as is" rather than a database error.
        if name in fields and fields[name] is None:
            del fields[name]
    for name, value in fields.items():
        setattr(patient, name, value)
        if name in _NAME_FIELDS:
            setattr(patient, _NAME_FIELDS[name], name_key(value))
    _check_death(patient)
    patient.updated_at = utc_now()
    await session.flush()
    audit.record(
        session,
        actor=principal,
        action="update",
        resource_type="patient",
        resource_id=patient.id,
        patient_id=patient.id,
        detail={"fields": sorted(fields)},
    )
    return patient


def _check_death(patient: Patient) -> None:
    if patient.deceased_at is not None:
        patient.deceased = True
        if patient.deceased_at > utc_now():
            raise ImplausibleDates("deceased_at is in the future.", extra={"field": "deceased_at"})
        if patient.birth_date is not None and patient.deceased_at.date() < patient.birth_date:
            raise ImplausibleDates("deceased_at is before the birth date.", extra={"field": "deceased_at"})
