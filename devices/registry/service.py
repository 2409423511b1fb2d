"""Registering, reading, listing and editing devices. Status changes and secrets are in `lifecycle`."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.db import utc_now
from core.errors import Conflict
from core.principal import Principal
from devices.registry.access import READERS, REGISTRARS, load_device, require_role, user_ref
from devices.registry.models import Device, DeviceBinding, DeviceKind, DeviceStatus
from devices.registry.reads import audit_patient_reads, current_at, device_reads
from devices.registry.schemas import DeviceCreate, DevicePage, DeviceRead, DeviceUpdate

MAX_PAGE_SIZE = 200


async def register_device(*, session: AsyncSession, actor: Principal, device: DeviceCreate) -> DeviceRead:
    """Adds a device to the registry; it may connect once it has been issued a secret."""
    require_role(session, actor, REGISTRARS, action="create")
    await _refuse_duplicates(session, device)
    row = Device(
        id=uuid.uuid4(),
        device_id=device.device_id,
        kind=device.kind,
        manufacturer=device.manufacturer,
        model=device.model,
        serial=device.serial,
        firmware=device.firmware,
        eui64=device.eui64,
        udi=device.udi,
        status=DeviceStatus.ACTIVE,
        registered_by=user_ref(actor),
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as error:
        if "unique" not in str(error.orig).lower():
            raise
        # A concurrent registration of the same id or serial won the race past the checks above.
        raise Conflict(
            "A device with this device_id, or this manufacturer and serial, already exists."
        ) from error
    audit.record(
        session,
        actor=actor,
        action="create",
        resource_type="device",
        resource_id=row.id,
        detail={"device_id": row.device_id, "kind": row.kind.value, "serial": row.serial},
    )
    [read] = await device_reads(session, [row], now=utc_now())
    return read


async def _refuse_duplicates(session: AsyncSession, device: DeviceCreate) -> None:
    if await session.scalar(select(Device.id).where(Device.device_id == device.device_id)):
        raise Conflict(f"A device with device_id {device.device_id!r} is already registered.")
    same_serial = select(Device.id).where(
        Device.manufacturer == device.manufacturer, Device.serial == device.serial
    )
    if await session.scalar(same_serial):
        raise Conflict(f"{device.manufacturer} serial {device.serial!r} is already registered.")
    if device.eui64 is not None:
        await _refuse_eui64_taken(session, device.eui64)


async def _refuse_eui64_taken(session: AsyncSession, eui64: str) -> None:
    if await session.scalar(select(Device.id).where(Device.eui64 == eui64)) is not None:
        raise Conflict(f"A device with EUI-64 {eui64} is already registered.")


async def get_device(*, session: AsyncSession, actor: Principal, device_uuid: uuid.UUID) -> DeviceRead:
    """One device with its current binding; staff only."""
    require_role(session, actor, READERS, action="read", resource_id=device_uuid)
    device = await load_device(session, device_uuid)
    [read] = await device_reads(session, [device], now=utc_now())
    audit.record(session, actor=actor, action="read", resource_type="device", resource_id=device.id)
    audit_patient_reads(session, actor, [read.current_binding] if read.current_binding else [])
    return read


async def list_devices(
    *,
    session: AsyncSession,
    actor: Principal,
    status: DeviceStatus | None = None,
    kind: DeviceKind | None = None,
    patient_id: uuid.UUID | None = None,
    ward_id: uuid.UUID | None = None,
    after: str | None = None,
    limit: int = 50,
) -> DevicePage:
    """A page of devices ordered by device id; `patient_id` and `ward_id` select where they are bound now."""
    require_role(session, actor, READERS, action="list", patient_id=patient_id)
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    now = utc_now()
    query = select(Device).order_by(Device.device_id).limit(limit + 1)
    if status is not None:
        query = query.where(Device.status == status)
    if kind is not None:
        query = query.where(Device.kind == kind)
    if patient_id is not None or ward_id is not None:
        bound = select(DeviceBinding.device_uuid).where(current_at(now))
        if patient_id is not None:
            bound = bound.where(DeviceBinding.patient_id == patient_id)
        if ward_id is not None:
            bound = bound.where(DeviceBinding.ward_id == ward_id)
        query = query.where(Device.id.in_(bound))
    if after is not None:
        query = query.where(Device.device_id > after)
    devices = list(await session.scalars(query))
    page = await device_reads(session, devices[:limit], now=now)
    filters = {
        "status": status and status.value,
        "kind": kind and kind.value,
        "ward_id": ward_id and str(ward_id),
    }
    audit.record(
        session,
        actor=actor,
        action="list",
        resource_type="device",
        detail={**filters, "device_ids": [str(item.id) for item in page]},
    )
    shown = [item.current_binding for item in page if item.current_binding]
    audit_patient_reads(session, actor, shown, action="list", patient_id=patient_id)
    more = len(devices) > limit
    return DevicePage(items=page, next_cursor=page[-1].device_id if more else None)


async def update_device(
    *, session: AsyncSession, actor: Principal, device_uuid: uuid.UUID, changes: DeviceUpdate
) -> DeviceRead:
    """Changes a device's model, firmware or identifiers (after a firmware update, say); administrators only."""
    require_role(session, actor, REGISTRARS, action="update", resource_id=device_uuid)
    device = await load_device(session, device_uuid, for_update=True)
    fields = ("model", "firmware", "eui64", "udi")
    before = {name: getattr(device, name) for name in fields}
    if changes.eui64 is not None and changes.eui64 != device.eui64:
        await _refuse_eui64_taken(session, changes.eui64)
    for field in changes.model_fields_set:
        setattr(device, field, getattr(changes, field))
    await session.flush()
    after = {name: getattr(device, name) for name in fields}
    audit.record(
        session,
        actor=actor,
        action="update",
        resource_type="device",
        resource_id=device.id,
        detail={"before": before, "after": after},
    )
    [read] = await device_reads(session, [device], now=utc_now())
    return read
