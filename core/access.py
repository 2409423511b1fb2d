"""Audited refusals: the one way a service says "you may not", so every denial is on the record.

The entry is queued with outcome "denied"; the unit of work writes it even though the request's
transaction rolls back because of the Forbidden raised here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import NoReturn

from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.errors import Forbidden
from core.principal import Principal, Role


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
    message: str = "Patients may only access their own records.",
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
