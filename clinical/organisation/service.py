"""The organisation's structure: departments, wards and beds (changed by administrators only).

Reading it is not patient data and is not audited; changes are.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.organisation.exceptions import (
    BedNotFound,
    DepartmentNotFound,
    DuplicateName,
    UnknownReference,
    WardNotFound,
)
from clinical.organisation.models import Bed, Department, Ward
from clinical.organisation.schemas import (
    BedCreate,
    BedUpdate,
    DepartmentCreate,
    DepartmentUpdate,
    WardCreate,
    WardUpdate,
)
from core import audit
from core.db import utc_now
from core.errors import Forbidden
from core.principal import Principal, Role

Row = TypeVar("Row", Department, Ward, Bed)


def require_admin(principal: Principal) -> None:
    """Forbidden unless the caller is an administrator."""
    if principal.role is not Role.ADMIN:
        raise Forbidden("Changing the organisation's structure needs the admin role.")


async def _flush_unique(session: AsyncSession, what: str) -> None:
    try:
        await session.flush()
    except IntegrityError as error:
        # The unique constraint decides between concurrent creations; the loser hears 409.
        raise DuplicateName(f"{what} already exists.") from error


async def _save(
    session: AsyncSession, actor: Principal, row: Row, action: str, what: str, **detail: Any
) -> Row:
    await _flush_unique(session, what)
    audit.record(
        session,
        actor=actor,
        action=action,
        resource_type=type(row).__tablename__.removesuffix("s"),
        resource_id=row.id,
        detail=detail or None,
    )
    return row


def _apply(row: Any, fields: dict[str, Any]) -> dict[str, Any]:
    applied = {name: value for name, value in fields.items() if value is not None}
    for name, value in applied.items():
        setattr(row, name, value)
    row.updated_at = utc_now()
    return applied


async def get_department(*, session: AsyncSession, department_id: uuid.UUID) -> Department:
    """One department, or DepartmentNotFound."""
    department = await session.get(Department, department_id)
    if department is None:
        raise DepartmentNotFound(f"There is no department with id {department_id}.")
    return department


async def list_departments(*, session: AsyncSession, include_inactive: bool = False) -> list[Department]:
    """The departments, by name."""
    statement = select(Department).order_by(Department.name)
    if not include_inactive:
        statement = statement.where(Department.active.is_(True))
    return list((await session.scalars(statement)).all())


async def create_department(*, session: AsyncSession, actor: Principal, data: DepartmentCreate) -> Department:
    """Creates a department; 409 if its code or name is taken."""
    require_admin(actor)
    department = Department(**data.model_dump())
    session.add(department)
    return await _save(
        session, actor, department, "create", f"A department with code {data.code} or that name"
    )


async def update_department(
    *, session: AsyncSession, actor: Principal, department_id: uuid.UUID, changes: DepartmentUpdate
) -> Department:
    """Renames or (de)activates a department."""
    require_admin(actor)
    department = await get_department(session=session, department_id=department_id)
    applied = _apply(department, changes.model_dump(exclude_unset=True))
    return await _save(
        session, actor, department, "update", "A department with that name", fields=sorted(applied)
    )


async def _department_reference(session: AsyncSession, department_id: uuid.UUID) -> None:
    if await session.get(Department, department_id) is None:
        raise UnknownReference(
            f"There is no department with id {department_id}.", extra={"field": "department_id"}
        )


async def get_ward(*, session: AsyncSession, ward_id: uuid.UUID) -> Ward:
    """One ward, or WardNotFound."""
    ward = await session.get(Ward, ward_id)
    if ward is None:
        raise WardNotFound(f"There is no ward with id {ward_id}.")
    return ward


async def list_wards(
    *, session: AsyncSession, department_id: uuid.UUID | None = None, include_inactive: bool = False
) -> list[Ward]:
    """The wards, by code, optionally of one department."""
    statement = select(Ward).order_by(Ward.code)
    if department_id is not None:
        statement = statement.where(Ward.department_id == department_id)
    if not include_inactive:
        statement = statement.where(Ward.active.is_(True))
    return list((await session.scalars(statement)).all())


async def create_ward(*, session: AsyncSession, actor: Principal, data: WardCreate) -> Ward:
    """Creates a ward in a department; 409 if its code is taken."""
    require_admin(actor)
    await _department_reference(session, data.department_id)
    ward = Ward(**data.model_dump())
    session.add(ward)
    return await _save(session, actor, ward, "create", f"A ward with code {data.code}")


async def update_ward(
    *, session: AsyncSession, actor: Principal, ward_id: uuid.UUID, changes: WardUpdate
) -> Ward:
    """Renames, moves or (de)activates a ward."""
    require_admin(actor)
    ward = await get_ward(session=session, ward_id=ward_id)
    if changes.department_id is not None:
        await _department_reference(session, changes.department_id)
    applied = _apply(ward, changes.model_dump(exclude_unset=True))
    return await _save(session, actor, ward, "update", "That ward", fields=sorted(applied))


async def get_bed(*, session: AsyncSession, bed_id: uuid.UUID) -> Bed:
    """One bed, or BedNotFound."""
    bed = await session.get(Bed, bed_id)
    if bed is None:
        raise BedNotFound(f"There is no bed with id {bed_id}.")
    return bed


async def list_beds(
    *, session: AsyncSession, ward_id: uuid.UUID, include_inactive: bool = False
) -> list[Bed]:
    """The beds of a ward, by label."""
    await get_ward(session=session, ward_id=ward_id)
    statement = select(Bed).where(Bed.ward_id == ward_id).order_by(Bed.label)
    if not include_inactive:
        statement = statement.where(Bed.active.is_(True))
    return list((await session.scalars(statement)).all())


async def create_bed(*, session: AsyncSession, actor: Principal, ward_id: uuid.UUID, data: BedCreate) -> Bed:
    """Adds a bed to a ward; 409 if the ward already has a bed with that label."""
    require_admin(actor)
    await get_ward(session=session, ward_id=ward_id)
    bed = Bed(ward_id=ward_id, **data.model_dump())
    session.add(bed)
    return await _save(session, actor, bed, "create", f"A bed labelled {data.label} in this ward")


async def update_bed(
    *, session: AsyncSession, actor: Principal, bed_id: uuid.UUID, changes: BedUpdate
) -> Bed:
    """Relabels or (de)activates a bed."""
    require_admin(actor)
    bed = await get_bed(session=session, bed_id=bed_id)
    applied = _apply(bed, changes.model_dump(exclude_unset=True))
    return await _save(
        session, actor, bed, "update", "A bed with that label in this ward", fields=sorted(applied)
    )
