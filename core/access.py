"""Audited refusals: the one way a service says "you may not", so every denial is on the record;
and the one way to load a patient's row by id, refused (audited) when it is another patient's.

The entry is queued with outcome "denied"; the unit of work writes it even though the request's
transaction rolls back because of the Forbidden raised here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import NoReturn, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.errors import Forbidden, NotFound
from core.principal import Principal, Role

PATIENTS_OWN = "Patients may only access their own records."


class OfPatient(Protocol):
    """A row that belongs to one patient's record."""

    @property
    def patient_id(self) -> uuid.UUID: ...


Row = TypeVar("Row", bound=OfPatient)


def refuse(
    session: AsyncSession,
    actor: Principal,
    *,
    action: str,
    resource_type: str,
    message: str,
    resource_id: object | None = None,
    patient_id: uuid.UUID | None = None,
) -> NoReturn:
    """Records the denied attempt and raises Forbidden with `message`."""
    audit.record(
        session,
        actor=actor,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        patient_id=patient_id,
        outcome="denied",
    )
    raise Forbidden(message)


def require_role(
    session: AsyncSession,
    actor: Principal,
    roles: Iterable[Role],
    *,
    action: str,
    resource_type: str,
    resource_id: object | None = None,
    patient_id: uuid.UUID | None = None,
) -> None:
    """Forbidden (audited) unless the caller holds one of `roles`."""
    allowed = frozenset(roles)
    if actor.role in allowed:
        return
    names = ", ".join(sorted(role.value for role in allowed))
    refuse(
        session,
        actor,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        patient_id=patient_id,
        message=f"This action needs one of the roles: {names}.",
    )


def require_patient_scope(
    session: AsyncSession,
    actor: Principal,
    patient_id: uuid.UUID,
    *,
    action: str,
    resource_type: str,
    resource_id: object | None = None,
    message: str = PATIENTS_OWN,
) -> None:
    """Forbidden (audited) unless the caller may see this patient: staff, or the patient themself."""
    if actor.may_access_patient(patient_id):
        return
    refuse(
        session,
        actor,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        patient_id=patient_id,
        message=message,
    )


async def load_in_scope(
    session: AsyncSession,
    actor: Principal,
    model: type[Row],
    row_id: uuid.UUID,
    *,
    action: str,
    resource_type: str,
    missing: str,
    gone: Callable[[Row], bool] | None = None,
    for_update: bool = False,
    message: str = PATIENTS_OWN,
) -> Row:
    """The row if it exists and the caller may see its patient: NotFound(`missing`) when there is no
    such row (or `gone` says it is as good as none), Forbidden (audited) when it is another patient's.
    `for_update` locks it for the rest of the transaction."""
    row = await session.get(model, row_id, with_for_update=for_update)
    if row is None or (gone is not None and gone(row)):
        raise NotFound(missing)
    require_patient_scope(
        session,
        actor,
        row.patient_id,
        action=action,
        resource_type=resource_type,
        resource_id=row_id,
        message=message,
    )
    return row
