"""Appointment types: the catalogue of visits (administrators edit it, everyone reads it)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.scheduling.exceptions import DuplicateCode
from clinical.scheduling.models import AppointmentType
from clinical.scheduling.schemas import AppointmentTypeCreate, AppointmentTypeUpdate
from core import audit
from core.errors import Forbidden, NotFound
from core.principal import Principal, Role


def _require_admin(actor: Principal) -> None:
    if actor.role is not Role.ADMIN:
        raise Forbidden("Only administrators may change appointment types.")


async def create_type(
    *, session: AsyncSession, actor: Principal, new: AppointmentTypeCreate
) -> AppointmentType:
    """Adds an appointment type; its code must be new."""
    _require_admin(actor)
    created = AppointmentType(**new.model_dump())
    session.add(created)
    try:
        await session.flush()
    except IntegrityError as error:  # the only unique column is the code
        raise DuplicateCode(f"An appointment type with code '{new.code}' exists already.") from error
    audit.record(
        session,
        actor=actor,
        action="create",
        resource_type="appointment_type",
        resource_id=created.id,
        detail={"code": created.code},
    )
    return created


async def update_type(
    *, session: AsyncSession, actor: Principal, type_id: uuid.UUID, changes: AppointmentTypeUpdate
) -> AppointmentType:
    """Renames, retires or changes the cancellation window of a type; its length is fixed (it sets the grid)."""
    _require_admin(actor)
    found = await session.get(AppointmentType, type_id, with_for_update=True)
    if found is None:
        raise NotFound(f"There is no appointment type {type_id}.")
    values = changes.model_dump(exclude_none=True)
    for field, value in values.items():
        setattr(found, field, value)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="update",
        resource_type="appointment_type",
        resource_id=found.id,
        detail={"fields": sorted(values)},
    )
    return found


async def list_types(
    *, session: AsyncSession, actor: Principal, include_inactive: bool = False
) -> list[AppointmentType]:
    """The catalogue, by code; retired types only on request."""
    query = select(AppointmentType).order_by(AppointmentType.code)
    if not include_inactive:
        query = query.where(AppointmentType.active.is_(True))
    found = list(await session.scalars(query))
    audit.record(session, actor=actor, action="list", resource_type="appointment_type")
    return found
