"""A device's life: issuing and rotating its secret, taking it out of service, bringing it back.

Taking a device out of service (deactivate: retired or in repair; revoke: lost, stolen or distrusted)
revokes its secret, ends its open bindings, and removes it from the broker once the change commits
(see `broker_access` for when and why).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.db import utc_now
from core.errors import Conflict, Unavailable
from core.principal import Principal
from devices.protocol import TOPIC_ROOT
from devices.registry.access import REGISTRARS, load_device, require_role, user_ref
from devices.registry.broker_access import BrokerAccess, BrokerConflict
from devices.registry.credentials import hash_secret, new_secret
from devices.registry.dynsec_client import BrokerAdminError
from devices.registry.models import Device, DeviceBinding, DeviceCredential, DeviceStatus
from devices.registry.reads import device_reads
from devices.registry.schemas import CredentialIssued, DeviceRead


async def issue_credential(
    *, session: AsyncSession, actor: Principal, device_uuid: uuid.UUID, broker: BrokerAccess | None
) -> CredentialIssued:
    """A new secret for an active device, replacing (and revoking) any previous one; shown this once."""
    require_role(session, actor, REGISTRARS, action="issue_credential", resource_id=device_uuid)
    device = await load_device(session, device_uuid, for_update=True)
    if device.status is not DeviceStatus.ACTIVE:
        raise Conflict(
            f"Device {device.device_id} is {device.status.value}; only active devices get secrets."
        )
    now = utc_now()
    replaced = await _revoke_secret(session, device, actor=actor, reason="rotated")
    secret = new_secret()
    credential = DeviceCredential(
        id=uuid.uuid4(),
        device_uuid=device.id,
        secret_hash=hash_secret(secret),
        issued_at=now,
        issued_by=user_ref(actor),
    )
    session.add(credential)
    await session.flush()
    if broker is not None:
        # Before the commit: only now is the plain secret at hand (see broker_access).
        try:
            await broker.grant_device(device_id=device.device_id, credential_id=credential.id, secret=secret)
        except BrokerConflict as error:
            raise Conflict(str(error)) from error
        except BrokerAdminError as error:
            raise Unavailable(f"The broker could not be updated, so no secret was issued: {error}") from error
    audit.record(
        session,
        actor=actor,
        action="issue_credential",
        resource_type="device",
        resource_id=device.id,
        detail={"credential_id": str(credential.id), "replaced": replaced and str(replaced)},
    )
    return CredentialIssued(
        credential_id=credential.id,
        device_id=device.device_id,
        username=device.device_id,
        secret=secret,
        topic_prefix=f"{TOPIC_ROOT}/{device.device_id}/",
        issued_at=now,
        broker_updated=broker is not None,
    )


async def _revoke_secret(
    session: AsyncSession, device: Device, *, actor: Principal, reason: str
) -> uuid.UUID | None:
    # One statement, before any insert: the partial unique index allows one unrevoked secret per device.
    revoked = await session.scalar(
        update(DeviceCredential)
        .where(DeviceCredential.device_uuid == device.id, DeviceCredential.revoked_at.is_(None))
        .values(revoked_at=utc_now(), revoked_by=user_ref(actor), revoked_reason=reason)
        .returning(DeviceCredential.id)
    )
    return revoked


async def revoke_device(
    *,
    session: AsyncSession,
    actor: Principal,
    device_uuid: uuid.UUID,
    reason: str,
    broker: BrokerAccess | None,
) -> DeviceRead:
    """Distrusts a device (lost, stolen, tampered with): it is refused by the broker from now on."""
    return await _take_out_of_service(
        session, actor, device_uuid, DeviceStatus.REVOKED, reason=reason, broker=broker
    )


async def deactivate_device(
    *,
    session: AsyncSession,
    actor: Principal,
    device_uuid: uuid.UUID,
    reason: str,
    broker: BrokerAccess | None,
) -> DeviceRead:
    """Takes a device out of service (retired, in repair); it can be activated again later."""
    return await _take_out_of_service(
        session, actor, device_uuid, DeviceStatus.DEACTIVATED, reason=reason, broker=broker
    )


async def _take_out_of_service(
    session: AsyncSession,
    actor: Principal,
    device_uuid: uuid.UUID,
    status: DeviceStatus,
    *,
    reason: str,
    broker: BrokerAccess | None,
) -> DeviceRead:
    action = "revoke" if status is DeviceStatus.REVOKED else "deactivate"
    require_role(session, actor, REGISTRARS, action=action, resource_id=device_uuid)
    device = await load_device(session, device_uuid, for_update=True)
    if device.status is status or device.status is DeviceStatus.REVOKED:
        raise Conflict(f"Device {device.device_id} is already {device.status.value}.")
    now = utc_now()
    device.status, device.status_changed_at, device.status_reason = status, now, reason
    revoked = await _revoke_secret(session, device, actor=actor, reason=f"device-{status.value}")
    ended = await _end_bindings(session, actor, device, now=now, reason=f"device-{status.value}")
    await session.flush()
    if broker is not None:
        broker.remove_device_after_commit(session, device.device_id)
    audit.record(
        session,
        actor=actor,
        action=action,
        resource_type="device",
        resource_id=device.id,
        detail={"reason": reason, "credential_revoked": revoked and str(revoked), "bindings_ended": ended},
    )
    [read] = await device_reads(session, [device], now=now)
    return read


async def _end_bindings(
    session: AsyncSession, actor: Principal, device: Device, *, now: datetime, reason: str
) -> int:
    """Ends the device's open bindings now (audited); one that had not started yet is cancelled (deleted)."""
    open_bindings = list(
        await session.scalars(
            select(DeviceBinding).where(
                DeviceBinding.device_uuid == device.id, DeviceBinding.end_at.is_(None)
            )
        )
    )
    for binding in open_bindings:
        if binding.start_at >= now:
            await session.delete(binding)
            action = "cancel_binding"
        else:
            binding.end_at, binding.ended_by, binding.end_reason = now, user_ref(actor), reason
            action = "unbind"
        audit.record(
            session,
            actor=actor,
            action=action,
            resource_type="device_binding",
            resource_id=binding.id,
            patient_id=binding.patient_id,
            detail={"reason": reason},
        )
    return len(open_bindings)


async def activate_device(*, session: AsyncSession, actor: Principal, device_uuid: uuid.UUID) -> DeviceRead:
    """Returns a deactivated or revoked device to service; it needs a new secret before it can connect."""
    require_role(session, actor, REGISTRARS, action="activate", resource_id=device_uuid)
    device = await load_device(session, device_uuid, for_update=True)
    if device.status is DeviceStatus.ACTIVE:
        raise Conflict(f"Device {device.device_id} is already active.")
    previous = device.status
    now = utc_now()
    device.status, device.status_changed_at, device.status_reason = DeviceStatus.ACTIVE, now, None
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="activate",
        resource_type="device",
        resource_id=device.id,
        detail={"previous_status": previous.value},
    )
    [read] = await device_reads(session, [device], now=now)
    return read
