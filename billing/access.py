"""Who may do what in billing: billing clerks and administrators manage; patients see their own."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from core.access import require_patient_scope, require_role
from core.errors import NotFound
from core.principal import Principal, Role

MANAGERS = frozenset({Role.ADMIN, Role.BILLING})
# Clinicians bill their own encounters; managers bill any.
CHARGERS = MANAGERS | {Role.CLINICIAN}


def require_manager(
    session: AsyncSession, actor: Principal, *, action: str, resource_type: str, resource_id: object = None
) -> None:
    """Forbidden (audited) unless the caller is a billing clerk or an administrator."""
    require_role(
        session, actor, MANAGERS, action=action, resource_type=resource_type, resource_id=resource_id
    )


def require_billing_scope(
    session: AsyncSession,
    actor: Principal,
    patient_id: uuid.UUID,
    *,
    action: str,
    resource_type: str,
    resource_id: object = None,
) -> None:
    """Managers see every patient's bills; a patient only their own; nobody else any (audited)."""
    if actor.role in MANAGERS:
        return
    if actor.role is not Role.PATIENT:
        require_manager(session, actor, action=action, resource_type=resource_type, resource_id=resource_id)
    require_patient_scope(
        session,
        actor,
        patient_id,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        message="Patients may only access their own bills.",
    )


def not_found(kind: str, row_id: uuid.UUID) -> NotFound:
    return NotFound(f"There is no {kind} with id {row_id}.")
