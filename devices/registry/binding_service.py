"""Binding devices to patients and beds over time, ending bindings, and reading them back.

No two bindings of one device overlap. PostgreSQL guarantees it with an exclusion constraint, which
also settles two concurrent requests; the check here gives the usual case a clear message and is the
guarantee on SQLite, whose embedded-mode transactions are serialised (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.organisation import Bed, Ward
from clinical.patients import Patient
from core import audit
from core.db import utc_now
from core.errors import Conflict, InvalidInput, NotFound
from core.principal import Principal
from devices.registry.access import (
    BINDERS,
    READERS,
    REGISTRARS,
    load_binding,
    load_device,
    require_patient_scope,
    require_role,
    user_ref,
)
from devices.registry.models import Device, DeviceBinding, DeviceStatus
from devices.registry.reads import audit_patient_reads, binding_read, current_at
from devices.registry.schemas import (
    BindingCreate,
    BindingEnd,
    BindingRead,
    DeviceSummary,
    PatientDeviceRead,
)

OVERLAP_CONSTRAINT = "ex_device_bindings_device_overlap"
# Administrators (biomedical engineering) may place a device at a bed; binding it to a patient, or
# ending a patient's binding, stays a clinical act.
BED_PLACERS = BINDERS | REGISTRARS


async def bind_device(
    *, session: AsyncSession, actor: Principal, device_uuid: uuid.UUID, binding: BindingCreate
) -> BindingRead:
    """Binds a device from `start_at` (default now) until ended; refused if it overlaps another binding."""
    binders = BINDERS if binding.patient_id is not None else BED_PLACERS
    require_role(
        session, actor, binders, action="bind", resource_id=device_uuid, patient_id=binding.patient_id
    )
    device = await load_device(session, device_uuid)
    if device.status is not DeviceStatus.ACTIVE:
        raise Conflict(f"Device {device.device_id} is {device.status.value} and cannot be bound.")
    ward_id = await _check_targets(session, binding)
    start = binding.start_at or utc_now()
    await _refuse_overlap(session, device, start)
    # Read now: a failed flush expires every loaded object.
    wire_id = device.device_id
    row = DeviceBinding(
        id=uuid.uuid4(),
        device_uuid=device.id,
        patient_id=binding.patient_id,
        bed_id=binding.bed_id,
        ward_id=ward_id,
        start_at=start,
        bound_by=user_ref(actor),
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as error:
        if OVERLAP_CONSTRAINT not in str(error.orig):
            raise
        # Another request bound the device between our check and our insert; the database said no.
        raise Conflict(f"Device {wire_id} was bound by someone else at the same moment.") from error
    audit.record(
        session,
        actor=actor,
        action="bind",
        resource_type="device_binding",
        resource_id=row.id,
        patient_id=row.patient_id,
        detail={"device_id": wire_id, "bed_id": row.bed_id and str(row.bed_id)},
    )
    return binding_read(row, wire_id)


async def _check_targets(session: AsyncSession, binding: BindingCreate) -> uuid.UUID | None:
    """The binding's ward (the bed's, if a bed is given); InvalidInput for unknown or inactive targets."""
    if binding.patient_id is not None:
        patient = await session.get(Patient, binding.patient_id)
        if patient is None:
            raise InvalidInput(f"patient_id {binding.patient_id} refers to no patient.")
        if not patient.active or patient.deceased:
            raise InvalidInput(
                f"Patient {binding.patient_id} is not active; devices cannot be bound to them."
            )
    if binding.bed_id is not None:
        bed = await session.get(Bed, binding.bed_id)
        if bed is None or not bed.active:
            raise InvalidInput(f"bed_id {binding.bed_id} refers to no bed in service.")
        if binding.ward_id is not None and binding.ward_id != bed.ward_id:
            raise InvalidInput(f"Bed {bed.label} is not on ward {binding.ward_id}.")
        return bed.ward_id
    if binding.ward_id is not None and await session.get(Ward, binding.ward_id) is None:
        raise InvalidInput(f"ward_id {binding.ward_id} refers to no ward.")
    return binding.ward_id


async def _refuse_overlap(session: AsyncSession, device: Device, start: datetime) -> None:
    # The new binding is [start, infinity): anything that has not ended by `start` overlaps it.
    clash = await session.scalar(
        select(DeviceBinding)
        .where(
            DeviceBinding.device_uuid == device.id,
            or_(DeviceBinding.end_at.is_(None), DeviceBinding.end_at > start),
        )
        .order_by(DeviceBinding.start_at)
        .limit(1)
    )
    if clash is not None:
        until = clash.end_at.isoformat() if clash.end_at else "until ended"
        raise Conflict(
            f"Device {device.device_id} is already bound from {clash.start_at.isoformat()} {until} "
            f"(binding {clash.id}); end that binding first.",
            extra={"binding_id": str(clash.id)},
        )


async def end_binding(
    *, session: AsyncSession, actor: Principal, binding_id: uuid.UUID, end: BindingEnd
) -> BindingRead:
    """Ends an open binding at `end_at` (default now); readings after it are no longer attributed."""
    placer = actor.role in BED_PLACERS - BINDERS
    if not placer:
        require_role(
            session, actor, BINDERS, action="unbind", resource_type="device_binding", resource_id=binding_id
        )
    binding = await load_binding(session, binding_id, for_update=True)
    if placer:
        binders = BINDERS if binding.patient_id is not None else BED_PLACERS
        require_role(
            session,
            actor,
            binders,
            action="unbind",
            resource_type="device_binding",
            resource_id=binding_id,
            patient_id=binding.patient_id,
        )
    if binding.end_at is not None:
        raise Conflict(f"Binding {binding_id} already ended at {binding.end_at.isoformat()}.")
    now = utc_now()
    end_at = end.end_at or now
    if end_at > now:
        raise InvalidInput("end_at cannot be in the future.")
    if end_at <= binding.start_at:
        raise InvalidInput(f"end_at must be after the binding's start, {binding.start_at.isoformat()}.")
    binding.end_at, binding.ended_by, binding.end_reason = end_at, user_ref(actor), end.reason
    await session.flush()
    device_id = await session.scalar(select(Device.device_id).where(Device.id == binding.device_uuid))
    audit.record(
        session,
        actor=actor,
        action="unbind",
        resource_type="device_binding",
        resource_id=binding.id,
        patient_id=binding.patient_id,
        detail={"device_id": device_id, "end_at": end_at.isoformat(), "reason": end.reason},
    )
    return binding_read(binding, device_id or "")


async def list_device_bindings(
    *, session: AsyncSession, actor: Principal, device_uuid: uuid.UUID
) -> list[BindingRead]:
    """A device's bindings, newest first; staff only."""
    require_role(
        session, actor, READERS, action="read", resource_type="device_binding", resource_id=device_uuid
    )
    device = await load_device(session, device_uuid)
    rows = await session.scalars(
        select(DeviceBinding)
        .where(DeviceBinding.device_uuid == device.id)
        .order_by(DeviceBinding.start_at.desc())
    )
    reads = [binding_read(row, device.device_id) for row in rows]
    audit_patient_reads(session, actor, reads, detail={"device_id": device.device_id})
    return reads


async def list_patient_devices(
    *, session: AsyncSession, actor: Principal, patient_id: uuid.UUID, current_only: bool = True
) -> list[PatientDeviceRead]:
    """The devices bound to a patient (now, or ever): the patient themself or staff."""
    require_patient_scope(session, actor, patient_id, action="read")
    if actor.is_staff and await session.get(Patient, patient_id) is None:
        raise NotFound(f"There is no patient with id {patient_id}.")
    query = (
        select(DeviceBinding, Device)
        .join(Device, Device.id == DeviceBinding.device_uuid)
        .where(DeviceBinding.patient_id == patient_id)
        .order_by(DeviceBinding.start_at.desc())
    )
    if current_only:
        query = query.where(current_at(utc_now()))
    rows = await session.execute(query)
    reads = [
        PatientDeviceRead(
            binding_id=binding.id,
            device=DeviceSummary(
                id=device.id,
                device_id=device.device_id,
                kind=device.kind,
                manufacturer=device.manufacturer,
                model=device.model,
            ),
            bed_id=binding.bed_id,
            ward_id=binding.ward_id,
            start_at=binding.start_at,
            end_at=binding.end_at,
        )
        for binding, device in rows
    ]
    audit.record(
        session,
        actor=actor,
        action="read",
        resource_type="device_binding",
        patient_id=patient_id,
        detail={"binding_ids": [str(read.binding_id) for read in reads], "current_only": current_only},
    )
    return reads
