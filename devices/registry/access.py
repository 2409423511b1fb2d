"""Who may do what in the registry, and loading records through those rules.

Administrators (biomedical engineering) register devices, issue secrets and take devices out of
service; nurses and clinicians bind devices to patients, a clinical act, which administrators do not
do; all staff read the registry. Patients see only the devices bound to themselves. Each refusal is
audited before it is raised.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import access
from core.errors import NotFound
from core.principal import STAFF_ROLES, Principal, Role
from devices.registry.models import Device, DeviceBinding

REGISTRARS = frozenset({Role.ADMIN})
BINDERS = frozenset({Role.CLINICIAN, Role.NURSE})
READERS = STAFF_ROLES


def user_ref(actor: Principal) -> uuid.UUID | None:
    """The actor's users row to record, or None for the system principal, which has none."""
    return actor.user_id if actor.user_id.int else None


def require_role(
    session: AsyncSession,
    actor: Principal,
    roles: Iterable[Role],
    *,
    action: str,
    resource_type: str = "device",
    resource_id: object | None = None,
    patient_id: uuid.UUID | None = None,
) -> None:
    """Forbidden (audited) unless the caller holds one of `roles`; registry records by default."""
    access.require_role(
        session,
        actor,
        roles,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        patient_id=patient_id,
    )


def require_patient_scope(
    session: AsyncSession, actor: Principal, patient_id: uuid.UUID, *, action: str
) -> None:
    """Forbidden (audited) unless the caller is staff or the patient themself."""
    access.require_patient_scope(
        session,
        actor,
        patient_id,
        action=action,
        resource_type="device_binding",
        message="Patients may only see the devices bound to themselves.",
    )


async def load_device(session: AsyncSession, device_uuid: uuid.UUID, *, for_update: bool = False) -> Device:
    """The device, or NotFound; `for_update` serialises changes to it (PostgreSQL; SQLite is serial)."""
    query = select(Device).where(Device.id == device_uuid)
    if for_update:
        query = query.with_for_update()
    device = await session.scalar(query)
    if device is None:
        raise NotFound(f"There is no device with id {device_uuid}.")
    return device


async def load_binding(
    session: AsyncSession, binding_id: uuid.UUID, *, for_update: bool = False
) -> DeviceBinding:
    """The binding, or NotFound."""
    query = select(DeviceBinding).where(DeviceBinding.id == binding_id)
    if for_update:
        query = query.with_for_update()
    binding = await session.scalar(query)
    if binding is None:
        raise NotFound(f"There is no device binding with id {binding_id}.")
    return binding
