"""The full sync: make the running broker's access control agree with the registry.

The safety net behind the updates made as changes commit (see `broker_access`). It reads the
broker's state first and changes only what differs, because the plugin disconnects every client
whose role or account is touched, even to the same value.

- device clients the registry does not list as active with that very credential: deleted;
- roles and ACLs of the ingest account and of each device: created or repaired;
- the ingest account: created, or its password reset when the broker refuses the configured one;
- active devices whose secret the broker lacks are reported: the registry holds only hashes, which the
  plugin's commands cannot take, so they need a new secret (or a broker restored with `--out`).
Clients not created by the platform (no credential marker) are left alone.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from devices.registry import dynsec
from devices.registry.broker_access import BrokerAccess
from devices.registry.dynsec import Account, Command
from devices.registry.dynsec_client import accepts_login
from devices.registry.models import Device, DeviceCredential, DeviceStatus

logger = logging.getLogger(__name__)

AclKey = tuple[str, str, bool, int]


@dataclass(slots=True)
class SyncReport:
    removed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    repaired_roles: list[str] = field(default_factory=list)
    ingest: str = "unchanged"

    def summary(self) -> str:
        return (
            f"removed {len(self.removed)} device client(s), repaired {len(self.repaired_roles)} role(s), "
            f"ingest account {self.ingest}, {len(self.missing)} active device(s) need a new secret"
        )


async def registry_credentials(session: AsyncSession) -> dict[str, uuid.UUID]:
    """Active devices with a current secret: wire id to credential id."""
    rows = await session.execute(
        select(Device.device_id, DeviceCredential.id)
        .join(DeviceCredential, DeviceCredential.device_uuid == Device.id)
        .where(Device.status == DeviceStatus.ACTIVE, DeviceCredential.revoked_at.is_(None))
    )
    return {device_id: credential_id for device_id, credential_id in rows}


async def sync_broker(
    *, session: AsyncSession, broker: BrokerAccess, ingest: Account | None = None
) -> SyncReport:
    """Brings the broker in line with the registry; every step is idempotent."""
    wanted = await registry_credentials(session)
    report = SyncReport()
    [clients_answer, roles_answer] = await broker.run(
        [
            {"command": "listClients", "verbose": True, "count": -1, "offset": 0},
            {"command": "listRoles", "verbose": True, "count": -1, "offset": 0},
        ]
    )
    clients = {c["username"]: c for c in clients_answer.get("data", {}).get("clients", [])}
    roles = {r["rolename"]: r for r in roles_answer.get("data", {}).get("roles", [])}

    commands: list[Command] = [dynsec.default_access_command()]
    commands += _repair_role(dynsec.INGEST_ROLE, dynsec.ingest_acls(), roles, report)
    kept: set[str] = set()
    for username, client in clients.items():
        credential = dynsec.credential_of(client)
        if credential is None:
            continue
        if wanted.get(username) != credential:
            commands += dynsec.removal_commands(username)
            report.removed.append(username)
            continue
        kept.add(username)
        role = dynsec.device_role(username)
        commands += _repair_role(role, dynsec.device_acls(username), roles, report)
        if role not in _role_names(client):
            commands.append({"command": "addClientRole", "username": username, "rolename": role})
    for rolename in roles:
        device_id = rolename.removeprefix(dynsec.DEVICE_ROLE_PREFIX)
        if rolename.startswith(dynsec.DEVICE_ROLE_PREFIX) and device_id not in kept:
            commands.append({"command": "deleteRole", "rolename": rolename})
    report.missing = sorted(set(wanted) - kept)
    await broker.run(commands)
    if ingest is not None:
        report.ingest = await _sync_ingest(broker, ingest, clients.get(ingest.username))
    for device_id in report.missing:
        logger.warning("device %s is active but the broker lacks its secret; issue it a new one", device_id)
    return report


def _role_names(entry: dict[str, Any]) -> set[str]:
    return {role.get("rolename", "") for role in entry.get("roles", [])}


def _acl_key(acl: dict[str, Any]) -> AclKey:
    return (acl["acltype"], acl["topic"], bool(acl.get("allow")), int(acl.get("priority", 0)))


def _repair_role(
    rolename: str, acls: list[dict[str, Any]], roles: dict[str, Any], report: SyncReport
) -> list[Command]:
    """Commands that give the role exactly `acls`; none when it already has them."""
    existing = roles.get(rolename)
    if existing is None:
        report.repaired_roles.append(rolename)
        return dynsec.role_commands(rolename, acls)
    have = {_acl_key(acl): acl for acl in existing.get("acls", [])}
    want = {_acl_key(acl): acl for acl in acls}
    if have.keys() == want.keys():
        return []
    report.repaired_roles.append(rolename)
    commands: list[Command] = [
        {"command": "removeRoleACL", "rolename": rolename, "acltype": acl["acltype"], "topic": acl["topic"]}
        for key, acl in have.items()
        if key not in want
    ]
    commands += [
        {"command": "addRoleACL", "rolename": rolename, **acl} for key, acl in want.items() if key not in have
    ]
    return commands


async def _sync_ingest(broker: BrokerAccess, ingest: Account, existing: dict[str, Any] | None) -> str:
    if existing is None:
        await broker.run(
            [
                {
                    "command": "createClient",
                    "username": ingest.username,
                    "password": ingest.password,
                    "textname": "Ownat ingest workers",
                    "roles": [{"rolename": dynsec.INGEST_ROLE}],
                }
            ]
        )
        return "created"
    outcome = "unchanged"
    if dynsec.INGEST_ROLE not in _role_names(existing):
        await broker.run(
            [{"command": "addClientRole", "username": ingest.username, "rolename": dynsec.INGEST_ROLE}]
        )
        outcome = "repaired"
    address, timeout_s = broker.client.address, broker.client.timeout_s
    if not await accepts_login(address, ingest.username, ingest.password, timeout_s=timeout_s):
        command = {"command": "setClientPassword", "username": ingest.username, "password": ingest.password}
        await broker.run([command])
        outcome = "password reset"
    return outcome
