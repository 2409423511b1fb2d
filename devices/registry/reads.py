"""Shaping registry rows for the API, and auditing whose data a read revealed."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.principal import Principal
from devices.registry.models import Device, DeviceBinding, DeviceCredential
from devices.registry.schemas import BindingRead, DeviceRead


def current_at(now: datetime) -> ColumnElement[bool]:
    """Bindings whose span [start_at, end_at) contains `now`."""
    return and_(
        DeviceBinding.start_at <= now, or_(DeviceBinding.end_at.is_(None), DeviceBinding.end_at > now)
    )


def binding_read(binding: DeviceBinding, device_id: str) -> BindingRead:
    return BindingRead(
        id=binding.id,
        device=binding.device_uuid,
        device_id=device_id,
        patient_id=binding.patient_id,
        bed_id=binding.bed_id,
        ward_id=binding.ward_id,
        start_at=binding.start_at,
        end_at=binding.end_at,
        end_reason=binding.end_reason,
        bound_by=binding.bound_by,
        ended_by=binding.ended_by,
    )


async def device_reads(
    session: AsyncSession, devices: Sequence[Device], *, now: datetime
) -> list[DeviceRead]:
    """The API view of `devices`, each with its current binding and the date of its current secret."""
    ids = [device.id for device in devices]
    if not ids:
        return []
    bindings = await session.scalars(
        select(DeviceBinding).where(DeviceBinding.device_uuid.in_(ids), current_at(now))
    )
    current = {binding.device_uuid: binding for binding in bindings}
    credentials = await session.execute(
        select(DeviceCredential.device_uuid, DeviceCredential.issued_at).where(
            DeviceCredential.device_uuid.in_(ids), DeviceCredential.revoked_at.is_(None)
        )
    )
    issued = {device_uuid: issued_at for device_uuid, issued_at in credentials}
    return [_device_read(device, current.get(device.id), issued.get(device.id)) for device in devices]


def _device_read(device: Device, binding: DeviceBinding | None, issued_at: datetime | None) -> DeviceRead:
    return DeviceRead(
        id=device.id,
        device_id=device.device_id,
        kind=device.kind,
        manufacturer=device.manufacturer,
        model=device.model,
        serial=device.serial,
        firmware=device.firmware,
        eui64=device.eui64,
        udi=device.udi,
        status=device.status,
        status_changed_at=device.status_changed_at,
        status_reason=device.status_reason,
        credential_issued_at=issued_at,
        current_binding=binding_read(binding, device.device_id) if binding else None,
        created_at=device.created_at,
        updated_at=device.updated_at,
    )


def audit_patient_reads(
    session: AsyncSession,
    actor: Principal,
    bindings: Iterable[BindingRead],
    *,
    action: str = "read",
    detail: dict[str, Any] | None = None,
    patient_id: uuid.UUID | None = None,
) -> None:
    """One audit entry per patient whose bindings were shown; `patient_id` gets one even for none."""
    audit.record_listed(
        session,
        actor,
        bindings,
        action=action,
        resource_type="device_binding",
        ids_key="binding_ids",
        patient_id=patient_id,
        detail=detail,
    )
