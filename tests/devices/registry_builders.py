"""Builders for device registry test data, through the registry's own services.

Stable API: other packages' tests use these; add keyword arguments rather than change them.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.principal import SYSTEM, SYSTEM_USER_ID, Principal, Role
from core.sessions import transaction
from devices.registry import binding_service, lifecycle, service
from devices.registry.broker_access import BrokerAccess
from devices.registry.models import DeviceKind
from devices.registry.schemas import BindingCreate, BindingRead, CredentialIssued, DeviceCreate, DeviceRead

# Binding is a nurse's or clinician's act; builders act as a nurse without an account.
BUILDER_NURSE = Principal(user_id=SYSTEM_USER_ID, role=Role.NURSE)


def unique_device_id(label: str = "dev") -> str:
    """A wire id no other test uses."""
    return f"t-{label}-{secrets.token_hex(5)}"


def device_body(**overrides: Any) -> dict[str, Any]:
    """A valid POST /devices body with a unique id and serial."""
    body: dict[str, Any] = {
        "device_id": unique_device_id(),
        "kind": "bedside_monitor",
        "manufacturer": "Testmed",
        "model": "VitalView 5",
        "serial": f"SN-{secrets.token_hex(6)}",
        "firmware": "2.4.1",
    }
    body.update(overrides)
    return body


async def register_device(
    sessions: async_sessionmaker[AsyncSession],
    *,
    device_id: str | None = None,
    kind: DeviceKind = DeviceKind.BEDSIDE_MONITOR,
) -> DeviceRead:
    """An active device, registered by the system administrator."""
    data = DeviceCreate.model_validate(
        device_body(device_id=device_id or unique_device_id(), kind=kind.value)
    )
    async with transaction(sessions) as session:
        return await service.register_device(session=session, actor=SYSTEM, device=data)


async def issue_secret(
    sessions: async_sessionmaker[AsyncSession], device_uuid: uuid.UUID, *, broker: BrokerAccess | None = None
) -> CredentialIssued:
    """A new secret for the device (pushed to `broker` if given)."""
    async with transaction(sessions) as session:
        return await lifecycle.issue_credential(
            session=session, actor=SYSTEM, device_uuid=device_uuid, broker=broker
        )


async def provisioned_device(
    sessions: async_sessionmaker[AsyncSession], *, broker: BrokerAccess | None = None
) -> tuple[DeviceRead, str]:
    """A registered device and its secret."""
    device = await register_device(sessions)
    issued = await issue_secret(sessions, device.id, broker=broker)
    return device, issued.secret


async def bind_device(
    sessions: async_sessionmaker[AsyncSession],
    device_uuid: uuid.UUID,
    *,
    patient_id: uuid.UUID | None = None,
    bed_id: uuid.UUID | None = None,
    start_at: datetime | None = None,
) -> BindingRead:
    """Binds the device from `start_at` (now), as a nurse would."""
    data = BindingCreate(patient_id=patient_id, bed_id=bed_id, start_at=start_at)
    async with transaction(sessions) as session:
        return await binding_service.bind_device(
            session=session, actor=BUILDER_NURSE, device_uuid=device_uuid, binding=data
        )


async def revoke(
    sessions: async_sessionmaker[AsyncSession], device_uuid: uuid.UUID, *, broker: BrokerAccess | None = None
) -> DeviceRead:
    """Revokes the device as the system administrator."""
    async with transaction(sessions) as session:
        return await lifecycle.revoke_device(
            session=session, actor=SYSTEM, device_uuid=device_uuid, reason="test", broker=broker
        )
