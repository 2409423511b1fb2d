"""Practitioners: who works here, in which department, with which specialties and qualifications.

Any signed-in user may read practitioners (patients choose whom to book); administrators change them.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.organisation.exceptions import DuplicateName, PractitionerNotFound, UnknownReference
from clinical.organisation.models import Department, Practitioner, PractitionerSpecialty
from clinical.organisation.schemas import PractitionerCreate, PractitionerUpdate
from clinical.organisation.service import require_admin
from core import audit
from core.db import utc_now
from core.identity import User
from core.principal import Principal, Role

# Roles whose accounts may be linked to a practitioner record.
PRACTITIONER_ROLES = frozenset({Role.CLINICIAN, Role.NURSE})


async def _check_references(
    session: AsyncSession, user_id: uuid.UUID | None, department_id: uuid.UUID | None
) -> None:
    if user_id is not None:
        user = await session.get(User, user_id)
        if user is None or user.role not in PRACTITIONER_ROLES:
            raise UnknownReference(
                f"User {user_id} is not a clinician's or nurse's account.", extra={"field": "user_id"}
            )
    if department_id is not None and await session.get(Department, department_id) is None:
        raise UnknownReference(
            f"There is no department with id {department_id}.", extra={"field": "department_id"}
        )


def _set_specialties(practitioner: Practitioner, specialties: list[str]) -> None:
    practitioner.specialty_rows = [PractitionerSpecialty(specialty=code) for code in sorted(set(specialties))]


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as error:
        raise DuplicateName("That user account is already linked to another practitioner.") from error


_audit = audit.RowAudit("practitioner", patient_of=None)


async def create_practitioner(
    *, session: AsyncSession, actor: Principal, data: PractitionerCreate
) -> Practitioner:
    """Creates a practitioner, optionally linked to a clinician's or nurse's account."""
    require_admin(actor)
    await _check_references(session, data.user_id, data.department_id)
    fields = data.model_dump(exclude={"specialties"})
    practitioner = Practitioner(**fields)
    _set_specialties(practitioner, data.specialties)
    session.add(practitioner)
    await _flush(session)
    _audit(session, actor, "create", practitioner)
    return practitioner


async def update_practitioner(
    *, session: AsyncSession, actor: Principal, practitioner_id: uuid.UUID, changes: PractitionerUpdate
) -> Practitioner:
    """Applies the fields set; specialties and qualifications, when given, replace the lists."""
    require_admin(actor)
    practitioner = await get_practitioner(session=session, practitioner_id=practitioner_id)
    fields = {
        name: value for name, value in changes.model_dump(exclude_unset=True).items() if value is not None
    }
    await _check_references(session, None, fields.get("department_id"))
    if "specialties" in fields:
        _set_specialties(practitioner, fields.pop("specialties"))
    for name, value in fields.items():
        setattr(practitioner, name, value)
    practitioner.updated_at = utc_now()
    await _flush(session)
    _audit(session, actor, "update", practitioner, fields=sorted(changes.model_dump(exclude_unset=True)))
    return practitioner


async def get_practitioner(*, session: AsyncSession, practitioner_id: uuid.UUID) -> Practitioner:
    """One practitioner, or PractitionerNotFound."""
    practitioner = await session.get(Practitioner, practitioner_id)
    if practitioner is None:
        raise PractitionerNotFound(f"There is no practitioner with id {practitioner_id}.")
    return practitioner


async def list_practitioners(
    *,
    session: AsyncSession,
    specialty: str | None = None,
    department_id: uuid.UUID | None = None,
    include_inactive: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> list[Practitioner]:
    """Practitioners by family then given name, filtered by specialty code and/or department."""
    statement = select(Practitioner).order_by(
        Practitioner.family_name, Practitioner.given_name, Practitioner.id
    )
    if specialty:
        has_specialty = select(PractitionerSpecialty.practitioner_id).where(
            PractitionerSpecialty.specialty == specialty.strip().lower()
        )
        statement = statement.where(Practitioner.id.in_(has_specialty))
    if department_id is not None:
        statement = statement.where(Practitioner.department_id == department_id)
    if not include_inactive:
        statement = statement.where(Practitioner.active.is_(True))
    return list((await session.scalars(statement.limit(limit).offset(offset))).all())
